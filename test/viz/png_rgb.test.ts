/** Colour PNGs (lib/viz/png.ts): a [0, 1] CHW image comes back from the PNG as its exact 8-bit RGB bytes; grids lay cells out with gaps. */
import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { rgbBytes, rgbGridPng, rgbPng } from "../../lib/viz/png";

/** A 3 × 4 × 5 test image: byte values v / 255 as the CIFAR-10 loader makes them (float32). */
function image(seed: number): { x: Float32Array; bytes: Uint8Array } {
  const [w, h] = [5, 4];
  const bytes = Uint8Array.from({ length: 3 * w * h }, (_, i) => (i * 37 + seed * 11) % 256);
  return { x: Float32Array.from(bytes, (v) => v / 255), bytes };
}

test("rgbPng: CHW [0, 1] → interleaved RGB, the loader's bytes exactly; out-of-range values clamp", async () => {
  const { x, bytes } = image(1);
  const png = await rgbPng(x, 5, 4);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [5, 4, 3]);
  for (let p = 0; p < 20; p++) for (let c = 0; c < 3; c++) assert.equal(data[3 * p + c], bytes[c * 20 + p], `pixel ${p} channel ${c}`);
  assert.deepEqual(Array.from(rgbBytes(Float32Array.of(-0.2, 1.3, 0.5), 1, 1)), [0, 255, 128]);
  assert.throws(() => rgbBytes(new Float32Array(10), 2, 2), /10 values do not make a 3 × 2 × 2 image/);
});

test("rgbGridPng: rows × columns of colour cells with white gaps, upscaled", async () => {
  const png = await rgbGridPng([[image(1).x, image(2).x], [image(3).x]], { width: 5, height: 4, gap: 1, scale: 2 });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [2 * (2 * 5 + 3), 2 * (2 * 4 + 3), 3]);
  assert.deepEqual(Array.from(data.subarray(0, 3)), [255, 255, 255]); // a gap
  const { bytes } = image(1);
  const at = ((1 * 2) * info.width + 1 * 2) * 3; // the first cell's pixel (0, 0), upscaled ×2 after a 1-pixel gap
  assert.deepEqual(Array.from(data.subarray(at, at + 3)), [bytes[0], bytes[20], bytes[40]]);
});
