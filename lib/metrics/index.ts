/**
 * Attack metrics with the seed's conventions: images in [-1, 1], no rescaling.
 * (Provisional single-file version; the tested module with fixtures lands separately.)
 */
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** 20·log10(1/√mse): peak value 1 although the range is 2, as the seed computes it. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return 20 * Math.log10(1 / Math.sqrt(mse(a, b)));
}

function gaussianWindow(size = 11, sigma = 1.5): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  return g.map((v) => v / s);
}

/** Separable "same"-size filtering with zero padding. */
function blur(x: Float64Array, h: number, w: number, g: Float64Array): Float64Array {
  const r = (g.length - 1) / 2;
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let k = -r; k <= r; k++) if (j + k >= 0 && j + k < w) s += g[k + r] * x[i * w + j + k];
      tmp[i * w + j] = s;
    }
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let k = -r; k <= r; k++) if (i + k >= 0 && i + k < h) s += g[k + r] * tmp[(i + k) * w + j];
      out[i * w + j] = s;
    }
  return out;
}

/** Mean SSIM over all images: 11×11 Gaussian (σ 1.5), zero padding, C1 = 0.01², C2 = 0.03². */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, dims: { batch: number; height: number; width: number }): number {
  const { batch, height: h, width: w } = dims;
  const g = gaussianWindow();
  const n = h * w;
  let total = 0;
  for (let k = 0; k < batch; k++) {
    const x = Float64Array.from({ length: n }, (_, i) => a[k * n + i]);
    const y = Float64Array.from({ length: n }, (_, i) => b[k * n + i]);
    const mx = blur(x, h, w, g);
    const my = blur(y, h, w, g);
    const xx = blur(x.map((v) => v * v), h, w, g);
    const yy = blur(y.map((v) => v * v), h, w, g);
    const xy = blur(x.map((v, i) => v * y[i]), h, w, g);
    for (let i = 0; i < n; i++) {
      const sx = xx[i] - mx[i] ** 2;
      const sy = yy[i] - my[i] ** 2;
      const sxy = xy[i] - mx[i] * my[i];
      total += ((2 * mx[i] * my[i] + C1) * (2 * sxy + C2)) / ((mx[i] ** 2 + my[i] ** 2 + C1) * (sx + sy + C2));
    }
  }
  return total / (batch * n);
}

/** Fraction of samples with argmax(dummy label) = true label (ties: first index). */
export function labelAccuracy(dummyLabels: ArrayLike<number>, trueLabels: ArrayLike<number>, classes = 10): number {
  let correct = 0;
  for (let b = 0; b < trueLabels.length; b++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (dummyLabels[b * classes + j] > dummyLabels[b * classes + best]) best = j;
    if (best === trueLabels[b]) correct++;
  }
  return correct / trueLabels.length;
}

export function attackMetrics(dummyX: ArrayLike<number>, targetX: ArrayLike<number>, dummyY: ArrayLike<number>, labels: ArrayLike<number>, batch: number) {
  return {
    mse: mse(dummyX, targetX),
    psnr: psnr(dummyX, targetX),
    ssim: ssim(dummyX, targetX, { batch, height: 28, width: 28 }),
    labelAcc: labelAccuracy(dummyY, labels),
  };
}
