/**
 * Images as PNG (sharp): the seed's files, grids of digits, and signed heat maps.
 * The seed writes uint8((x + 1) · 127.5) of a [-1, 1] image, reshaped 28 × 28; numpy's uint8 cast
 * wraps values outside [0, 255], we clamp instead, so a dummy image that overshoots [-1, 1] shows
 * saturated rather than as noise.
 */
import sharp from "sharp";
import { toUint8 } from "../metrics/readings";


function encode(pixels: Uint8Array, width: number, height: number, channels: 1 | 3, scale: number): Promise<Buffer> {
  let img = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  if (scale !== 1) img = img.resize(width * scale, height * scale, { kernel: "nearest" });
  return (channels === 1 ? img.toColourspace("b-w") : img).png().toBuffer();
}

/** A grayscale PNG of one [-1, 1] image, optionally upscaled (nearest neighbour). */
export async function grayPng(x: ArrayLike<number>, width = 28, height = 28, scale = 1): Promise<Buffer> {
  return encode(toUint8(x), width, height, 1, scale);
}

export interface GridOptions {
  width?: number;
  height?: number;
  /** 3: colour [0, 1] CHW images (CIFAR-10; cells default to 32 × 32), drawn by `rgbGridPng`; default 1, grey [−1, 1]. */
  channels?: 1 | 3;
  /** Upscaling factor (nearest neighbour), so digits stay crisp; default 2. */
  scale?: number;
  /** White pixels between cells; default 2. */
  gap?: number;
}

/** Lays cells of `channels` bytes per pixel on a canvas of grey level `background`. */
function layout(rows: Uint8Array[][], w: number, h: number, gap: number, channels: 1 | 3, background = 255) {
  const cols = Math.max(...rows.map((r) => r.length));
  const W = cols * w + (cols + 1) * gap;
  const H = rows.length * h + (rows.length + 1) * gap;
  const canvas = new Uint8Array(W * H * channels).fill(background);
  rows.forEach((row, r) =>
    row.forEach((cell, c) => {
      const top = gap + r * (h + gap);
      const left = gap + c * (w + gap);
      for (let y = 0; y < h; y++) canvas.set(cell.subarray(y * w * channels, (y + 1) * w * channels), ((top + y) * W + left) * channels);
    }),
  );
  return { canvas, W, H };
}

/** A grid of [-1, 1] images (rows × columns) as one grayscale PNG with white gaps. */
export async function gridPng(rows: ArrayLike<number>[][], opts: GridOptions = {}): Promise<Buffer> {
  if (opts.channels === 3) return rgbGridPng(rows, opts);
  const w = opts.width ?? 28;
  const h = opts.height ?? 28;
  const { canvas, W, H } = layout(rows.map((r) => r.map(toUint8)), w, h, opts.gap ?? 2, 1);
  return encode(canvas, W, H, 1, opts.scale ?? 2);
}

/** Blue (negative) – white (0) – red (positive), for values already divided by their range. */
function diverging(t: number): [number, number, number] {
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - a));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/**
 * Signed maps (e.g. the weight gradient of each class, 28 × 28) as a grid of heat maps sharing one
 * symmetric colour scale, ±max|value| over the whole grid, so rows can be compared. Exact zeros are
 * white: entries DGC did not send stand out.
 */
export async function heatmapGridPng(rows: ArrayLike<number>[][], opts: GridOptions = {}): Promise<Buffer> {
  const w = opts.width ?? 28;
  const h = opts.height ?? 28;
  let max = 0;
  for (const row of rows) for (const m of row) for (let i = 0; i < m.length; i++) max = Math.max(max, Math.abs(m[i]));
  const cells = rows.map((row) =>
    row.map((m) => {
      const rgb = new Uint8Array(m.length * 3);
      for (let i = 0; i < m.length; i++) rgb.set(diverging(max > 0 ? m[i] / max : 0), 3 * i);
      return rgb;
    }),
  );
  // grey gaps: white is a value here (zero, or not sent)
  const { canvas, W, H } = layout(cells, w, h, opts.gap ?? 2, 3, 128);
  return encode(canvas, W, H, 3, opts.scale ?? 3);
}

