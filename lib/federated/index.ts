export * from "./split";
export * from "./bytes";
export * from "./client";
export * from "./simulation";
export * from "./config";
export * from "./attack";
export * from "./run";
export * from "./study";
