/**
 * Backend selection. "auto" is wasm: measured with `npm run bench` on these 2-core machines it is
 * the fastest for every workload here — per-op overhead dominates the tiny Linear model, and our
 * convolutions are im2col kernels plus matMul rather than native convs, so tfjs-node
 * ("tensorflow", optional, see scripts/setup-tfjs-node.sh) has nothing to win back with.
 */
import { tf } from "./tf";

export const BACKENDS = ["auto", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

let nodeTried = false;
let nodeError: string | undefined;

/** Loads @tensorflow/tfjs-node if it is installed and its addon loads; never throws. */
export function tryLoadTfjsNode(): boolean {
  if (!nodeTried) {
    nodeTried = true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      process.env.TF_CPP_MIN_LOG_LEVEL ??= "2"; // TensorFlow's C++ start-up chatter
      require("@tensorflow/tfjs-node");
    } catch (e) {
      nodeError = e instanceof Error ? e.message.split("\n")[0] : String(e);
    }
  }
  return tf.findBackend("tensorflow") !== null && tf.findBackend("tensorflow") !== undefined;
}

function loadWasm(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
}

/** Sets the tfjs backend and returns the name of the one that runs. Throws a one-line error. */
export async function initBackend(choice: BackendChoice): Promise<string> {
  const name = choice === "auto" ? "wasm" : choice;
  if (name === "tensorflow" && !tryLoadTfjsNode()) {
    throw new Error(`backend 'tensorflow' is not available: @tensorflow/tfjs-node did not load (${nodeError ?? "not installed"}); run 'npm run setup:tfjs-node' or use --backend wasm`);
  }
  if (name === "wasm") loadWasm();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
  // The cpu backend warns about tfjs-node on its first tensor; we print the backend ourselves.
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return tf.getBackend();
}
