/**
 * A model is a pure function of its parameters: `forward(params, x)`. Keeping the parameters
 * explicit (not hidden in layers) is what lets DLG differentiate the parameter gradient with
 * respect to the input, and lets the optimizers and the attack share one description.
 */
import type { tf } from "../core/tf";
import type { Rng } from "../core/rng";

/** The seed's Linear and the DLG paper's LeNet (MNIST); LeNet for 3 × 32 × 32 and a small ReLU ConvNet (CIFAR-10). */
export type ModelKind = "linear" | "lenet" | "lenet-cifar" | "convnet";

export interface Model {
  readonly kind: ModelKind;
  /** Parameter names in their fixed order (the order of `init`, `forward` and every gradient list). */
  readonly paramNames: readonly string[];
  readonly paramShapes: readonly (readonly number[])[];
  /** The images it takes: [channels, height, width] (each row of `forward`'s x holds c·h·w values, CHW). */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes (the logits' width). */
  readonly classes: number;
  /** Fresh initial parameters drawn from rng. */
  init(rng: Rng): tf.Tensor[];
  /** x: [B, c·h·w] images, CHW (MNIST: [B, 784] in [-1, 1]); returns logits [B, classes]. */
  forward(params: readonly tf.Tensor[], x: tf.Tensor, opts?: ForwardOptions): tf.Tensor;
  /**
   * Optional closed-form gradients: the same numbers as autodiff (test/core/fastpath.test.ts) with far
   * fewer tfjs ops, which is what costs time on a model this small.
   */
  readonly closedForm?: ClosedFormGradients;
  /**
   * Optional hand-written first-order backward passes, per tfjs backend: training's cross-entropy
   * gradient without tfjs's tape (LeNet on tensorflow), the same numbers as autodiff.
   */
  readonly backprop?: Partial<Record<string, CrossEntropyGradients>>;
}

export type CrossEntropyGradients = (params: readonly tf.Tensor[], x: tf.Tensor2D, labels: Int32Array) => { loss: number; correct: number; grads: tf.Tensor[] };

export interface ForwardOptions {
  /**
   * Only first-order gradients will be taken through this forward pass (training, the victim's own
   * gradient), so the model may use faster ops whose gradient cannot be differentiated again
   * (LeNet: native convolutions). Default false: every order is right (what DLG needs).
   */
  firstOrder?: boolean;
}

export interface ClosedFormGradients {
  /** Mean softmax cross-entropy of a batch, how many it classifies right, and the parameter gradients. */
  crossEntropy: CrossEntropyGradients;
  /**
   * DLG's distance D(x', y') = Σ_t ‖∂L/∂θ_t − g_t‖² / numel_t with L = Σ(net(x') − y')², and its
   * gradients with respect to x' and y', on JS arrays: `step` writes ∂D/∂x' into gx and ∂D/∂y'
   * into gy ([B × 784], [B × 10], like x and y) and returns D. Parameters and observed gradients are
   * read once, here.
   */
  dlgDistance(params: readonly tf.Tensor[], observed: readonly tf.Tensor[]): {
    step(x: Float32Array, y: Float32Array, gx: Float32Array, gy: Float32Array): number;
  };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Rows (header first) describing a model's parameters, in their fixed order. */
export function modelSummary(m: Model): string[][] {
  const rows = m.paramNames.map((name, i) => [name, m.paramShapes[i].join(" × "), String(numel(m.paramShapes[i]))]);
  const total = m.paramShapes.reduce((a, s) => a + numel(s), 0);
  return [["parameter", "shape", "entries"], ...rows, ["total", "", String(total)]];
}

/** Values per input image of a model: channels × height × width. */
export function pixelsOf(model: Pick<Model, "inputShape">): number {
  const [c, h, w] = model.inputShape;
  return c * h * w;
}

/** The images of a batch of B as the metrics take them: B·c single-channel planes of h × w. */
export function planesOf(model: Pick<Model, "inputShape">, batch: number): { batch: number; height: number; width: number } {
  const [c, h, w] = model.inputShape;
  return { batch: batch * c, height: h, width: w };
}
