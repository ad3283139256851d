/**
 * The sweep's summary: every record of a result folder, aggregated over seeds per
 * sparsity × attack × variant × settings (medians; label accuracy as the fraction of seeds right),
 * as a Markdown table and as JSON. Records are aggregated only with records whose whole config is
 * the same but for the seed: runs with other settings (iterations, epochs, training subset, backend,
 * attack parameters) become rows of their own, labelled, never averaged in.
 *
 * "Recovered" means more than the prior: an attack recovers a victim image when its PSNR beats
 * the training set's mean image — what an attacker gets without looking at any gradient — by at
 * least RECOVERY_MARGIN_DB, i.e. it has at most half the mean image's squared error. PSNR, not SSIM,
 * decides: the seed's SSIM on [−1, 1] values rates an inverted image highly (both its luminance
 * and its structure terms turn negative, and their product is positive).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, recordProblem, type JobRecord } from "./record";
import { defenseLabel } from "../threat/channel/registry";
import { ATTACKS, VARIANT_NAMES, type AttackName, type JobConfig, type VariantName } from "./grid";
import { DEFENSES } from "../threat/channel/defenses";

import { isRecovered, RECOVERY_MARGIN_DB } from "../metrics/readings";

export interface SummaryRow {
  /** The defense and its strength (`none`, `dgc:0.9`, `topk:0.5`, `int8`). */
  defense: string;
  sparsity: number;
  attack: AttackName;
  variant: VariantName;
  /** The settings every job of the row shares, in short ("2000 it, 2 ep"); rows never mix settings. */
  settings: string;
  /** Attack iterations (distinct values among the row's jobs: one, since rows never mix settings). */
  iterations: number[];
  /** Training epochs (distinct values). */
  epochs: number[];
  /** Done jobs (seeds) aggregated, and failed ones left out. */
  n: number;
  failed: number;
  psnr: number | null;
  ssim: number | null;
  /** Fraction of seeds whose label the attacker got right (and its median, 0 or 1 at batch 1). */
  labelAcc: number;
  labelAccMedian: number;
  baselinePsnr: number | null;
  baselineSsim: number | null;
  /** Jobs with PSNR ≥ the mean image's + RECOVERY_MARGIN_DB. */
  recovered: number;
  /** Median gradient values sent in the attacked step. */
  attackedStepValues: number;
  testAccuracy: number | null;
  valuesPerStep: number | null;
  bytesPerStep: number | null;
  compressionRatio: number | null;
}

export interface Summary {
  out: string;
  generatedAt: string;
  recoveryMarginDb: number;
  records: number;
  failed: { key: string; error: string }[];
  /** Files that are not usable records (partial, corrupt). */
  invalid: { file: string; problem: string }[];
  rows: SummaryRow[];
  /** The distinct settings among the records (more than one: the table has a row per setting). */
  settings: string[];
  /** Per attack, DGC variant and settings: the lowest sparsity at which at most half the seeds are recovered (null: never). */
  stopsRecovering: { attack: AttackName; variant: VariantName; settings: string; sparsity: number | null }[];
  /** The most training steps a record took (0: none trained): the rounds the frontier's ε composes over. Absent in older summaries. */
  trainingSteps?: number;
}

/** The median (of an even count: the mean of the two middle values); null for none. */
export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** median, NaN for none (the study scripts' tables print it as is). */
export function medianOrNaN(xs: readonly number[]): number {
  return median(xs) ?? NaN;
}

const nums = (xs: readonly (number | null | undefined)[]) => xs.filter((x): x is number => typeof x === "number");

/** Every `*.json` record in `out` (summary.json and temporary files aside). */
export function loadRecords(out: string): { records: JobRecord[]; invalid: { file: string; problem: string }[] } {
  const records: JobRecord[] = [];
  const invalid: { file: string; problem: string }[] = [];
  for (const file of readdirSync(out).filter((f) => f.endsWith(".json") && f !== "summary.json").sort()) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(join(out, file), "utf8"));
    } catch (e) {
      invalid.push({ file, problem: `not valid JSON (${(e as Error).message.split("\n")[0]})` });
      continue;
    }
    const problem = recordProblem(value) ?? ((value as JobRecord).key + ".json" !== file ? "file name does not match its key" : null);
    if (problem) invalid.push({ file, problem });
    else records.push(value as JobRecord);
  }
  return { records, invalid };
}

function order<T>(list: readonly T[], x: T): number {
  return list.indexOf(x);
}

/** A row of the DGC sparsity line (DGC or the dense baseline), not another defense (rows read from older summaries have no `defense`). */
export function isDgcRow(r: Pick<SummaryRow, "defense">): boolean {
  return r.defense === undefined || r.defense === "none" || r.defense.startsWith("dgc:");
}

