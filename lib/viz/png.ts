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
