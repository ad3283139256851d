/**
 * Plotly figures as plain {data, layout} objects: the same JSON renders in JupyterLab
 * (jupyterlab-plotly), in an exported HTML report (plotly.js), or anywhere else.
 */
import type { AttackRecord } from "../demo";
import type { BatchRecord } from "../train";

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

export interface Panel {
  title: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  logY?: boolean;
}

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/** Panels side by side, each with its own axes; series of the same name share a colour and legend entry. */
export function panelsFigure(title: string, panels: Panel[], height = 360): Figure {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const data = panels.flatMap((p, i) =>
    p.series.map((s) => ({
      type: "scatter", mode: "lines", name: s.name, x: s.x, y: s.y,
      xaxis: `x${i ? i + 1 : ""}`, yaxis: `y${i ? i + 1 : ""}`,
      legendgroup: s.name, showlegend: i === 0 && names.length > 1,
      line: { color: COLORS[names.indexOf(s.name) % COLORS.length], width: 2 },
    })),
  );
  const layout: Record<string, unknown> = {
    title: { text: title },
    height,
    margin: { t: 70, l: 60, r: 20, b: 50 },
    grid: { rows: 1, columns: panels.length, pattern: "independent" },
    legend: { orientation: "h", y: -0.2 },
    annotations: panels.map((p, i) => ({
      text: `<b>${p.title}</b>`, showarrow: false, xref: `x${i ? i + 1 : ""} domain`, yref: `y${i ? i + 1 : ""} domain`, x: 0.5, y: 1.08,
    })),
  };
  panels.forEach((p, i) => {
    layout[`xaxis${i ? i + 1 : ""}`] = { title: { text: p.xTitle } };
    layout[`yaxis${i ? i + 1 : ""}`] = p.logY
      ? { title: { text: p.yTitle }, type: "log", dtick: 1, exponentformat: "power" } // one label per decade
      : { title: { text: p.yTitle } };
  });
  return { data, layout };
}

/** Training: loss and running accuracy against the global batch index, one series per run. */
export function trainingFigure(runs: Record<string, readonly BatchRecord[]>, title = "Training"): Figure {
  const series = (f: (r: BatchRecord) => number) =>
    Object.entries(runs).map(([name, h]) => ({ name, x: h.map((_, i) => i), y: h.map(f) }));
  return panelsFigure(title, [
    { title: "loss (batch)", xTitle: "batch", yTitle: "cross-entropy", series: series((r) => r.loss), logY: true },
    { title: "running accuracy (epoch so far)", xTitle: "batch", yTitle: "accuracy", series: series((r) => r.acc) },
  ]);
}

/** DLG: MSE, PSNR and SSIM of the reconstruction against iteration, one series per attack run. */
export function attackFigure(runs: Record<string, readonly AttackRecord[]>, title = "DLG reconstruction"): Figure {
  const series = (f: (r: AttackRecord) => number) =>
    Object.entries(runs).map(([name, rs]) => ({ name, x: rs.map((r) => r.iteration), y: rs.map(f) }));
  return panelsFigure(title, [
    { title: "MSE", xTitle: "iteration", yTitle: "mse", series: series((r) => r.mse), logY: true },
    { title: "PSNR", xTitle: "iteration", yTitle: "dB", series: series((r) => r.psnr) },
    { title: "SSIM", xTitle: "iteration", yTitle: "ssim", series: series((r) => r.ssim) },
  ]);
}
