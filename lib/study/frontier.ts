/**
 * The privacy–utility–bandwidth frontier of a defense sweep: per attack, one point per defense ×
 * strength with the attack's median PSNR and fraction of victims recovered (privacy), the test
 * accuracy training reaches under the defense (utility) and the bytes one step uploads (bandwidth).
 *
 * A point is on the Pareto front of its attack when no other point is at least as good on all three
 * — leaks no more, accuracy no lower, bytes no higher — and strictly better on one. "Leaks" orders by
 * the fraction of victims recovered, then by PSNR = max(attack, mean image) (an attacker can always
 * answer the training set's mean image); points that recover nothing tie, so failures do not rank
 * among themselves by noise below the threshold. Test accuracy
 * and bytes do not depend on the attack, so a point takes them from whichever job of the same
 * defense trained (the study trains once per defense and seed, with the DLG jobs).
 */
import { RECOVERY_MARGIN_DB } from "../metrics/readings";
import { jobDefenseLabel, fmtBytes, isDgcRow, type SummaryRow } from "./summary";
import { DEFAULT_COMMON, jobConfig, type AttackName, type SweepModel } from "./grid";
import { jobContext, runJobAttack, type SweepData } from "./job";
import { PIXELS } from "../data/mnist";
import type { DefenseSpec } from "../threat/channel/defenses";
import { gaussianGuarantee } from "../optim/rdp";
import { bytesTickText, type Figure } from "../viz/plots";
import type { LabelledGrid } from "../viz/labelled";

export interface FrontierPoint {
  defense: string;
  attack: string;
  /** Victims (seeds) attacked, and how many were recovered (PSNR ≥ mean image + 3 dB). */
  n: number;
  recovered: number;
  psnr: number | null;
  baselinePsnr: number | null;
  /** max(psnr, baselinePsnr) of the medians: what the front compares. */
  privacyPsnr: number | null;
  testAccuracy: number | null;
  bytesPerStep: number | null;
  /** Values sent in the attacked step (0: the step sent nothing, which is silence, not protection). */
  attackedStepValues: number;
  pareto: boolean;
  /** For the `strongest` points: the attack that did best on this defense. */
  via?: string;
  /** The attack's iterations (L-BFGS: steps), and the model, from the summary row. */
  iterations?: number[];
  model?: "linear" | "lenet";
}

/** Training rounds of the study (2 epochs of ceil(60000/64) = 938 steps) and its δ, for the `gaussian` points' ε. */
export const FRONTIER_ROUNDS = 1876;
export const FRONTIER_DELTA = 1e-5;

/** "ε per round / over all rounds" of a `gaussian:σ` point (add/remove one client, δ = FRONTIER_DELTA); "" for the others. */
export function privacyNote(defense: string, rounds = FRONTIER_ROUNDS, delta = FRONTIER_DELTA): string {
  const m = /^gaussian:(.+)$/.exec(defense);
  if (!m) return "";
  const e = (t: number) => gaussianGuarantee(Number(m[1]), t, delta).epsilon.toPrecision(3);
  return `ε ${e(1)} / ${e(rounds)}`;
}

/** The defense sweep's rows (the DGC line's other variants left out: `variant` picks one). */
export function frontierPoints(rows: readonly SummaryRow[], variant = "seed"): FrontierPoint[] {
  const sel = rows.filter((r) => r.n > 0 && (!isDgcRow(r) || r.variant === variant || r.variant === "dense"));
  const trained = new Map<string, SummaryRow>();
  for (const r of sel) if (r.testAccuracy !== null && !trained.has(r.defense)) trained.set(r.defense, r);
  const points: FrontierPoint[] = sel.map((r) => {
    const t = trained.get(r.defense);
    return {
      defense: r.defense, attack: r.attack, n: r.n, recovered: r.recovered, psnr: r.psnr, baselinePsnr: r.baselinePsnr,
      privacyPsnr: r.psnr === null ? null : Math.max(r.psnr, r.baselinePsnr ?? -Infinity),
      testAccuracy: t?.testAccuracy ?? null, bytesPerStep: t?.bytesPerStep ?? null, attackedStepValues: r.attackedStepValues, pareto: false,
      iterations: r.iterations, model: r.settings?.startsWith("lenet") ? "lenet" : "linear",
    };
  });
  points.push(...strongest(points));
  for (const attack of new Set(points.map((p) => p.attack))) markPareto(points.filter((p) => p.attack === attack));
  return points;
}

