/**
 * The DLG paper's defense experiment (Zhu et al. 2019, §5) on MNIST with its LeNet and its attack
 * (L-BFGS over image and label, cross-entropy victim; attack/lbfgs_dlg.ts), round 0 (the untrained
 * model, batch 1) behind each defense; the attacker does not model the defense (as in the paper) unless
 * the adaptive attacker is asked for. Each seed is a different victim image and weight draw; recovered =
 * PSNR ≥ the mean image's + 3 dB. One task per defense and seed; the JSON `npm run study:anchor`
 * writes (docs/defense-anchor*.json), its Markdown table and the paper's figure (median PSNR against
 * noise variance and fraction pruned) are read back from the records.
 */
import { logAxis, type Figure } from "../viz/plots";
import { attackMetrics } from "../metrics/attack";
import { awareAttack } from "../attack/aware";
import type { DefenseSpec } from "../threat/channel/defenses";
import { median } from "./summary";
import { defenseLabel } from "../threat/channel/registry";
import { inversionSpec, paperDlgSpec } from "../attack/methods";
import { loadMnist, meanImage, type MnistSplit } from "../data/mnist";
import { isRecovered, RECOVERY_MARGIN_DB } from "../metrics/readings";
import { initBackend } from "../core/backend";
import { runTrial } from "../trial/run";
import { fieldsProblem, type StudyRecord } from "./record";
import type { ThreatModel } from "../threat/model";
import type { StudyTask } from "./task";

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

/** The paper's points: Gaussian and Laplacian noise of variance 1e-4…1e-1, pruning 1 %–90 %, fp16, int8. */
export const POINTS: DefenseSpec[] = [
  { name: "none", strength: null },
  ...[1e-4, 1e-3, 1e-2, 1e-1].flatMap((v): DefenseSpec[] => [{ name: "gaussvar", strength: v }, { name: "laplace", strength: v }]),
  ...[0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9].map((p): DefenseSpec => ({ name: "topk", strength: p })),
  { name: "fp16", strength: null },
  { name: "int8", strength: null },
];

export interface AnchorRun { seed: number; psnr: number | null; baseline: number; recovered: boolean; labelAcc: number; attackSeconds: number }
let data: { train: MnistSplit; mean: Float32Array } | undefined;

export function defenseTasks(d: DefenseSpec, seeds: number, attack: "lbfgs" | "adaptive", steps: number): StudyTask<AnchorRun>[] {
  const label = defenseLabel(d);
  return Array.from({ length: seeds }, (_, i) => i + 1).map((seed) => ({
    key: `anchor-${attack}${steps}-${label.replace(":", "")}-seed${seed}`,
    config: { study: "anchor", model: "lenet", defense: label, seed, attack, steps },
    run: async () => {
      if (!data) {
        const train = loadMnist("train");
        data = { train, mean: meanImage(train) };
      }
      const backend = await initBackend("wasm");
      // the DLG paper's defense experiment: LeNet, a cross-entropy victim at lr 0.01 behind the defense
      const threat: ThreatModel = {
        data: data.train, model: "lenet", seed,
        victim: { images: { kind: "first-batch", size: 1 }, loss: "ce" },
        channel: { defense: d, lr: 0.01 }, server: { mean: data.mean },
      };
      const spec = attack === "adaptive" ? inversionSpec("adaptive", { ...awareAttack(d), iterations: steps }) : paperDlgSpec(steps);
      const r = runTrial(threat, spec);
      const m = attackMetrics(r.reconstruction, r.target.x, { batch: 1, height: 28, width: 28 }, r.dummyY, r.target.y);
      if (Number.isNaN(m.psnr)) throw new Error(`PSNR is NaN for ${label}, seed ${seed}`);
      return { backend, result: { seed, psnr: Number.isFinite(m.psnr) ? m.psnr : null, baseline: r.baselinePsnr, recovered: isRecovered(m.psnr, r.baselinePsnr), labelAcc: m.labelAcc, attackSeconds: r.seconds } };
    },
    resultProblem: (r) => fieldsProblem(r, [["psnr", "number|null"], ["baseline", "number"], ["labelAcc", "number"], ["attackSeconds", "number"]]),
    describe: (r) => `PSNR ${(r as AnchorRun).psnr?.toFixed(1) ?? "∞"} dB, recovered ${(r as AnchorRun).recovered}`,
  }));
}


/** The study's JSON (docs/defense-anchor.json) from the records of its points, in their order. */
export function anchorResult(points: readonly { d: DefenseSpec; recs: readonly (StudyRecord & AnchorRun)[] }[], meta: { attack: string; steps: number; seeds: number }) {
  const rows = [];
  let backend = "";
  let seconds = 0;
  for (const { d, recs } of points) {
    if (!recs.length) continue;
    backend = recs.at(-1)!.backend!;
    seconds += recs.reduce((a, r) => a + r.seconds, 0);
    const runs = recs.map((r) => ({ seed: r.seed, psnr: r.psnr, baseline: r.baseline, recovered: r.recovered, labelAcc: r.labelAcc, seconds: r.attackSeconds }));
    const psnrs = runs.map((r) => r.psnr ?? Infinity);
    rows.push({ defense: defenseLabel(d), runs, psnr: median(psnrs), recovered: runs.filter((r) => r.recovered).length, n: runs.length, labelAcc: runs.filter((r) => r.labelAcc === 1).length });
  }
  return { generatedAt: new Date().toISOString(), backend, model: "lenet", attack: meta.attack, steps: meta.steps, seeds: meta.seeds, recoveryMarginDb: RECOVERY_MARGIN_DB, seconds, rows };
}
