/** The page's bundled MNIST sample (written by web/extract.ts at build time), and how to read it. */
export const PIXELS = 784;

export interface SampleFile {
  note: string;
  /** The first images of MNIST's test split: uint8 pixels, base64. */
  test: { labels: number[]; pixels: string };
  /** The CLI's attack victim for each seed: the first image of epoch 0's shuffle of the training split. */
  victims: { seeds: number[]; labels: number[]; trainIndex: number[]; pixels: string };
  /** The training set's mean image, float32 in [−1, 1], base64. */
  mean: string;
}

export interface Sample {
  testLabels: number[];
  testPixels: Uint8Array;
  victimLabels: number[];
  victimIndex: number[];
  victimPixels: Uint8Array;
  mean: Float32Array;
}

function bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function decodeSample(f: SampleFile): Sample {
  const m = bytes(f.mean);
  return {
    testLabels: f.test.labels, testPixels: bytes(f.test.pixels),
    victimLabels: f.victims.labels, victimIndex: f.victims.trainIndex, victimPixels: bytes(f.victims.pixels),
    mean: new Float32Array(m.buffer, m.byteOffset, PIXELS),
  };
}

/** uint8 pixels → [−1, 1], as lib/data/mnist.ts normalizes them (mean 127.5, std 127.5, in float32). */
export function normalize(px: ArrayLike<number>): Float32Array {
  return Float32Array.from(px, (v) => (v - 127.5) / 127.5);
}