/** The name of the synthetic attack that, per defense, is whichever attack did best. */
export const STRONGEST = "strongest";

/**
 * Per defense, the attack that recovered the most victims (ties: the higher PSNR): what the defender
 * must plan for, since an attacker picks its attack. It is a lower bound on the best attack there is.
 */
export function strongest(points: readonly FrontierPoint[]): FrontierPoint[] {
  const best = new Map<string, FrontierPoint>();
  for (const p of points) {
    const b = best.get(p.defense);
    const score = (q: FrontierPoint) => [q.recovered / q.n, q.privacyPsnr ?? -Infinity];
    const [r, s] = score(p);
    if (!b || r > score(b)[0] || (r === score(b)[0] && s > score(b)[1])) best.set(p.defense, p);
  }
  return [...best.values()].map((p) => ({ ...p, attack: STRONGEST, via: p.attack, pareto: false }));
}

/**
 * How much an attack got, as one ordered key: the fraction of victims recovered, then (among equal
 * fractions) PSNR = max(attack, mean image). Nothing recovered ties, whatever the PSNR below the
 * threshold: those differences are noise, not privacy.
 */
function leak(p: FrontierPoint): [number, number] {
  return p.recovered === 0 ? [0, 0] : [p.recovered / p.n, p.privacyPsnr!];
}
const cmp = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

/** Sets `pareto` on the points no other point dominates (less leak, more accuracy, fewer bytes; points missing one are never on it). */
export function markPareto(points: FrontierPoint[]): void {
  const full = points.filter((p) => p.privacyPsnr !== null && p.testAccuracy !== null && p.bytesPerStep !== null);
  for (const p of points) p.pareto = false;
  // one point alone is no front: nothing to compare it with
  if (full.length < 2) return;
  for (const p of full) {
    p.pareto = !full.some((q) => {
      const l = cmp(leak(q), leak(p));
      return q !== p && l <= 0 && q.testAccuracy! >= p.testAccuracy! && q.bytesPerStep! <= p.bytesPerStep! &&
        (l < 0 || q.testAccuracy! > p.testAccuracy! || q.bytesPerStep! < p.bytesPerStep!);
    });
  }
}

const f = (x: number | null, d: number) => (x === null ? "–" : x.toFixed(d));

/**
 * The frontier as one Markdown table: a row per defense × strength (bytes, accuracy), a column per
 * attack with its median PSNR, victims recovered, and ★ where the point is on that attack's front.
 */
export function frontierMarkdown(points: readonly FrontierPoint[], rounds = FRONTIER_ROUNDS): string {
  const attacks = [...new Set(points.map((p) => p.attack))];
  const defenses = [...new Set(points.map((p) => p.defense))];
  const head = `| defense | bytes / step | test acc | values sent (attacked step) | ${attacks.map((a) => `${a} PSNR dB (recovered)`).join(" | ")} | (ε, δ = ${FRONTIER_DELTA}): 1 round / ${rounds} |`;
  const rule = `|---|---|---|---|${attacks.map(() => "---").join("|")}|---|`;
  const lines = defenses.map((d) => {
    const ps = points.filter((p) => p.defense === d);
    const any = ps[0];
    const cells = attacks.map((a) => {
      const p = ps.find((q) => q.attack === a);
      return p ? `${f(p.psnr, 1)} (${p.recovered}/${p.n})${p.via ? ` ${p.via}` : ""}${p.pareto ? " ★" : ""}` : "–";
    });
    return `| ${d} | ${fmtBytes(any.bytesPerStep)} | ${f(any.testAccuracy, 3)} | ${Math.round(any.attackedStepValues)} | ${cells.join(" | ")} | ${privacyNote(d, rounds)} |`;
  });
  return [head, rule, ...lines, "", attacksLegend(points)].join("\n");
}

/**
 * What each attack column is: method, optimizer and iterations (from the points' rows), so two
 * tables of "adaptive" with different optimizers cannot be read as one.
 */
