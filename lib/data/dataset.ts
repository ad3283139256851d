/**
 * What a data set's images look like, so that models, attacks and figures need not assume MNIST.
 * Images are kept flat, one row of channels × height × width values per image, in channel-major
 * (C, H, W) order — PyTorch's [N, C, H, W] layout; for one channel that is the row-major image.
 */

export interface DatasetShape {
  /** "mnist", "cifar10", … */
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Number of classes; labels are 0 … classes − 1. */
  readonly classes: number;
  /** The class names in label order. */
  readonly classNames: readonly string[];
  /** The range the loader maps pixels to: MNIST [−1, 1] (the seed's), CIFAR-10 [0, 1] (ToTensor). */
  readonly range: readonly [number, number];
}

/** Values per image: channels × height × width. */
export function imageSize(s: Pick<DatasetShape, "channels" | "height" | "width">): number {
  return s.channels * s.height * s.width;
}

/** One split of a data set: images flat ([n × channels·height·width], CHW) and labels. */
export interface ImageSplit {
  split: "train" | "test";
  n: number;
  /**
   * Values per image (c·h·w). Absent: MNIST's 784, the seed's data set. Kept apart from
   * images.length / n because a split may be a prefix view ({ ...data, n: 1920 }) of a longer buffer.
   */
  pixels?: number;
  /** The range the loader maps pixels to (the attacks' box); absent: MNIST's [−1, 1]. */
  range?: readonly [number, number];
  images: Float32Array;
  labels: Uint8Array;
}

/** Values per image of a split: its `pixels`, else MNIST's 28 × 28. */
export function rowSize(data: Pick<ImageSplit, "pixels">): number {
  return data.pixels ?? 784;
}

/** The per-value mean image of a split (float64 sums, as MNIST's `meanImage`). */
export function splitMean(data: Pick<ImageSplit, "n" | "images" | "pixels">): Float32Array {
  const P = rowSize(data);
  const m = new Float64Array(P);
  for (let i = 0; i < data.n; i++) for (let p = 0; p < P; p++) m[p] += data.images[i * P + p];
  return Float32Array.from(m, (v) => v / data.n);
}
