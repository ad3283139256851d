/** The labelled image grid (lib/viz/labelled.ts) and the attack views built on it (lib/viz/attacks.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { iterationGrid, attackSummaryRows } from "../../lib/viz/attacks";
import { labelledGridPng } from "../../lib/viz/labelled";
import { type AttackRun } from "../../lib/trial/demo";

const image = (v: number) => new Float32Array(784).fill(v);

function fakeRun(snapshotIts: number[], psnrs: number[]): AttackRun {
  const snapshots = snapshotIts.map((iteration, i) => ({ iteration, x: image(i / 10), y: new Float32Array(10), distance: 0 }));
  const records = snapshotIts.map((iteration, i) => ({
    iteration, mse: 0, psnr: psnrs[i], ssim: 0.5, labelAcc: 1, distance: 0, ssim8: 0.25, signAware: { psnr: psnrs[i] + 1, ssim8: 0.3, inverted: 1 },
  }));
  return { target: { x: image(1), y: Int32Array.of(3), size: 1 }, snapshots, records, seconds: 1.5 } as unknown as AttackRun;
}

test("iterationGrid: the target, then each asked iteration some run has, once, in order; PSNR under each cell", () => {
  const runs = { a: fakeRun([0, 10, 20], [1, 2, 3]), b: fakeRun([0, 20], [4, 5]) };
  const g = iterationGrid(runs, [20, 0, 10, 10, 50], "t");
  assert.deepEqual(g.columnLabels, ["target", "iter 0", "iter 10", "iter 20"]);
  assert.deepEqual(g.rowLabels, ["a", "b"]);
  assert.equal(g.cells[1][2], null, "b has no snapshot at 10");
  assert.equal(g.cells[0][3]![0], Math.fround(0.2));
  assert.deepEqual(g.cellNotes, [["", "1.0 dB", "2.0 dB", "3.0 dB"], ["", "4.0 dB", null, "5.0 dB"]]);
  assert.deepEqual(attackSummaryRows(runs)[1], ["a", "20", "3.0 dB", "0.5000", "0.2500", "4.0 dB", "1", "1.00", "1.50"]);
});

test("labelledGridPng: the digits land at their cells, scaled without blur, on a white page", async () => {
  const png = await labelledGridPng({ cells: [[image(-1), image(0)]], scale: 2 });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => data[(y * info.width + x) * info.channels];
  assert.equal(at(0, 0), 255, "page is white");
  let top = 0;
  while (top < info.height && !Array.from({ length: info.width }, (_, x) => at(x, top)).includes(0)) top++;
  const row = Array.from({ length: info.width }, (_, x) => at(x, top + 28));
  const start = row.indexOf(0);
  assert.ok(start > 0, "a black cell");
  assert.equal(row.slice(start, start + 56).every((v) => v === 0), true, "56 black pixels: 28 × 2, nearest neighbour");
  assert.equal(row[start + 56], 255, "then the white gap");
  const grey = row.indexOf(127);
  assert.ok(grey > start + 56, "the second cell, mid-grey (toUint8(0) = 127)");
  assert.equal(row.slice(grey, grey + 56).every((v) => v === 127), true);
  assert.equal(at(start, top + 56), 255, "56 rows tall");
});
