/**
 * Plotly figures as plain {data, layout} objects: the same JSON renders in JupyterLab
 * (jupyterlab-plotly), in an exported HTML report (plotly.js), or anywhere else.
 */
import type { AttackRecord } from "../trial/demo";
import type { BatchRecord } from "../optim/train";

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
  /** Linear axes: the smallest range shown, so a flat line is not zoomed into float noise. */
  minSpan?: number;
  /** Horizontal reference lines (e.g. the mean image's PSNR). */
  hlines?: { y: number; label: string }[];
  /** Vertical markers (e.g. epoch boundaries). */
  vlines?: { x: number; label: string }[];
  /** x tick positions (e.g. the integers E of a sweep), instead of Plotly's choice. */
  xTicks?: number[];
}

const SUPERSCRIPT: Record<string, string> = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/**
 * The label of m·10^k, unambiguous on its own: the plain number from 0.001 to 10000 ("0.01", "20",
 * "500"), otherwise a power of ten ("10⁻⁵", "2×10⁶") — never Plotly's bare minor "2" or "5".
 */
export function logTickText(m: number, k: number): string {
  if (k >= -3 && k <= 4) return String(Number((m * 10 ** k).toFixed(Math.max(0, -k))));
  const p = `10${String(k).split("").map((ch) => SUPERSCRIPT[ch]).join("")}`;
  return m === 1 ? p : `${m}×${p}`;
}

/** A byte count as a tick: "20 B", "500 B", "1 kB", "50 kB", "2 MB". */
export function bytesTickText(v: number): string {
  const [n, u] = v >= 1e6 ? [v / 1e6, "MB"] : v >= 1e3 ? [v / 1e3, "kB"] : [v, "B"];
  return `${Number(n.toPrecision(3))} ${u}`;
}

/**
 * A log axis with its ticks spelled out (`logTickText`): at most about six decade labels (every
 * second or third decade over a wide span), with 2 and 5 between them when the data spans at most
 * three decades; a linear axis under one decade (a log axis would show no label inside the data).
 */
export function logAxis(ys: number[], unit?: "bytes", minor = true): Record<string, unknown> {
  const pos = ys.filter((y) => y > 0 && Number.isFinite(y));
  const decades = pos.length ? Math.log10(Math.max(...pos)) - Math.log10(Math.min(...pos)) : 0;
  if (decades < 1) return { type: "linear" };
  const lo = Math.floor(Math.log10(Math.min(...pos)));
  const hi = Math.ceil(Math.log10(Math.max(...pos)));
  const step = Math.max(1, Math.ceil((hi - lo) / 6));
  const tickvals: number[] = [];
  const ticktext: string[] = [];
  for (let k = lo; k <= hi; k++) {
    for (const m of minor && hi - lo <= 3 ? [1, 2, 5] : [1]) {
      if (m === 1 && (k - lo) % step !== 0) continue;
      tickvals.push(m * 10 ** k);
      ticktext.push(unit === "bytes" ? bytesTickText(m * 10 ** k) : logTickText(m, k));
    }
  }
  return { type: "log", tickmode: "array", tickvals, ticktext };
}