/** The images of a batch ([B × pixels], row-major) as separate arrays (views, no copy). */
export function splitImages(x: Float32Array, batch: number): Float32Array[] {
  const n = x.length / batch;
  return Array.from({ length: batch }, (_, i) => x.subarray(i * n, (i + 1) * n));
}

/**
 * The columns of a [rows, cols] matrix as images: for the Linear model's weight gradient
 * ([784, 10], as Paddle stores it) the 28 × 28 gradient of each class.
 */
export function columnsAsImages(m: Float32Array, cols = 10): Float32Array[] {
  const rows = m.length / cols;
  return Array.from({ length: cols }, (_, j) => {
    const img = new Float32Array(rows);
    for (let i = 0; i < rows; i++) img[i] = m[i * cols + j];
    return img;
  });
}

/**
 * Colour images (CIFAR-10): one [0, 1] image in CHW order (3 planes of width × height, as the loader
 * and the models hold it) as interleaved 8-bit RGB, round(255·x) clamped to [0, 255] — the inverse
 * of the loader's v / 255, so a loaded image gives back its file's bytes exactly.
 */
export function rgbBytes(x: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  if (x.length !== 3 * n) throw new Error(`rgbBytes: ${x.length} values do not make a 3 × ${height} × ${width} image`);
  const out = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++) for (let p = 0; p < n; p++) out[3 * p + c] = Math.max(0, Math.min(255, Math.round(x[c * n + p] * 255)));
  return out;
}

/** A colour PNG of one [0, 1] CHW image (default 32 × 32), optionally upscaled (nearest neighbour). */
export async function rgbPng(x: ArrayLike<number>, width = 32, height = 32, scale = 1): Promise<Buffer> {
  return encode(rgbBytes(x, width, height), width, height, 3, scale);
}

/** A grid of [0, 1] CHW colour images (rows × columns) as one RGB PNG with white gaps (default 32 × 32 cells, scale 2). */
export async function rgbGridPng(rows: ArrayLike<number>[][], opts: GridOptions = {}): Promise<Buffer> {
  const w = opts.width ?? 32;
  const h = opts.height ?? 32;
  const { canvas, W, H } = layout(rows.map((r) => r.map((x) => rgbBytes(x, w, h))), w, h, opts.gap ?? 2, 3);
  return encode(canvas, W, H, 3, opts.scale ?? 2);
}

/** How an image's values are drawn: grey [−1, 1] (MNIST, the seed's) or colour [0, 1] CHW (CIFAR-10). */
export interface ImageFormat {
  channels: 1 | 3;
  width: number;
  height: number;
}

/** The format of a model's input shape [c, h, w]: one channel is grey, three are RGB. */
export function formatOf(shape: readonly number[]): ImageFormat {
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new Error(`formatOf: ${c} channels: images are grey (1) or RGB (3)`);
  return { channels: c, width: w, height: h };
}

/**
 * The format of images of `pixels` values, for callers that hold only the arrays: 784 is MNIST's
 * grey 28 × 28, 3072 CIFAR-10's colour 3 × 32 × 32 (the project's two data sets; others throw).
 */
export function formatOfSize(pixels: number): ImageFormat {
  if (pixels === 784) return { channels: 1, width: 28, height: 28 };
  if (pixels === 3072) return { channels: 3, width: 32, height: 32 };
  throw new Error(`formatOfSize: ${pixels} values per image are neither MNIST's 784 nor CIFAR-10's 3072; give the format`);
}

/** One image as interleaved 8-bit RGB: grey [−1, 1] replicated on the three channels (toUint8), or colour [0, 1] CHW (rgbBytes). */
export function rgbOf(x: ArrayLike<number>, f: ImageFormat): Uint8Array {
  if (f.channels === 3) return rgbBytes(x, f.width, f.height);
  const g = toUint8(x);
  const out = new Uint8Array(3 * g.length);
  for (let i = 0; i < g.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g[i];
  return out;
}

/** A class for a caption: its name where the data set names them (CIFAR-10), else the number (MNIST's digits). */
export function className(label: number, names?: readonly string[]): string {
  return names ? names[label] ?? String(label) : String(label);
}
