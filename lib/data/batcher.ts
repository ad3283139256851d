/**
 * Mini-batches, as Paddle's DataLoader(shuffle=True, drop_last=False) gives them: a fresh
 * permutation every epoch, the last batch short. Batches are built from typed-array rows, not by
 * slicing a big tensor (on wasm a slice of the [60000, 784] tensor costs ~0.7 s).
 */
import { rowSize, type ImageSplit } from "./dataset";
import type { Rng } from "../core/rng";

export interface Batch {
  /** Batch index within the epoch. */
  id: number;
  /** Indices into the split. */
  index: Int32Array;
  /** Images, size rows of the data set's c·h·w values (MNIST: 784 in [-1, 1]). */
  x: Float32Array;
  /** Labels 0..9. */
  y: Int32Array;
  size: number;
}

export function gatherBatch(data: ImageSplit, index: Int32Array, id = 0): Batch {
  const PIXELS = rowSize(data);
  const x = new Float32Array(index.length * PIXELS);
  const y = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) {
    x.set(data.images.subarray(index[i] * PIXELS, (index[i] + 1) * PIXELS), i * PIXELS);
    y[i] = data.labels[index[i]];
  }
  return { id, index, x, y, size: index.length };
}

export function numBatches(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** Yields the batches of one epoch; `rng` shuffles (null keeps the file order). */
export function* epochBatches(data: ImageSplit, batchSize: number, rng: Rng | null): Generator<Batch> {
  const order = rng ? rng.permutation(data.n) : Int32Array.from({ length: data.n }, (_, i) => i);
  for (let id = 0, start = 0; start < data.n; id++, start += batchSize) {
    yield gatherBatch(data, order.subarray(start, Math.min(start + batchSize, data.n)), id);
  }
}
