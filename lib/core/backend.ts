/**
 * Backend selection. `auto` picks, per workload, the backend measured fastest by `npm run bench`
 * on these 2-core machines (environment.md, "Backends"):
 *   - Linear, anything: wasm — per-op overhead dominates the tiny model, and wasm's is the lowest;
 *   - LeNet training (first order: native convolutions, conv2dFirstOrder): tensorflow (tfjs-node,
 *     TensorFlow's own conv kernels) when it loads, else wasm;
 *   - LeNet attacks (second order: im2col convolutions, many small ops): wasm.
 * tfjs-node is optional (an optionalDependency that needs `npm run setup:tfjs-node` here).
 */
import { tf } from "./tf";

export const BACKENDS = ["auto", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

/** What a run does, for `auto`: train a model (first-order gradients) or attack it (second order). */
export interface Workload {
  /** The model's kind ("linear", "lenet", …): only which family it is matters here. */
  model: string;
  task: "train" | "attack";
}

/** TensorFlow's intra-op threads when TF_NUM_INTRAOP_THREADS is unset (see tryLoadTfjsNode). */
export const TF_THREADS = 1;

let nodeTried = false;
let nodeError: string | undefined;

/** Loads @tensorflow/tfjs-node if it is installed and its addon loads; never throws. */
export function tryLoadTfjsNode(): boolean {
  if (!nodeTried) {
    nodeTried = true;
    try {
      process.env.TF_CPP_MIN_LOG_LEVEL ??= "2"; // TensorFlow's C++ start-up chatter
      // One intra-op thread unless the user sets it: LeNet's ops are too small to split, and
      // TensorFlow's default pool (one thread per core) made a training step 1.2–1.4× slower on
      // the 2-core machines (docs/performance.md). Read once, when the library loads.
      process.env.TF_NUM_INTRAOP_THREADS ??= String(TF_THREADS);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
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
  shareIdentityOnWasm();
}

interface RefCountingBackend {
  incRef(dataId: object): void;
}
/**
 * wasm's Identity kernel copies its input (a heap allocation and a copy), and tfjs's engine runs it
 * for every tensor it saves for a backward pass (Engine.clone: 191 clones per LeNet DLG
 * evaluation); tfjs's gradients also cast float32 to float32 (40 per evaluation), another copy.
 * Tensors are immutable and the wasm backend counts references to its buffers (its disposeData
 * frees one at zero; its own Reshape shares this way), so share the buffer instead, as tfjs's cpu
 * backend does. Paired runs: 12–14 % less CPU per LeNet DLG evaluation. The attacks'
 * second-order tests and the tensor-leak tests run on it.
 */
function shareIdentityOnWasm(): void {
  const share = (kernelName: string, unchanged: (args: Parameters<tf.KernelFunc>[0]) => boolean) => {
    const original = tf.getKernel(kernelName, "wasm");
    if (!original || (original as { shared?: boolean }).shared) return;
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        if (x.dtype === "string" || !unchanged(args)) return original.kernelFunc(args);
        (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
      shared: true,
    } as tf.KernelConfig);
  };
  share("Identity", () => true);
  share("Cast", (args) => (args.attrs as { dtype?: string }).dtype === (args.inputs.x as tf.TensorInfo).dtype);
}

/** The backend `auto` means for a workload (no workload: wasm, the fastest for the seed's Linear model). */
export function autoBackend(workload?: Workload): "tensorflow" | "wasm" {
  if (workload?.model === "lenet" && workload.task === "train" && tryLoadTfjsNode()) return "tensorflow";
  return "wasm";
}

/** Sets the tfjs backend and returns the name of the one that runs. Throws a one-line error. */
export async function initBackend(choice: BackendChoice, workload?: Workload): Promise<string> {
  const name = choice === "auto" ? autoBackend(workload) : choice;
  if (name === "tensorflow" && !tryLoadTfjsNode()) {
    throw new Error(`backend 'tensorflow' is not available: @tensorflow/tfjs-node did not load (${nodeError ?? "not installed"}); run 'npm run setup:tfjs-node' or choose the backend wasm`);
  }
  if (name === "wasm") loadWasm();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
  // The cpu backend warns about tfjs-node on its first tensor; we print the backend ourselves.
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return tf.getBackend();
}

/** The backend as the CLIs print it: its name, and TensorFlow's thread count where that is the backend. */
export function describeBackend(name: string): string {
  return name === "tensorflow" ? `tensorflow (${process.env.TF_NUM_INTRAOP_THREADS} intra-op thread${process.env.TF_NUM_INTRAOP_THREADS === "1" ? "" : "s"})` : name;
}
