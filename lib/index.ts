/**
 * dgc-privacy: Deep Gradient Compression against the DLG attack, on TensorFlow.js.
 * Data flow: data → models → optim → train / attack → metrics → viz.
 */
export { tf, variableFrom, unaryCustomGrad } from "./tf";
export * from "./backend";
export * from "./rng";
export * from "./pyfmt";
export * from "./config";
export * from "./data/idx";
export * from "./data/mnist";
export * from "./data/batcher";
export * from "./models";
export * from "./losses";
export * from "./optim";
export * from "./train";
export * from "./attack";
export * from "./results";
export * from "./lock";
export * from "./stdio";
export * from "./metrics";
export * from "./demo";
export * from "./sweep";
export * from "./viz";
export * from "./seed_results";
export * from "./federated";
export * from "./batch";
