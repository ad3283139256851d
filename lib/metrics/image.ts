/**
 * Image metrics with the seed's exact conventions (SPEC.md, "Metrics"): images are float [-1, 1]
 * arrays laid out as [B, 1, H, W], used as they are (no rescaling). Plain TypeScript with
 * double-precision accumulation rather than tfjs, so the numbers are exact and the same on every
 * backend.
 */

export type FloatArray = Float32Array | Float64Array;

/** B single-channel images of H×W, row-major (the [B, 1, H, W] layout). */
export interface ImageShape {
  batch: number;
  height: number;
  width: number;
}

function checkSameLength(a: FloatArray, b: FloatArray): void {
  if (a.length !== b.length) throw new Error(`metrics: length mismatch (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new Error("metrics: empty input");
}

/** Mean of the squared differences over every element. */
export function mse(a: FloatArray, b: FloatArray): number {
  checkSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return sum / a.length;
}

/**
 * 20·log10(1 / sqrt(mse)): peak value 1 although [-1, 1] spans 2, because that is what the seed's
 * numbers use. Identical inputs give Infinity.
 */
export function psnr(a: FloatArray, b: FloatArray): number {
  const m = mse(a, b);
  return m === 0 ? Infinity : 20 * Math.log10(1 / Math.sqrt(m));
}

const SSIM_RADIUS = 5; // 11×11 window
const SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** The 1-D Gaussian, normalized to sum 1; its outer product is the normalized 11×11 window. */
function gaussian1d(radius: number, sigma: number): Float64Array {
  const g = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += g[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < g.length; i++) g[i] /= sum;
  return g;
}
const WINDOW = gaussian1d(SSIM_RADIUS, SSIM_SIGMA);

/**
 * "Same"-size Gaussian filter of one H×W image with zero padding. The window is an outer product,
 * so a horizontal then a vertical pass is exact; outside the image counts as 0 in both passes.
 */
function blur(src: Float64Array, h: number, w: number, tmp: Float64Array, out: Float64Array): void {
  const r = SSIM_RADIUS;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = Math.max(-r, -x); k <= Math.min(r, w - 1 - x); k++) s += WINDOW[k + r] * src[y * w + x + k];
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = Math.max(-r, -y); k <= Math.min(r, h - 1 - y); k++) s += WINDOW[k + r] * tmp[(y + k) * w + x];
      out[y * w + x] = s;
    }
  }
}

/**
 * Mean of the SSIM map over all pixels of all images: 11×11 Gaussian window (σ 1.5, sum 1), zero
 * padding with "same" output size, C1 = 0.01², C2 = 0.03², on the [-1, 1] values directly.
 * Per pixel ((2μxμy + C1)(2σxy + C2)) / ((μx² + μy² + C1)(σx² + σy² + C2)), where σx² = G*(x²) − μx²
 * and σxy = G*(xy) − μxμy.
 */
export function ssim(a: FloatArray, b: FloatArray, shape: ImageShape): number {
  checkSameLength(a, b);
  const { batch, height: h, width: w } = shape;
  const n = h * w;
  if (batch * n !== a.length) throw new Error(`ssim: ${a.length} values do not make ${batch}×1×${h}×${w} images`);
  // x, y, x², y², xy of one image, then their filtered versions.
  const planes = Array.from({ length: 5 }, () => new Float64Array(n));
  const mu = Array.from({ length: 5 }, () => new Float64Array(n));
  const tmp = new Float64Array(n);
  let total = 0;
  for (let img = 0; img < batch; img++) {
    const [px, py, pxx, pyy, pxy] = planes;
    for (let i = 0; i < n; i++) {
      const x = a[img * n + i];
      const y = b[img * n + i];
      px[i] = x;
      py[i] = y;
      pxx[i] = x * x;
      pyy[i] = y * y;
      pxy[i] = x * y;
    }
    for (let p = 0; p < 5; p++) blur(planes[p], h, w, tmp, mu[p]);
    const [mx, my, gxx, gyy, gxy] = mu;
    for (let i = 0; i < n; i++) {
      const vx = gxx[i] - mx[i] * mx[i];
      const vy = gyy[i] - my[i] * my[i];
      const cxy = gxy[i] - mx[i] * my[i];
      total += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
    }
  }
  return total / a.length;
}