export function attacksLegend(points: readonly Pick<FrontierPoint, "attack" | "iterations" | "model">[], model?: "linear" | "lenet"): string {
  const lenet = model === "lenet" || points.some((p) => p.model === "lenet");
  const its = (a: string) => {
    const xs = [...new Set(points.filter((p) => p.attack === a).flatMap((p) => p.iterations ?? []))];
    return xs.length ? xs.join("/") : "?";
  };
  const what = (a: string): string => {
    switch (a) {
      case "dlg": return `the seed's DLG (plain gradient descent, lr 0.2, ${its(a)} iterations)`;
      case "ig": return `Inverting Gradients (cosine + TV, Adam, ${its(a)} iterations)`;
      case "adaptive": return lenet ? `the defense-aware attacker (L-BFGS, ${its(a)} steps)` : `the defense-aware attacker (Adam, ${its(a)} iterations)`;
      case "lbfgs": return `the DLG paper's DLG (L-BFGS over image and label, ${its(a)} steps)`;
      case "analytic": return "the analytic attack (one division per pixel, no optimization)";
      case STRONGEST: return "per defense, whichever attack above did best";
      default: return a;
    }
  };
  return `Attacks: ${[...new Set(points.map((p) => p.attack))].map((a) => `**${a}** = ${what(a)}`).join("; ")}.`;
}

/**
 * Why one attack's frontier is not drawn (fewer than two points with PSNR, accuracy and bytes:
 * a frontier of one point says nothing), or null when it is.
 */
export function frontierSkipReason(points: readonly FrontierPoint[], attack: string): string | null {
  const all = points.filter((p) => p.attack === attack);
  const ps = all.filter((p) => p.psnr !== null && p.testAccuracy !== null && p.bytesPerStep !== null);
  if (ps.length >= 2) return null;
  const missing = all.filter((p) => p.testAccuracy === null || p.bytesPerStep === null).map((p) => p.defense);
  return `No frontier is drawn against ${attack}: only ${ps.length === 1 ? `one defense (${ps[0].defense}) has` : "no defense has"} an attack PSNR, a test accuracy and a byte count together${missing.length ? ` (${missing.join(", ")} ${missing.length === 1 ? "was" : "were"} attacked but not trained in this summary)` : ""}, and a frontier needs at least two points.`;
}

/**
 * The frontier's answer, computed from its points (the `strongest` attack per defense, or `attack`):
 * which defenses stop every attack measured, at what accuracy and bytes, and where DGC stands.
 */
export function frontierVerdict(points: readonly FrontierPoint[], attack = STRONGEST): string {
  const ps = points.filter((p) => p.attack === attack);
  if (!ps.length) return `No points for ${attack}.`;
  const none = ps.find((p) => p.defense === "none");
  const stops = ps.filter((p) => p.recovered === 0);
  const leaks = ps.filter((p) => p.recovered > 0);
  const acc = (p: FrontierPoint) => (p.testAccuracy === null ? "accuracy not measured" : `test accuracy ${p.testAccuracy.toFixed(3)}`);
  const desc = (p: FrontierPoint) => `${p.defense} (${acc(p)}, ${fmtBytes(p.bytesPerStep)} per step${p.attackedStepValues === 0 ? "; its attacked step sent nothing — silence, not protection" : ""})`;
  const best = [...stops].filter((p) => p.testAccuracy !== null && p.attackedStepValues > 0).sort((a, b) => b.testAccuracy! - a.testAccuracy!)[0];
  const dgc = ps.filter((p) => p.defense.startsWith("dgc:"));
  const dgcStops = dgc.filter((p) => p.recovered === 0);
  const lines = [
    `**The answer, from the ${ps.length} rows above** (defense × strength, "none" included; each against ${attack === STRONGEST ? "the strongest attack measured on it" : attack}, ${ps[0].n} victims):`,
    `- **${stops.length} of ${ps.length}** stop every attack measured (no victim recovered): ${stops.length ? stops.map(desc).join("; ") : "none"}.`,
    `- **${leaks.length}** leak at least one victim: ${leaks.map((p) => `${p.defense} (${p.recovered}/${p.n} by ${p.via ?? attack})`).join(", ") || "none"}.`,
    best ? `- The most accurate defense that stops every attack while still sending something: **${best.defense}**, ${acc(best)}${none?.testAccuracy != null ? ` (no defense: ${none.testAccuracy.toFixed(3)})` : ""}, ${fmtBytes(best.bytesPerStep)} per step${none?.bytesPerStep != null ? ` (no defense: ${fmtBytes(none.bytesPerStep)})` : ""}.` : "- No defense stops every attack while still sending something.",
    dgc.length
      ? `- **DGC**: ${dgc.map((p) => `${p.defense} ${p.recovered}/${p.n} recovered`).join(", ")}. ${
          dgcStops.some((p) => p.attackedStepValues > 0)
            ? `DGC stops every attack measured at ${dgcStops.filter((p) => p.attackedStepValues > 0).map((p) => p.defense).join(", ")} while sending values; elsewhere it leaks.`
            : `${dgcStops.length ? `DGC stops the attacks only at ${dgcStops.map((p) => p.defense).join(", ")}, where the attacked step sent nothing (the values leave in later steps); every other DGC point leaks` : "Every DGC point leaks"}: in these measurements gradient compression is a bandwidth technique, not a privacy mechanism to rely on.`
        }`
      : "- No DGC point in this summary.",
  ];
  return lines.join("\n");
}

