/**
 * The DLG paper's defense experiment as `npm run study:anchor` writes it (docs/defense-anchor*.json):
 * a Markdown table and the paper's figure (median PSNR against noise variance and fraction pruned).
 */
import { logAxis, type Figure } from "../viz/plots";

const f = (x: number | null, d: number) => (x === null ? "–" : x.toFixed(d));

/** One point of the DLG paper's defense experiment (scripts/study_anchor.ts, docs/defense-anchor.json). */
export interface AnchorRow {
  defense: string;
  psnr: number | null;
  recovered: number;
  n: number;
  runs: { psnr: number | null; baseline: number }[];
}

/**
 * The DLG paper's defense figure, ours: L-BFGS DLG's median PSNR against the noise variance (left,
 * log scale; Gaussian and Laplacian) and against the fraction pruned (right), the undefended attack
 * and the recovery line (median mean-image PSNR + 3 dB) dashed.
 */
export function anchorFigure(rows: readonly AnchorRow[], marginDb = 3): Figure {
  const strength = (r: AnchorRow) => Number(r.defense.split(":")[1]);
  const of = (name: string) => rows.filter((r) => r.defense.startsWith(`${name}:`)).sort((a, b) => strength(a) - strength(b));
  const bases = rows.flatMap((r) => r.runs.map((x) => x.baseline)).sort((a, b) => a - b);
  const line = bases.length ? bases[bases.length >> 1] + marginDb : undefined;
  const none = rows.find((r) => r.defense === "none")?.psnr ?? undefined;
  const trace = (name: string, label: string, axis: string, color: string) => {
    const rs = of(name);
    return {
      type: "scatter", mode: "lines+markers", name: label, x: rs.map(strength), y: rs.map((r) => r.psnr), xaxis: `x${axis}`, yaxis: `y${axis}`,
      text: rs.map((r) => `${r.defense}: ${f(r.psnr, 1)} dB, recovered ${r.recovered}/${r.n}`), hovertemplate: "%{text}<extra></extra>",
      marker: { size: 9, color }, line: { color },
    };
  };
  const hline = (y: number | undefined, axis: string, dash: string) =>
    y === undefined ? [] : [{ type: "line", xref: `x${axis} domain`, x0: 0, x1: 1, yref: `y${axis}`, y0: y, y1: y, line: { color: "#888", dash } }];
  return {
    data: [trace("gaussvar", "Gaussian noise", "", "#1f77b4"), trace("laplace", "Laplacian noise", "", "#ff7f0e"), trace("topk", "pruning (top-k, no residual)", "2", "#2ca02c")],
    layout: {
      title: { text: "L-BFGS DLG on LeNet against the DLG paper's defenses (median PSNR over victims)<br><sup>dashed: \"recovered\" (the mean image + 3 dB); dotted: no defense</sup>" },
      height: 420,
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "noise variance" }, ...logAxis(rows.filter((r) => r.defense.startsWith("gaussvar:") || r.defense.startsWith("laplace:")).map((r) => Number(r.defense.split(":")[1])), undefined, false), type: "log" },
      yaxis: { title: { text: "median PSNR (dB)" } },
      xaxis2: { title: { text: "fraction of gradient entries pruned" } },
      yaxis2: { title: { text: "median PSNR (dB)" } },
      shapes: [...hline(line, "", "dash"), ...hline(line, "2", "dash"), ...hline(none, "", "dot"), ...hline(none, "2", "dot")],
      legend: { orientation: "h", y: -0.25 },
    },
  };
}

/** A study:anchor result (docs/defense-anchor*.json) as a Markdown table, its setting first. */
export function anchorMarkdown(a: { attack?: string; seeds: number; steps: number; backend: string; rows: readonly AnchorRow[] }): string {
  // name the optimizer: "adaptive" here is Adam (scripts/study_anchor.ts), the LeNet frontier's is L-BFGS
  const attack = (a.attack ?? "lbfgs") === "lbfgs"
    ? `lbfgs (the DLG paper's DLG: L-BFGS over image and label, ${a.steps} steps)`
    : `${a.attack} (the defense-aware attacker, Adam, ${a.steps} iterations)`;
  const head = `${attack} on LeNet: ${a.seeds} victims, backend ${a.backend}\n\n| defense | median PSNR dB | recovered |\n|---|---|---|`;
  return [head, ...a.rows.map((r) => `| ${r.defense} | ${r.psnr === null ? "∞" : f(r.psnr, 1)} | ${r.recovered}/${r.n} |`)].join("\n");
}