/** A job's defense as the sweep's --defense names it (`none`, `dgc:0.9`, `topk:0.5`, `int8`): its DefenseSpec's label, else its DGC sparsity's. */
export function jobDefenseLabel(c: Pick<JobConfig, "sparsity" | "defense">): string {
  if (c.defense) return defenseLabel(c.defense);
  return c.sparsity === 0 ? "none" : `dgc:${c.sparsity}`;
}

/** What a job's config says beyond its grid point, in short: iterations, epochs, and any non-default subset or backend. */
export function settingsLabel(c: JobRecord["config"]): string {
  const parts = [`${c.attackParams.iterations} it`, `${c.training.epochs} ep`];
  if (c.model !== "linear") parts.unshift(c.model);
  if (c.training.subset !== null) parts.push(`subset ${c.training.subset}`);
  if (c.backend !== "auto") parts.push(c.backend);
  return parts.join(", ");
}

/**
 * Groups records whose configs are equal but for the seed. Groups of one grid point whose short
 * labels coincide but whose configs differ elsewhere (say, another attack default) get "#1", "#2".
 */
function groupBySettings(records: readonly JobRecord[]): { settings: string; records: JobRecord[] }[] {
  const groups = new Map<string, { point: string; label: string; records: JobRecord[] }>();
  for (const r of records) {
    const { key: _key, seed: _seed, ...rest } = r.config;
    const sig = canonicalJson(rest);
    const g = groups.get(sig) ?? { point: `${jobDefenseLabel(r.config)}|${r.config.sparsity}|${r.config.attack}|${r.config.variant}`, label: settingsLabel(r.config), records: [] };
    g.records.push(r);
    groups.set(sig, g);
  }
  const all = [...groups.values()];
  return all.map((g) => {
    const twins = all.filter((h) => h.point === g.point && h.label === g.label);
    return { settings: twins.length > 1 ? `${g.label} #${twins.indexOf(g) + 1}` : g.label, records: g.records };
  });
}

export function summarize(records: readonly JobRecord[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const { settings, records: group } of groupBySettings(records)) {
    const c = group[0].config;
    const done = group.filter((r) => r.status === "done");
    const distinct = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
    const labels = done.map((r) => r.attack!.labelAcc);
    rows.push({
      defense: jobDefenseLabel(c),
      sparsity: c.sparsity,
      attack: c.attack,
      variant: c.variant,
      settings,
      iterations: distinct(group.map((r) => r.config.attackParams.iterations)),
      epochs: distinct(group.map((r) => r.config.training.epochs)),
      n: done.length,
      failed: group.length - done.length,
      psnr: median(nums(done.map((r) => r.attack!.psnr))),
      ssim: median(nums(done.map((r) => r.attack!.ssim))),
      labelAcc: labels.length ? labels.reduce((a, b) => a + b, 0) / labels.length : 0,
      labelAccMedian: median(labels) ?? 0,
      baselinePsnr: median(nums(done.map((r) => r.baseline!.psnr))),
      baselineSsim: median(nums(done.map((r) => r.baseline!.ssim))),
      recovered: done.filter((r) => recovered(r)).length,
      attackedStepValues: median(done.map((r) => r.attack!.sentValues)) ?? 0,
      testAccuracy: median(nums(done.map((r) => (r.training!.steps > 0 ? r.training!.testAccuracy : null)))),
      valuesPerStep: median(nums(done.map((r) => r.training!.valuesPerStep))),
      bytesPerStep: median(nums(done.map((r) => r.training!.bytesPerStep))),
      compressionRatio: median(nums(done.map((r) => r.training!.compressionRatio))),
    });
  }
  // per attack: the dense baseline first, then each variant by sparsity, then the other defenses by strength
  const variants: readonly VariantName[] = ["dense", ...VARIANT_NAMES.filter((v) => v !== "dense")];
  const defenseOrder = (r: SummaryRow) => (isDgcRow(r) ? -1 : order(DEFENSES, r.defense.split(":")[0] as never));
  const strength = (r: SummaryRow) => Number(r.defense.split(":")[1] ?? 0);
  return rows.sort(
    (a, b) =>
      order(ATTACKS, a.attack) - order(ATTACKS, b.attack) || defenseOrder(a) - defenseOrder(b) || order(variants, a.variant) - order(variants, b.variant) ||
      a.settings.localeCompare(b.settings, "en", { numeric: true }) || a.sparsity - b.sparsity || strength(a) - strength(b),
  );
}

/** PSNR at least RECOVERY_MARGIN_DB above the mean image's (an exact match, PSNR null = ∞, counts). */
export function recovered(r: JobRecord): boolean {
  if (r.status !== "done") return false;
  const p = r.attack!.psnr ?? (r.attack!.mse === 0 ? Infinity : -Infinity);
  const b = r.baseline!.psnr ?? Infinity;
  return isRecovered(p, b);
}