/** A Plotly marker symbol per defense family (frontier.ts's and frontier_map.ts's figures). */
export const FAMILY_SYMBOL: Record<string, string> = {
  // filled symbols only: an open one is drawn in its fill colour, which can be a pale yellow on white
  none: "circle", dgc: "diamond", topk: "square", randk: "hexagon", gaussian: "cross", gaussvar: "x",
  laplace: "hourglass", fp16: "triangle-up", int8: "triangle-down", signsgd: "star",
};

/** The integer decades in [lo, hi] (log10 units), for a colour bar labelled in bytes. */
const decadeTicks = (lo: number, hi: number) => Array.from({ length: Math.max(0, Math.floor(hi) - Math.ceil(lo) + 1) }, (_, i) => Math.ceil(lo) + i);

/**
 * One attack's frontier: attack PSNR (x) against test accuracy (y), bytes per step as the colour
 * (log10), a symbol per defense family, the Pareto front ringed and joined; hover names each point.
 * `model` names the model in the title (the Linear figures of before have none).
 */
export function frontierFigure(points: readonly FrontierPoint[], attack: string, model?: string): Figure {
  const ps = points.filter((p) => p.attack === attack && p.psnr !== null && p.testAccuracy !== null && p.bytesPerStep !== null);
  const families = [...new Set(ps.map((p) => p.defense.split(":")[0]))];
  const hover = (p: FrontierPoint) =>
    `<b>${p.defense}</b>${p.via ? ` (by ${p.via})` : ""}<br>PSNR ${f(p.psnr, 1)} dB, recovered ${p.recovered}/${p.n}<br>test acc ${f(p.testAccuracy, 3)}<br>${fmtBytes(p.bytesPerStep)} / step` +
    `${p.attackedStepValues === 0 ? "<br>attacked step sent nothing" : ""}${p.pareto ? "<br>★ Pareto" : ""}`;
  const allBytes = ps.map((p) => Math.log10(p.bytesPerStep!));
  const [cmin, cmax] = [Math.min(...allBytes), Math.max(...allBytes)];
  // a colour bar of one value, or a "front" of one point, would say nothing (frontierSkipReason)
  const several = ps.length >= 2 && cmax > cmin;
  const data: Record<string, unknown>[] = families.map((fam, i) => {
    const qs = ps.filter((p) => p.defense.split(":")[0] === fam);
    return {
      type: "scatter", mode: "markers", name: fam,
      x: qs.map((p) => p.psnr), y: qs.map((p) => p.testAccuracy),
      text: qs.map(hover), hovertemplate: "%{text}<extra></extra>",
      marker: {
        size: 13, symbol: FAMILY_SYMBOL[fam] ?? "circle", color: qs.map((p) => Math.log10(p.bytesPerStep!)), cmin, cmax, colorscale: "Viridis",
        showscale: i === 0 && several,
        colorbar: { title: { text: "bytes / step" }, tickvals: decadeTicks(cmin, cmax), ticktext: decadeTicks(cmin, cmax).map((e) => bytesTickText(10 ** e)) },
        // a visible outline on every marker: the top of Viridis (the largest uploads) is a pale yellow
        line: { width: qs.map((p) => (p.pareto ? 3 : 1.5)), color: "#222" },
      },
    };
  });
  const front = ps.length >= 2 ? ps.filter((p) => p.pareto).sort((a, b) => a.psnr! - b.psnr!) : [];
  data.push({ type: "scatter", mode: "lines", name: "Pareto front", x: front.map((p) => p.psnr), y: front.map((p) => p.testAccuracy), line: { color: "#000", dash: "dot", width: 1 }, hoverinfo: "skip" });
  const base = ps.find((p) => p.baselinePsnr !== null)?.baselinePsnr ?? undefined;
  return {
    data,
    layout: {
      title: { text: `Defense frontier${model ? ` on ${model}` : ""} against ${attack}: attack PSNR vs test accuracy (colour: bytes per step)` },
      height: 480,
      xaxis: { title: { text: `${attack}'s median PSNR (dB, lower = more private)` } },
      yaxis: { title: { text: "test accuracy after training under the defense" } },
      legend: { orientation: "h", y: -0.2 },
      shapes: base === undefined ? [] : [{ type: "line", x0: base + RECOVERY_MARGIN_DB, x1: base + RECOVERY_MARGIN_DB, yref: "paper", y0: 0, y1: 1, line: { color: "#888", dash: "dash" } }],
      annotations: base === undefined ? [] : [{ x: base + RECOVERY_MARGIN_DB, yref: "paper", y: 1.03, text: "recovered (mean image + 3 dB)", showarrow: false, font: { color: "#666" } }],
    },
  };
}

