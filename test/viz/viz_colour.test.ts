/**
 * Colour in lib/viz: tiles, labelled grids, matched grids, comparisons and grids draw [0, 1] CHW images
 * (CIFAR-10) in RGB — a pure red, green or blue photograph comes out as that colour, at its scaled size
 * — and name classes where names are given; MNIST's grey drawing is unchanged by default.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { tileGridPng } from "../../lib/viz/tiles";
import { labelledGridPng } from "../../lib/viz/labelled";
import { matchedGridPng } from "../../lib/viz/matched";
import { comparisonPng } from "../../lib/viz/compare";
import { iterationGrid } from "../../lib/viz/attacks";
import { className, formatOf, formatOfSize, gridPng, rgbGridPng, rgbOf } from "../../lib/viz/png";
import type { AttackRun } from "../../lib/trial/demo";

/** A 3 × 32 × 32 CHW image that is one pure colour (channel c at 1, the others 0). */
function pure(c: 0 | 1 | 2): Float32Array {
  const x = new Float32Array(3072);
  x.fill(1, c * 1024, (c + 1) * 1024);
  return x;
}

/** How many pixels of the PNG are exactly this RGB colour. */
async function count(png: Buffer, rgb: [number, number, number]): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2]) n++;
  return n;
}

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];

test("formats: 784 values are MNIST's grey 28 × 28, 3072 CIFAR-10's colour 32 × 32; others are refused; rgbOf replicates grey", () => {
  assert.deepEqual(formatOfSize(784), { channels: 1, width: 28, height: 28 });
  assert.deepEqual(formatOfSize(3072), { channels: 3, width: 32, height: 32 });
  assert.throws(() => formatOfSize(1000), /neither MNIST's 784 nor CIFAR-10's 3072/);
  assert.deepEqual(formatOf([3, 32, 32]), { channels: 3, width: 32, height: 32 });
  assert.throws(() => formatOf([2, 8, 8]), /2 channels/);
  // grey: −1 → 0, 1 → 255 on all three channels; colour: CHW planes interleaved
  assert.deepEqual(Array.from(rgbOf([-1, 1], { channels: 1, width: 2, height: 1 })), [0, 0, 0, 255, 255, 255]);
  assert.deepEqual(Array.from(rgbOf([1, 0, 0, 0.5, 0, 1], { channels: 3, width: 2, height: 1 })), [255, 0, 0, 0, 128, 255]);
  assert.equal(className(3, ["airplane", "automobile", "bird", "cat"]), "cat");
  assert.equal(className(3), "3");
});

test("tileGridPng channels 3: each photograph in its colour at 32 × scale, with its caption; grey stays grey", async () => {
  const png = await tileGridPng([[{ pixels: pure(0), label: "cat" }, { pixels: pure(1), label: "ship" }, { pixels: pure(2), label: "frog" }]], { channels: 3, scale: 2 });
  for (const c of [RED, GREEN, BLUE]) assert.equal(await count(png, c), 64 * 64, `colour ${c}`);
  const meta = await sharp(png).metadata();
  assert.equal(meta.width, 3 * (64 + 6) + 6);
  // the same pixels drawn as grey [−1, 1] (the default) have no pure red at all
  assert.equal(await count(await tileGridPng([[{ pixels: pure(0).subarray(0, 784) }]], { scale: 2 }), RED), 0);
  await assert.rejects(tileGridPng([[{ pixels: pure(0) }]], { channels: 3, heat: { unit: "x" } }), /heat maps are signed single-channel/);
});

test("labelledGridPng channels 3 and iterationGrid on colour runs: RGB cells of 32 × scale", async () => {
  const png = await labelledGridPng({ cells: [[pure(1), pure(2)]], channels: 3, scale: 2, columnLabels: ["target", "iter 0"] });
  assert.equal(await count(png, GREEN), 64 * 64);
  assert.equal(await count(png, BLUE), 64 * 64);
  const run = { target: { x: pure(0), y: Int32Array.of(3), size: 1, index: Int32Array.of(0), id: 0 }, snapshots: [{ iteration: 0, x: pure(2), y: new Float32Array(10), distance: 1 }], records: [{ iteration: 0, psnr: 1 }] } as unknown as AttackRun;
  const g = iterationGrid({ ig: run }, [0]);
  assert.equal(g.channels, 3);
  assert.equal(g.size, 32);
  const drawn = await labelledGridPng({ ...g, scale: 1 });
  assert.equal(await count(drawn, RED), 32 * 32);
  assert.equal(await count(drawn, BLUE), 32 * 32);
});

test("matchedGridPng and comparisonPng in colour: the pairs in RGB; with labels the target is captioned by its class name", async () => {
  const target = new Float32Array([...pure(0), ...pure(1)]);
  const recon = new Float32Array([...pure(1), ...pure(0)]);
  const pairs = [{ target: 0, recon: 1, mse: 0, psnr: 40, ssim: 1 }, { target: 1, recon: 0, mse: 0, psnr: 35, ssim: 1 }];
  const plain = await matchedGridPng(target, [recon], pairs, { channels: 3, scale: 1 });
  // matched: red beside red, green beside green (two cells of each)
  assert.equal(await count(plain, RED), 2 * 1024);
  assert.equal(await count(plain, GREEN), 2 * 1024);
  assert.deepEqual(plain, await rgbGridPng([[pure(0), pure(0)], [pure(1), pure(1)]], { scale: 1 }));
  assert.deepEqual(await gridPng([[pure(2)]], { channels: 3 }), await rgbGridPng([[pure(2)]]));
  const names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
  const captioned = await matchedGridPng(target, [recon], pairs, { channels: 3, scale: 2, labels: [3, 8], classNames: names });
  assert.equal(await count(captioned, RED), 2 * 64 * 64);
  const [a, b] = [await sharp(plain).metadata(), await sharp(captioned).metadata()];
  assert.ok(b.height! > 2 * a.height!, "captions add a line under each row");
  const cmp = await comparisonPng({ target: { x: pure(2), y: Int32Array.of(0), size: 1, index: Int32Array.of(0), id: 0 }, snapshots: [{ iteration: 9, x: pure(0), y: new Float32Array(10), distance: 0 }], final: { iteration: 9, psnr: 12 } } as never, 1);
  assert.equal(await count(cmp, BLUE), 1024);
  assert.equal(await count(cmp, RED), 1024);
});
