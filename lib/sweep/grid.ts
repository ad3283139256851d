/**
 * The sweep's grid: sparsity × attack × DGC variant × seed, one independent job per point, each
 * with a stable, human-readable key (`s0.9-dlg-seed-seed3`) from which the job can be rebuilt on
 * its own (`--only <key>`), so any scheduler can fan the grid out.
 *
 * Sparsity 0 is the uncompressed baseline: the seed's Momentum (lr 0.01, Examples 2 and 3), whatever
 * the variants asked for, under the variant name `dense` — so it is one job per attack and seed.
 */
import { ADAPTIVE_ATTACK } from "../attack/adaptive";
import { IG_ATTACK } from "../attack/ig";
import { DEFAULTS } from "../config";
import { DGC_VARIANTS, dgcVariantSettings, type DGCSettings, type DGCVariant } from "../optim/variants";
import type { InversionAttack } from "../attack/invert";
import type { BackendChoice } from "../backend";
import type { LabelInit, LabelRule } from "../config";

export const ATTACKS = ["dlg", "ig", "adaptive"] as const;
export type AttackName = (typeof ATTACKS)[number];
export type VariantName = DGCVariant | "dense";
export const VARIANT_NAMES: readonly VariantName[] = [...DGC_VARIANTS, "dense"];

/** The seed's DLG as dgc_demo runs it (Examples 1, 2); metrics are taken at its last iteration. */
export interface DLGParams {
  kind: "dlg";
  iterations: number;
  lr: number;
  victimLoss: "sse";
  labelInit: LabelInit;
  labelRule: LabelRule;
}
export interface InversionParams extends InversionAttack {
  kind: "ig" | "adaptive";
}
export type AttackParams = DLGParams | InversionParams;

export interface TrainingParams {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: "Momentum" | "DGCMomentum";
  /** DGC settings beyond the sparsity (the variant's refinements); {} for Momentum. */
  dgc: DGCSettings;
  /** Use only the first N training images (quick runs, tests); null: all 60,000. */
  subset: number | null;
}

/** Everything that determines a job's result. Stored in its record and compared on resume. */
export interface JobConfig {
  key: string;
  sparsity: number;
  attack: AttackName;
  variant: VariantName;
  seed: number;
  model: "linear";
  backend: BackendChoice;
  attackParams: AttackParams;
  training: TrainingParams;
}

/** What is not part of the key: shared by every job of a sweep. */
export interface CommonSettings {
  /** Attack iterations for every attack; null: each attack's default. */
  iterations: number | null;
  epochs: number;
  backend: BackendChoice;
  trainSubset: number | null;
}

export const DEFAULT_COMMON: CommonSettings = { iterations: null, epochs: 2, backend: "auto", trainSubset: null };

export interface GridSpec {
  sparsities: readonly number[];
  seeds: readonly number[];
  attacks: readonly AttackName[];
  variants: readonly DGCVariant[];
}

export interface JobPoint {
  sparsity: number;
  attack: AttackName;
  variant: VariantName;
  seed: number;
}

export class GridError extends Error {}

/** A number in plain decimal notation, exactly as round-trip as String(x) but never "1e-7" (keys stay parseable). */
export function plainDecimal(x: number): string {
  const s = String(x);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[1] + (m[2] ?? "");
  const exp = Number(m[3]);
  return exp < 0 ? `0.${"0".repeat(-exp - 1)}${digits}` : digits.padEnd(exp + 1, "0");
}

export function jobKey(p: JobPoint): string {
  return `s${plainDecimal(p.sparsity)}-${p.attack}-${p.variant}-seed${p.seed}`;
}

const KEY = /^s(\d+(?:\.\d+)?)-([a-z]+)-([a-z]+)-seed(\d+)$/;

/** The inverse of `jobKey`; throws GridError (one line) for anything that is not a valid key. */
export function parseKey(key: string): JobPoint {
  const m = KEY.exec(key);
  if (!m) throw new GridError(`not a job key: '${key}' (expected e.g. s0.9-dlg-seed-seed3)`);
  const p: JobPoint = { sparsity: Number(m[1]), attack: m[2] as AttackName, variant: m[3] as VariantName, seed: Number(m[4]) };
  if (!ATTACKS.includes(p.attack)) throw new GridError(`job key '${key}': unknown attack '${m[2]}' (choose from ${ATTACKS.join(", ")})`);
  if (!VARIANT_NAMES.includes(p.variant)) throw new GridError(`job key '${key}': unknown variant '${m[3]}' (choose from ${VARIANT_NAMES.join(", ")})`);
  checkPoint(p, key);
  return p;
}

function checkPoint(p: JobPoint, key: string): void {
  if (!(p.sparsity >= 0 && p.sparsity < 1)) throw new GridError(`job '${key}': sparsity must be in [0, 1), got ${p.sparsity}`);
  if ((p.sparsity === 0) !== (p.variant === "dense")) throw new GridError(`job '${key}': sparsity 0 goes with variant 'dense' and only it`);
  if (!Number.isSafeInteger(p.seed) || p.seed < 0) throw new GridError(`job '${key}': seed must be an integer >= 0`);
  if (jobKey(p) !== key) throw new GridError(`job key '${key}' is not in canonical form (${jobKey(p)})`);
}

/**
 * An attack's settings for a job. The adaptive attacker knows the DGC protocol, so it mirrors the
 * victim's local gradient clipping (`dgc.clipNorm`) on its dummy gradient.
 */
export function attackParams(attack: AttackName, iterations: number | null, dgc: DGCSettings = {}): AttackParams {
  if (attack === "dlg") {
    return { kind: "dlg", iterations: iterations ?? DEFAULTS.attack_epoch, lr: DEFAULTS.attack_lr, victimLoss: "sse", labelInit: DEFAULTS.label_init, labelRule: DEFAULTS.label_rule };
  }
  const base = attack === "ig" ? IG_ATTACK : { ...ADAPTIVE_ATTACK, clipNorm: dgc.clipNorm ?? null };
  return { kind: attack, ...base, iterations: iterations ?? base.iterations };
}

/** The full configuration of one job. Train lr: 0.01 for Momentum (Example 3), 0.001 for DGC (Example 4). */
export function jobConfig(p: JobPoint, common: CommonSettings): JobConfig {
  const key = jobKey(p);
  checkPoint(p, key);
  const dense = p.variant === "dense";
  const dgc = dense ? {} : dgcVariantSettings(p.variant as DGCVariant);
  return {
    key,
    ...p,
    model: "linear",
    backend: common.backend,
    attackParams: attackParams(p.attack, common.iterations, dgc),
    training: {
      epochs: common.epochs,
      batchSize: DEFAULTS.train_batch_size,
      lr: dense ? 0.01 : 0.001,
      optimizer: dense ? "Momentum" : "DGCMomentum",
      dgc,
      subset: common.trainSubset,
    },
  };
}

/** Every job of the grid, in a stable order (sparsity, attack, variant, seed); sparsity 0 once per attack and seed. */
export function expandGrid(spec: GridSpec, common: CommonSettings): JobConfig[] {
  const seen = new Set<string>();
  const jobs: JobConfig[] = [];
  for (const sparsity of spec.sparsities)
    for (const attack of spec.attacks)
      for (const v of spec.variants)
        for (const seed of spec.seeds) {
          const variant: VariantName = sparsity === 0 ? "dense" : v;
          const cfg = jobConfig({ sparsity, attack, variant, seed }, common);
          if (!seen.has(cfg.key)) {
            seen.add(cfg.key);
            jobs.push(cfg);
          }
        }
  return jobs;
}