/** A linear axis that shows at least `span` around the data (Plotly would zoom into a 0.0006 dB wiggle). */
function linearAxis(ys: number[], span: number | undefined): Record<string, unknown> {
  const fin = ys.filter(Number.isFinite);
  if (!span || !fin.length) return {};
  const lo = Math.min(...fin);
  const hi = Math.max(...fin);
  if (hi - lo >= span) return {};
  const mid = (hi + lo) / 2;
  return { range: [mid - span / 2, mid + span / 2] };
}

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/** Panels side by side, each with its own axes; series of the same name share a colour and legend entry. */
export function panelsFigure(title: string, panels: Panel[], height?: number): Figure {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const legend = names.length > 1;
  height ??= legend ? 410 : 360;
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
    // room between the panels for each one's tick labels and y title; the legend (several runs)
    // under the x titles, not over them
    margin: { t: 70, l: 70, r: 20, b: legend ? 105 : 55 },
    grid: { rows: 1, columns: panels.length, pattern: "independent", xgap: panels.length > 2 ? 0.16 : 0.12 },
    legend: { orientation: "h", x: 0, xanchor: "left", y: -(58 / Math.max(120, height - 70 - 105)), yanchor: "top" },
    annotations: panels.map((p, i) => ({
      text: `<b>${p.title}</b>`, showarrow: false, xref: `x${i ? i + 1 : ""} domain`, yref: `y${i ? i + 1 : ""} domain`, x: 0.5, y: 1.08,
    })),
  };
  const shapes: Record<string, unknown>[] = [];
  const notes = layout.annotations as Record<string, unknown>[];
  panels.forEach((p, i) => {
    const ax = i ? String(i + 1) : "";
    const ys = p.series.flatMap((s) => s.y).concat((p.hlines ?? []).map((h) => h.y));
    layout[`xaxis${ax}`] = { title: { text: p.xTitle }, ...(p.xTicks ? { tickvals: p.xTicks } : {}) };
    layout[`yaxis${ax}`] = { title: { text: p.yTitle, standoff: 6 }, automargin: true, ...(p.logY ? logAxis(ys) : linearAxis(ys, p.minSpan)) };
    for (const h of p.hlines ?? []) {
      shapes.push({ type: "line", xref: `x${ax} domain`, x0: 0, x1: 1, yref: `y${ax}`, y0: h.y, y1: h.y, line: { color: "#888", dash: "dash", width: 1 } });
      notes.push({ text: h.label, showarrow: false, xref: `x${ax} domain`, x: 1, xanchor: "right", yref: `y${ax}`, y: h.y, yanchor: "bottom", font: { size: 10, color: "#555" } });
    }
    for (const v of p.vlines ?? []) {
      shapes.push({ type: "line", xref: `x${ax}`, x0: v.x, x1: v.x, yref: `y${ax} domain`, y0: 0, y1: 1, line: { color: "#aaa", dash: "dot", width: 1 } });
      notes.push({ text: v.label, showarrow: false, xref: `x${ax}`, x: v.x, xanchor: "left", yref: `y${ax} domain`, y: 0.98, font: { size: 10, color: "#555" } });
    }
  });
  layout.shapes = shapes;
  return { data, layout };
}

/** Training: loss and running accuracy against the global batch index, one series per run. */
export function trainingFigure(runs: Record<string, readonly BatchRecord[]>, title = "Training"): Figure {
  const series = (f: (r: BatchRecord) => number) =>
    Object.entries(runs).map(([name, h]) => ({ name, x: h.map((_, i) => i), y: h.map(f) }));
  // epoch boundaries (the running accuracy restarts there), from the first run's history
  const h = Object.values(runs)[0] ?? [];
  const vlines = h.flatMap((r, i) => (i > 0 && r.epoch !== h[i - 1].epoch ? [{ x: i, label: `epoch ${r.epoch}` }] : []));
  return panelsFigure(title, [
    { title: "loss (batch)", xTitle: "batch (all epochs)", yTitle: "cross-entropy", series: series((r) => r.loss), logY: true, vlines },
    { title: "running accuracy (epoch so far)", xTitle: "batch (all epochs)", yTitle: "accuracy", series: series((r) => r.acc), minSpan: 0.05, vlines },
  ]);
}

/** DLG: MSE, PSNR and SSIM of the reconstruction against iteration, one series per attack run. */
export function attackFigure(runs: Record<string, readonly AttackRecord[]>, title = "DLG reconstruction", recoveredAt?: number): Figure {
  const series = (f: (r: AttackRecord) => number) =>
    Object.entries(runs).map(([name, rs]) => ({ name, x: rs.map((r) => r.iteration), y: rs.map(f) }));
  return panelsFigure(title, [
    { title: "gradient distance D", xTitle: "iteration", yTitle: "D (before the update)", series: series((r) => r.distance), logY: true },
    { title: "MSE to the target", xTitle: "iteration", yTitle: "MSE", series: series((r) => r.mse), logY: true },
    {
      title: "PSNR", xTitle: "iteration", yTitle: "dB", series: series((r) => r.psnr), minSpan: 2,
      hlines: recoveredAt === undefined ? [] : [{ y: recoveredAt, label: "recovered above" }],
    },
    { title: "SSIM", xTitle: "iteration", yTitle: "SSIM", series: series((r) => r.ssim), minSpan: 0.05 },
  ]);
}
