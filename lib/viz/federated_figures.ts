/** Figures of a federated run (Plotly JSON, lib/viz): accuracy and bytes per round; a history attack's PSNR. */
import { panelsFigure, type Figure } from "./plots";
import type { RoundRecord } from "../threat/federated/simulation";
import type { HistoryStep } from "../trial/fl_attack";

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Test accuracy and mean bytes uploaded per client against the round, one series per run. */
export function roundsFigure(runs: Record<string, readonly RoundRecord[]>, title = "Federated training"): Figure {
  const series = (f: (r: RoundRecord) => number) => Object.entries(runs).map(([name, rs]) => ({ name, x: rs.map((r) => r.round), y: rs.map(f) }));
  return panelsFigure(title, [
    { title: "test accuracy (10,000 images)", xTitle: "round", yTitle: "accuracy", series: series((r) => r.testAccuracy ?? NaN) },
    // log axis: a round that sends nothing (0 B) has no point there
    { title: "bytes up per client (mean)", xTitle: "round", yTitle: "bytes", series: series((r) => avg(r.upBytes) || NaN), logY: true },
  ]);
}

/** The history attacker's PSNR against the last round it summed, with the recovery bar. */
export function historyFigure(steps: readonly HistoryStep[], attackedRound: number, bar: number, title = "History attacker"): Figure {
  const xs = steps.map((s) => attackedRound + s.h);
  return panelsFigure(title, [
    {
      title: "reconstruction of the round's victim image", xTitle: "last round summed", yTitle: "PSNR (dB)",
      series: [
        { name: "history attacker", x: xs, y: steps.map((s) => s.psnr ?? NaN) },
        { name: "recovery bar (mean image + 3 dB)", x: xs, y: xs.map(() => bar) },
      ],
    },
    { title: "values received so far", xTitle: "last round summed", yTitle: "values", series: [{ name: "history attacker", x: xs, y: steps.map((s) => s.received) }] },
  ]);
}
