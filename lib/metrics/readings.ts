/**
 * Readings beside the seed's metrics (whose log line stays as it is):
 *
 * - `ssim8`: a standard SSIM on the 8-bit images as the PNGs store them (`toUint8`:
 *   ⌊(x + 1)·127.5⌋ clamped to [0, 255]), computed by ssim.js's "original" algorithm — a port of
 *   Wang et al. 2004's ssim.m: 11×11 Gaussian window σ 1.5, 'valid' filtering, K1 = .01, K2 = .03,
 *   L = 255, no downsampling at 28×28. The seed's SSIM (image.ts) differs: float [−1, 1] values,
 *   zero padding, C1 = .01², C2 = .03² for a range of 2.
 * - sign-aware: gradient inversion can land on the photographic negative of the digit (−x' in
 *   [−1, 1], 255 − v in 8 bits), which a reader recognizes at once but PSNR scores as noise. Each
 *   image is read in the polarity (x' or −x') with the higher PSNR against its target; `inverted`
 *   counts the images read as negatives. A reconstruction is "recovered" by the project's rule
 *   (PSNR ≥ the mean image's PSNR + 3 dB); "recovered inverted" when only its negative meets it.
 */
import { ssim as ssimJs } from "ssim.js";
import { psnr, type FloatArray, type ImageShape } from "./image";

/**
 * The 8-bit pixels the PNGs store: ⌊(x + 1)·127.5⌋, clamped (the seed's uint8 cast wraps values
 * outside [−1, 1]; clamping shows an overshooting dummy image saturated rather than as noise).
 */
export function toUint8(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, Math.min(255, Math.floor((x[i] + 1) * 127.5)));
  return out;
}

/** ssim.js settings for the standard SSIM of ssim.m on 8-bit gray images. */
const SSIM8_OPTIONS = { ssim: "original", windowSize: 11, k1: 0.01, k2: 0.03, bitDepth: 8, downsample: false, rgb2grayVersion: "integer" } as const;

/** One 8-bit gray image as the RGBA ImageData ssim.js reads (gray replicated, alpha 255). */
function rgba(gray: Uint8Array, width: number, height: number) {
  const data = new Uint8ClampedArray(gray.length * 4);
  for (let i = 0; i < gray.length; i++) {
    data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = gray[i];
    data[4 * i + 3] = 255;
  }
  return { data, width, height };
}

/** The standard SSIM of the 8-bit PNG images, averaged over the batch. */
export function ssim8(a: FloatArray, b: FloatArray, shape: ImageShape): number {
  const { batch, height: h, width: w } = shape;
  const n = h * w;
  if (a.length !== batch * n || b.length !== batch * n) throw new Error(`ssim8: ${a.length} and ${b.length} values do not make ${batch}×${h}×${w} images`);
  let total = 0;
  for (let i = 0; i < batch; i++) {
    const ia = rgba(toUint8(a.subarray(i * n, (i + 1) * n)), w, h);
    const ib = rgba(toUint8(b.subarray(i * n, (i + 1) * n)), w, h);
    total += ssimJs(ia, ib, SSIM8_OPTIONS).mssim;
  }
  return total / batch;
}

/**
 * The standard SSIM of colour images as 8-bit PNGs store them (round(255·x) clamped, x a [0, 1] CHW
 * image: CIFAR-10's ToTensor range): ssim.m's on each of the R, G, B planes (as `ssim8`'s settings,
 * L = 255), averaged over the three channels (skimage's channel_axis mean), then over the batch.
 */
export function ssim8Rgb(a: FloatArray, b: FloatArray, shape: ImageShape): number {
  const { batch, height: h, width: w } = shape;
  const n = h * w;
  if (a.length !== batch * 3 * n || b.length !== batch * 3 * n) throw new Error(`ssim8Rgb: ${a.length} and ${b.length} values do not make ${batch}×3×${h}×${w} images`);
  const plane = (x: FloatArray, at: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.max(0, Math.min(255, Math.round(x[at + i] * 255)));
    return rgba(out, w, h);
  };
  let total = 0;
  for (let i = 0; i < batch * 3; i++) total += ssimJs(plane(a, i * n), plane(b, i * n), SSIM8_OPTIONS).mssim;
  return total / (batch * 3);
}

export interface SignAwareReading {
  /** PSNR and 8-bit SSIM with each image in its better polarity. */
  psnr: number;
  ssim8: number;
  /** How many images read better as their negative. */
  inverted: number;
}

/** Each image in the polarity (x' or −x') that matches its target better by PSNR. */
export function signAware(x: FloatArray, target: FloatArray, shape: ImageShape): SignAwareReading {
  const n = shape.height * shape.width;
  const chosen = new Float64Array(x.length);
  let inverted = 0;
  for (let i = 0; i < shape.batch; i++) {
    const xi = x.subarray(i * n, (i + 1) * n);
    const ti = target.subarray(i * n, (i + 1) * n);
    const neg = Float64Array.from(xi, (v) => -v);
    const flip = psnr(neg, ti) > psnr(xi, ti);
    if (flip) inverted++;
    chosen.set(flip ? neg : xi, i * n);
  }
  return { psnr: psnr(chosen, target), ssim8: ssim8(chosen, target, shape), inverted };
}

export type Recovery = "recovered" | "recovered inverted" | "not recovered";

/** How far above the mean image's PSNR a reconstruction must score to count as recovered. */
export const RECOVERY_MARGIN_DB = 3;

/**
 * The project's rule, the one place it is written: recovered when PSNR ≥ baseline + RECOVERY_MARGIN_DB,
 * the baseline being the PSNR of the training set's mean image against the same target (what an
 * attacker knows without any gradient).
 */
export function isRecovered(psnrValue: number, baselinePsnr: number): boolean {
  return psnrValue >= baselinePsnr + RECOVERY_MARGIN_DB;
}

/** `isRecovered` as is, else in the sign-aware reading ("recovered inverted"). */
export function recovery(psnrAsIs: number, psnrSignAware: number, baselinePsnr: number): Recovery {
  return isRecovered(psnrAsIs, baselinePsnr) ? "recovered" : isRecovered(psnrSignAware, baselinePsnr) ? "recovered inverted" : "not recovered";
}