/** For each attack and DGC variant (the dense rows count for every variant): the first sparsity where ≤ half the seeds are recovered. */
export function stopsRecovering(rows: readonly SummaryRow[]): Summary["stopsRecovering"] {
  const out: Summary["stopsRecovering"] = [];
  const settingsList = [...new Set(rows.map((r) => r.settings))];
  for (const attack of ATTACKS)
    for (const variant of VARIANT_NAMES.filter((v) => v !== "dense"))
      for (const settings of settingsList) {
        const line = rows
          .filter((r) => isDgcRow(r) && r.attack === attack && (r.variant === variant || r.variant === "dense") && r.settings === settings && r.n > 0)
          .sort((a, b) => a.sparsity - b.sparsity);
        if (!line.some((r) => r.variant === variant)) continue;
        const stop = line.find((r) => r.recovered * 2 <= r.n);
        out.push({ attack, variant, settings, sparsity: stop ? stop.sparsity : null });
      }
  return out;
}

export function buildSummary(out: string): Summary {
  const { records, invalid } = loadRecords(out);
  const rows = summarize(records);
  return {
    out,
    generatedAt: new Date().toISOString(),
    recoveryMarginDb: RECOVERY_MARGIN_DB,
    records: records.length,
    failed: records.filter((r) => r.status === "failed").map((r) => ({ key: r.key, error: r.error ?? "" })),
    invalid,
    rows,
    settings: [...new Set(rows.map((r) => r.settings))],
    stopsRecovering: stopsRecovering(rows),
    trainingSteps: Math.max(0, ...records.map((r) => r.training?.steps ?? 0)),
  };
}

function fmt(x: number | null, digits: number): string {
  return x === null ? "–" : x.toFixed(digits);
}

/** Bytes as tables and figures print them: "31.4 kB", "638 B", "–" for none. */
export function fmtBytes(x: number | null): string {
  if (x === null) return "–";
  return x >= 1000 ? `${(x / 1000).toFixed(1)} kB` : `${Math.round(x)} B`;
}

/** A row's settings label; summaries written before labels existed get one from their iterations and epochs. */
function rowSettings(r: SummaryRow): string {
  return r.settings ?? `${r.iterations.join("/")} it, ${r.epochs.join("/")} ep`;
}

export function summaryMarkdown(s: Summary): string {
  // one setting: said once below the table; several: a column, so no row can be mistaken for another's
  const settings = s.settings ?? [...new Set(s.rows.map(rowSettings))];
  const mixed = settings.length > 1;
  const head =
    `| sparsity | attack | variant |${mixed ? " settings |" : ""} seeds | PSNR dB | SSIM | label acc | recovered | mean-image PSNR | mean-image SSIM | values sent (attacked step) | test acc | values/step | bytes/step | ratio | defense |\n` +
    `|---|---|---|${mixed ? "---|" : ""}---|---|---|---|---|---|---|---|---|---|---|---|---|`;
  const lines = s.rows.map((r) =>
    [
      r.sparsity, r.attack, r.variant, ...(mixed ? [rowSettings(r)] : []), r.failed ? `${r.n} (+${r.failed} failed)` : r.n,
      fmt(r.psnr, 2), fmt(r.ssim, 3), fmt(r.labelAcc, 2), `${r.recovered}/${r.n}`,
      fmt(r.baselinePsnr, 2), fmt(r.baselineSsim, 3), Math.round(r.attackedStepValues),
      fmt(r.testAccuracy, 4), fmt(r.valuesPerStep, 0), fmtBytes(r.bytesPerStep), r.compressionRatio === null ? "–" : `${r.compressionRatio.toFixed(1)}×`,
      r.defense,
    ].join(" | "),
  );
  const stops = s.stopsRecovering.map((x) => `- ${x.attack} / ${x.variant}${mixed ? ` (${x.settings})` : ""}: ${x.sparsity === null ? "recovers at every sparsity swept" : x.sparsity === 0 ? "recovers at no sparsity swept (not even without compression)" : `stops recovering at sparsity ${x.sparsity}`}`);
  const notes = [
    `Medians over seeds; label acc = fraction of seeds labelled right; recovered = PSNR ≥ mean-image PSNR + ${s.recoveryMarginDb} dB.`,
    mixed
      ? `These records were made with ${settings.length} different settings (${settings.join("; ")}); each row aggregates jobs of one setting only.`
      : `Settings: ${settings[0] ?? "–"} (it: attack iterations, ep: training epochs).`,
    ...(s.failed.length ? [`Failed jobs: ${s.failed.map((f) => `${f.key} (${f.error})`).join("; ")}`] : []),
    ...(s.invalid.length ? [`Unusable files: ${s.invalid.map((f) => `${f.file} (${f.problem})`).join("; ")}`] : []),
  ];
  return [head, ...lines.map((l) => `| ${l} |`), "", ...stops, "", ...notes].join("\n");
}

/** A summary written by `npm run sweep -- --summary` (e.g. docs/sweep-summary.json). */
export function readSummary(file: string): Summary {
  return JSON.parse(readFileSync(file, "utf8")) as Summary;
}