/**
 * One victim (seed) under several defenses, attacked by one attack with `iterations` each (round 0,
 * no training): the grid's rows for `gridPng` (the victim alone, then the reconstructions in the
 * order of `defenses`) and a caption naming each with its PSNR.
 */
export async function defenseGallery(
  data: SweepData,
  opts: {
    seed: number; defenses: readonly DefenseSpec[]; attack: AttackName; iterations: number; model?: SweepModel;
    /** After each defense's attack: its cell, the victim, and how many of the defenses are done. */
    onCell?: (cell: { label: string; psnr: number | null; x: Float32Array }, target: Float32Array, done: number) => void;
  },
): Promise<DefenseGallery> {
  const common = { ...DEFAULT_COMMON, iterations: opts.iterations, epochs: 0 };
  const model = opts.model === "lenet" ? ({ model: "lenet" } as const) : {};
  let target = new Float32Array(PIXELS);
  const cells: { label: string; psnr: number | null; x: Float32Array }[] = [];
  for (const d of opts.defenses) {
    const dgcLine = d.name === "none" || d.name === "dgc";
    const sparsity = d.name === "dgc" ? d.strength! : 0;
    const point = dgcLine ? { sparsity, attack: opts.attack, variant: sparsity ? ("seed" as const) : ("dense" as const), seed: opts.seed } : { sparsity: 0, attack: opts.attack, variant: "dense" as const, seed: opts.seed, defense: d };
    const cfg = jobConfig({ ...point, ...model }, common);
    const r = runJobAttack(cfg, await jobContext(cfg), data);
    target = r.target.subarray(0, PIXELS);
    cells.push({ label: jobDefenseLabel(cfg), psnr: r.attack.psnr, x: r.reconstruction.subarray(0, PIXELS) });
    opts.onCell?.(cells[cells.length - 1], target, cells.length);
  }
  const dB = (p: number | null) => (p === null ? "∞ dB" : `${p.toFixed(1)} dB`);
  const caption = `victim ${opts.seed}, then what the ${opts.attack} attacker (${opts.iterations} ${opts.model === "lenet" ? "steps, LeNet" : "iterations"}) reconstructs under each defense; PSNR against the victim under each image (recovered: at least 3 dB above the training set's mean image)`;
  return {
    seed: opts.seed,
    columns: ["victim", ...cells.map((c) => c.label)],
    images: [target, ...cells.map((c) => c.x)],
    notes: ["", ...cells.map((c) => dB(c.psnr))],
    caption,
  };
}

export interface DefenseGallery {
  seed: number;
  /** "victim", then one defense label per reconstruction. */
  columns: string[];
  images: Float32Array[];
  /** Under each image: its PSNR against the victim. */
  notes: string[];
  caption: string;
}

/** One row per gallery (victim), defenses as columns, PSNRs under the images: for labelledGridPng. */
export function galleryGrid(galleries: readonly DefenseGallery[], title?: string): LabelledGrid {
  return {
    cells: galleries.map((g) => g.images),
    columnLabels: galleries[0].columns,
    rowLabels: galleries.map((g) => `victim ${g.seed}`),
    cellNotes: galleries.map((g) => g.notes),
    title,
  };
}
