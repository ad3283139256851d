/**
 * The frontier map (lib/sweep/frontier_map.ts): one marker per defense of the chosen attack, filled
 * by the fraction of victims recovered, rings on exactly the Pareto points, every point labelled with
 * labels that do not collide; and its PNG (lib/viz/figure_png.ts) through `sweep --frontier --png`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, figurePng } from "../../lib/viz/figure_png";
import { frontierMapFigure, placeLabels } from "../../lib/study/frontier_map";
import { frontierPoints } from "../../lib/study/frontier";
import { type SummaryRow } from "../../lib/study/summary";
import sharp from "sharp";

const row = (defense: string, attack: string, psnr: number, recovered: number, acc: number, bytes: number) =>
  ({ defense, attack, variant: "dense", sparsity: 0, n: 5, recovered, psnr, baselinePsnr: 6, testAccuracy: acc, bytesPerStep: bytes, attackedStepValues: defense === "dgc:0.99" ? 0 : 10 }) as unknown as SummaryRow;
const ROWS = [
  row("none", "dlg", 40, 5, 0.91, 31400), row("none", "ig", 45, 5, 0.91, 31400),
  row("dgc:0.9", "dlg", -3, 0, 0.88, 4000), row("dgc:0.9", "ig", 16, 5, 0.88, 4000),
  row("dgc:0.99", "dlg", -3, 0, 0.56, 33), row("topk:0.99", "dlg", 0, 0, 0.9, 638), row("int8", "dlg", 36, 5, 0.913, 7858),
  row("gaussian:0.1", "dlg", -2, 0, 0.76, 31400), row("laplace:0.01", "dlg", 31, 4, 0.87, 31400),
];

type Trace = { name: string; x: (number | null)[]; marker: { color: number[] | string } };

test("the map: a marker per defense filled by victims recovered, rings on the Pareto points, a label each", () => {
  const pts = frontierPoints(ROWS);
  const fig = frontierMapFigure(pts, { model: "Linear" });
  const traces = fig.data as unknown as Trace[];
  const families = traces.filter((t) => t.x.length && t.x[0] !== null && !t.name.startsWith("ringed"));
  const strongest = pts.filter((p) => p.attack === "strongest");
  assert.equal(families.reduce((a, t) => a + t.x.length, 0), strongest.length, "one marker per defense");
  const dgc = families.find((t) => t.name === "dgc")!;
  assert.deepEqual(dgc.marker.color, [1, 0], "dgc:0.9 fell to ig (5/5), dgc:0.99 to nothing");
  const ring = traces.find((t) => t.name.startsWith("ringed"))!;
  assert.deepEqual([...ring.x].sort(), strongest.filter((p) => p.pareto).map((p) => p.bytesPerStep).sort());
  const labels = (fig.layout.annotations as { text: string }[]).map((a) => a.text).sort();
  assert.deepEqual(labels, strongest.map((p) => p.defense).sort());
  assert.match((fig.layout.title as { text: string }).text, /Linear.*strongest attack per defense.*5 victims/);
  // by one attack: dlg recovers nothing at dgc:0.9
  const byDlg = (frontierMapFigure(pts, { attack: "dlg" }).data as unknown as Trace[]).find((t) => t.name === "dgc" && t.x[0] !== null)!;
  assert.deepEqual(byDlg.marker.color, [0, 0]);
  assert.throws(() => frontierMapFigure(pts, { attack: "analytic" }), /no frontier points for attack "analytic"/);
});

test("labels: a crowd of markers gets labels that overlap no other label and stay in the plot", () => {
  const plot = { w: 780, h: 420 };
  const at: [number, number][] = [[400, 60], [404, 64], [400, 70], [396, 66], [410, 60], [402, 75], [120, 300], [640, 200]];
  const names = at.map((_, i) => `defense:${i}`);
  const off = placeLabels(at, names, plot);
  const boxes = off.map(([dx, dy], i) => {
    const [cx, cy, w] = [at[i][0] + dx, at[i][1] + dy, names[i].length * 6.6];
    return { x0: cx - w / 2, x1: cx + w / 2, y0: cy - 7, y1: cy + 7 };
  });
  for (const b of boxes) assert.ok(b.x0 >= 0 && b.x1 <= plot.w && b.y0 >= 0 && b.y1 <= plot.h, "inside the plot");
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      assert.ok(a.x1 <= b.x0 || b.x1 <= a.x0 || a.y1 <= b.y0 || b.y1 <= a.y0, `labels ${i} and ${j} overlap`);
    }
  assert.deepEqual(off[6], [0, -24], "a lone point's label sits right above it");
});

test("the map as a PNG: 2000 px wide at scale 2, not blank", { skip: existsSync(CHROMIUM) ? false : `needs Chromium at ${CHROMIUM} (npm run setup:browser)` }, async () => {
  const png = await figurePng(frontierMapFigure(frontierPoints(ROWS), { model: "Linear" }));
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ["png", 2000, 1240]);
  const { channels } = await sharp(png).stats();
  assert.ok(channels[0].stdev > 20, "looks blank");
});
