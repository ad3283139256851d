/**
 * The seed's image files: uint8((x + 1) · 127.5) of a [-1, 1] image, reshaped 28 × 28, as a
 * grayscale PNG. numpy's uint8 cast wraps values outside [0, 255]; we clamp instead, so a dummy
 * image that overshoots [-1, 1] is shown saturated rather than as noise.
 */
import sharp from "sharp";

export function toUint8(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, Math.min(255, Math.floor((x[i] + 1) * 127.5)));
  return out;
}

/** A grayscale PNG of one [-1, 1] image, optionally upscaled (nearest neighbour). */
export async function grayPng(x: ArrayLike<number>, width = 28, height = 28, scale = 1): Promise<Buffer> {
  let img = sharp(Buffer.from(toUint8(x)), { raw: { width, height, channels: 1 } });
  if (scale !== 1) img = img.resize(width * scale, height * scale, { kernel: "nearest" });
  return img.toColourspace("b-w").png().toBuffer();
}

/**
 * A grid of [-1, 1] images as one grayscale PNG: rows of equally sized images with white gaps,
 * upscaled by `scale` (nearest neighbour) so that digits stay crisp.
 */
export async function gridPng(rows: ArrayLike<number>[][], opts: { width?: number; height?: number; scale?: number; gap?: number } = {}): Promise<Buffer> {
  const w = opts.width ?? 28;
  const h = opts.height ?? 28;
  const gap = opts.gap ?? 2;
  const cols = Math.max(...rows.map((r) => r.length));
  const W = cols * w + (cols + 1) * gap;
  const H = rows.length * h + (rows.length + 1) * gap;
  const canvas = new Uint8Array(W * H).fill(255);
  rows.forEach((row, r) =>
    row.forEach((img, c) => {
      const u8 = toUint8(img);
      const top = gap + r * (h + gap);
      const left = gap + c * (w + gap);
      for (let y = 0; y < h; y++) canvas.set(u8.subarray(y * w, (y + 1) * w), (top + y) * W + left);
    }),
  );
  const scale = opts.scale ?? 2;
  return sharp(Buffer.from(canvas), { raw: { width: W, height: H, channels: 1 } })
    .resize(W * scale, H * scale, { kernel: "nearest" })
    .toColourspace("b-w")
    .png()
    .toBuffer();
}
