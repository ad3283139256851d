/**
 * Figures that read at a glance (issue 22): log-axis ticks labelled unambiguously, no frontier of one
 * point, tables that name their attack's optimizer and iterations, and the frontier's answer
 * computed from its points.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attackFigure, logAxis, logTickText } from "../../lib/viz/plots";
import { attacksLegend, frontierFigure, frontierMarkdown, frontierPoints, frontierSkipReason, frontierVerdict } from "../../lib/study/frontier";
import { anchorMarkdown } from "../../lib/study/anchor";
import type { SummaryRow } from "../../lib/study/summary";

test("log ticks: every label is the value itself (1, 20, 0.005) or a power of ten, never a bare minor 2 or 5", () => {
  assert.deepEqual([logTickText(1, 0), logTickText(2, 1), logTickText(5, -3), logTickText(1, 2), logTickText(1, -5), logTickText(2, 6)], ["1", "20", "0.005", "100", "10⁻⁵", "2×10⁶"]);
  const narrow = logAxis([0.3, 40]);
  assert.deepEqual(narrow.ticktext, ["0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500"]);
  const wide = logAxis([1e-7, 1e6]) as { tickvals: number[]; ticktext: string[] };
  assert.ok(wide.ticktext.length <= 7, `${wide.ticktext.length} labels`);
  assert.deepEqual(wide.ticktext, ["10⁻⁷", "10⁻⁴", "0.1", "100", "10⁵"]);
  assert.deepEqual(logAxis([2, 3]), { type: "linear" }, "under a decade: linear");
});

test("attack figure: the legend sits under the x titles, short y titles, room between the panels", () => {
  const rec = (i: number) => ({ iteration: i, distance: 10 ** -i, mse: 1, psnr: i, ssim: 0.5, labelAcc: 1, ssim8: 0.5, signAware: {} as never });
  const fig = attackFigure({ a: [rec(0), rec(5)], b: [rec(0), rec(5)] });
  const l = fig.layout as { legend: { y: number; yanchor: string }; margin: { b: number }; grid: { xgap: number }; yaxis: { title: { text: string } } };
  assert.ok(l.legend.y < -0.2 && l.legend.yanchor === "top", JSON.stringify(l.legend));
  assert.ok(l.margin.b >= 100);
  assert.ok(l.grid.xgap >= 0.12);
  assert.equal(l.yaxis.title.text, "D (before the update)");
});

const row = (defense: string, attack: string, psnr: number, acc: number | null, bytes: number | null, recovered: number, iterations = [1000], settings = "1000 it, 2 ep") =>
  ({ defense, attack, variant: defense.startsWith("dgc") ? "seed" : "dense", sparsity: 0, n: 5, recovered, psnr, baselinePsnr: 6, testAccuracy: acc, bytesPerStep: bytes, attackedStepValues: defense === "dgc:0.99" ? 0 : 10, iterations, settings }) as unknown as SummaryRow;

test("a frontier of one point is not drawn (and not starred): the reason is said instead", () => {
  const pts = frontierPoints([row("none", "dlg", 30, 0.9, 100, 5), row("dgc:0.9", "dlg", 5, 0.88, 10, 0), row("none", "lbfgs", 40, null, null, 5, [30]), row("dgc:0.9", "lbfgs", 3, null, null, 0, [30])]);
  // lbfgs's accuracy and bytes are joined from the trained dlg rows: two points, drawn
  assert.equal(frontierSkipReason(pts, "lbfgs"), null);
  const one = frontierPoints([row("none", "dlg", 30, 0.9, 100, 5), row("none", "lbfgs", 40, null, null, 5, [30]), row("topk:0.9", "lbfgs", 3, null, null, 0, [30])]);
  assert.match(frontierSkipReason(one, "lbfgs")!, /^No frontier is drawn against lbfgs: only one defense \(none\) has .* \(topk:0\.9 was attacked but not trained in this summary\)/);
  assert.ok(!one.some((p) => p.attack === "lbfgs" && p.pareto), "no star on a one-point front");
  const fig = frontierFigure(one, "lbfgs");
  assert.equal((fig.data.at(-1) as { x: number[] }).x.length, 0, "no front line");
  assert.equal((fig.data[0] as { marker: { showscale: boolean } }).marker.showscale, false, "no one-value colour bar");
});

test("tables name each attack's optimizer and iterations; the verdict is computed from the points", () => {
  const pts = frontierPoints([
    row("none", "dlg", 30, 0.91, 31400, 5, [2000]), row("dgc:0.9", "dlg", -3, 0.89, 6000, 0, [2000]), row("dgc:0.99", "dlg", -3, 0.55, 33, 0, [2000]), row("topk:0.99", "dlg", -3, 0.9, 638, 0, [2000]),
    row("none", "adaptive", 60, null, null, 5), row("dgc:0.9", "adaptive", 15, null, null, 5), row("dgc:0.99", "adaptive", 5, null, null, 0), row("topk:0.99", "adaptive", 5, null, null, 0),
  ]);
  const md = frontierMarkdown(pts);
  assert.match(md, /\*\*dlg\*\* = the seed's DLG \(plain gradient descent, lr 0\.2, 2000 iterations\)/);
  assert.match(md, /\*\*adaptive\*\* = the defense-aware attacker \(Adam, 1000 iterations\)/);
  assert.match(attacksLegend(pts, "lenet"), /adaptive\*\* = the defense-aware attacker \(L-BFGS, 1000 steps\)/);
  const v = frontierVerdict(pts);
  assert.match(v, /\*\*2 of 4\*\* stop every attack measured/);
  assert.match(v, /most accurate defense that stops every attack while still sending something: \*\*topk:0\.99\*\*, test accuracy 0\.900 \(no defense: 0\.910\)/);
  assert.match(v, /DGC stops the attacks only at dgc:0\.99, where the attacked step sent nothing/);
  assert.match(anchorMarkdown({ attack: "adaptive", seeds: 5, steps: 1000, backend: "wasm", rows: [] }), /^adaptive \(the defense-aware attacker, Adam, 1000 iterations\) on LeNet/);
  assert.match(anchorMarkdown({ seeds: 5, steps: 30, backend: "wasm", rows: [] }), /^lbfgs \(the DLG paper's DLG: L-BFGS over image and label, 30 steps\) on LeNet/);
});
