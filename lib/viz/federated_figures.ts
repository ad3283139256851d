/** Figures of a federated run (Plotly JSON, lib/viz): accuracy and bytes per round; a history attack's PSNR; FedAvg's local steps and PSNR against E. */
import { panelsFigure, type Figure } from "./plots";
import type { LocalTrace } from "../threat/federated/local";
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

/** One client's local round (threat/federated/local.ts `localTrace`): each step's loss, how far the weights moved from θ_0, and each step's own length. */
export function localStepsFigure(trace: LocalTrace, title = "One client's local steps"): Figure {
  const xs = trace.loss.map((_, s) => s);
  const one = (y: number[]) => [{ name: "the client", x: xs, y }];
  return panelsFigure(title, [
    { title: "batch loss before the step", xTitle: "local step s", yTitle: "cross-entropy", series: one(trace.loss), xTicks: xs },
    { title: "distance from θ_0: ‖θ_{s+1} − θ_0‖", xTitle: "local step s", yTitle: "L2 norm, all weights", series: one(trace.moved), xTicks: xs, minSpan: 0.1 },
    { title: "the step's length: ‖θ_{s+1} − θ_s‖", xTitle: "local step s", yTitle: "L2 norm, all weights", series: one(trace.stepLength), xTicks: xs, minSpan: 0.1 },
  ]);
}

/** Reconstruction PSNR against the local steps E, one series per defense, with the recovery bar. */
export function fedavgFigure(points: readonly { defense: string; steps: number; psnr: number }[], bar: number, title = "The FedAvg attacker against E"): Figure {
  const defenses = [...new Set(points.map((p) => p.defense))];
  const es = [...new Set(points.map((p) => p.steps))].sort((a, b) => a - b);
  return panelsFigure(title, [{
    title: "reconstruction of the client's image", xTitle: "local steps E", yTitle: "PSNR (dB)", xTicks: es,
    series: defenses.map((d) => {
      const ps = points.filter((p) => p.defense === d).sort((a, b) => a.steps - b.steps);
      return { name: d, x: ps.map((p) => p.steps), y: ps.map((p) => p.psnr) };
    }),
    hlines: [{ y: bar, label: "recovery bar (mean image + 3 dB)" }],
  }]);
}
