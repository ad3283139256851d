/**
 * The sweep's job keys: a stable, human-readable name for every point of the grid
 * (`s0.9-dlg-seed-seed3`, `topk0.5-dlg-seed3`, `lenet-s0.9-adaptive-seed-seed1`) from which the job
 * is rebuilt on its own (`--only <key>`). `parseKey` is `jobKey`'s inverse and accepts only keys in
 * canonical form, so a record's file name always names exactly one job.
 */
import { DGC_VARIANTS, type DGCVariant } from "../optim/variants";
import { checkDefense, DEFENSES, DefenseError, type DefenseName, type DefenseSpec } from "../threat/channel/defenses";

export const ATTACKS = ["dlg", "ig", "adaptive", "analytic", "lbfgs"] as const;
export const SWEEP_MODELS = ["linear", "lenet"] as const;
export type SweepModel = (typeof SWEEP_MODELS)[number];
export type AttackName = (typeof ATTACKS)[number];
export type VariantName = DGCVariant | "dense";
export const VARIANT_NAMES: readonly VariantName[] = [...DGC_VARIANTS, "dense"];

export interface JobPoint {
  sparsity: number;
  attack: AttackName;
  variant: VariantName;
  seed: number;
  /** A defense other than none and dgc (then sparsity 0, variant `dense`). */
  defense?: DefenseSpec;
  /** Absent: the seed's Linear model (its keys carry no model). */
  model?: "lenet";
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

/** `topk:0.5` → `topk0.5`, `int8` → `int8` (the defense part of a key). */
export function defenseKey(d: DefenseSpec): string {
  return `${d.name}${d.strength === null ? "" : plainDecimal(d.strength)}`;
}

export function jobKey(p: JobPoint): string {
  const model = p.model ? `${p.model}-` : "";
  if (p.defense) return `${model}${defenseKey(p.defense)}-${p.attack}-seed${p.seed}`;
  return `${model}s${plainDecimal(p.sparsity)}-${p.attack}-${p.variant}-seed${p.seed}`;
}

const LENET_PREFIX = "lenet-";

const KEY = /^s(\d+(?:\.\d+)?)-([a-z]+)-([a-z]+)-seed(\d+)$/;
const DEFENSE_KEY = new RegExp(`^(${DEFENSES.filter((d) => d !== "none" && d !== "dgc").join("|")})(\\d[\\d.e+-]*)?-([a-z]+)-seed(\\d+)$`);

function parseDefenseKey(key: string): JobPoint {
  const m = DEFENSE_KEY.exec(key);
  if (!m) throw new GridError(`not a job key: '${key}' (expected e.g. s0.9-dlg-seed-seed3 or topk0.5-dlg-seed3)`);
  const name = m[1] as DefenseName;
  let defense: DefenseSpec;
  try {
    defense = checkDefense({ name, strength: m[2] === undefined ? null : Number(m[2]) });
  } catch (e) {
    if (e instanceof DefenseError) throw new GridError(`job key '${key}': ${e.message}`);
    throw e;
  }
  const p: JobPoint = { sparsity: 0, attack: m[3] as AttackName, variant: "dense", seed: Number(m[4]), defense };
  if (!ATTACKS.includes(p.attack)) throw new GridError(`job key '${key}': unknown attack '${m[3]}' (choose from ${ATTACKS.join(", ")})`);
  checkPoint(p, key);
  return p;
}

/** The inverse of `jobKey`; throws GridError (one line) for anything that is not a valid key. */
export function parseKey(key: string): JobPoint {
  if (key.startsWith(LENET_PREFIX)) {
    const p: JobPoint = { ...parseLinearKey(key.slice(LENET_PREFIX.length)), model: "lenet" };
    checkPoint(p, key);
    return p;
  }
  return parseLinearKey(key);
}

function parseLinearKey(key: string): JobPoint {
  const m = KEY.exec(key);
  if (!m) return parseDefenseKey(key);
  const p: JobPoint = { sparsity: Number(m[1]), attack: m[2] as AttackName, variant: m[3] as VariantName, seed: Number(m[4]) };
  if (!ATTACKS.includes(p.attack)) throw new GridError(`job key '${key}': unknown attack '${m[2]}' (choose from ${ATTACKS.join(", ")})`);
  if (!VARIANT_NAMES.includes(p.variant)) throw new GridError(`job key '${key}': unknown variant '${m[3]}' (choose from ${VARIANT_NAMES.join(", ")})`);
  checkPoint(p, key);
  return p;
}

/** Throws GridError (one line) unless the point is valid and `key` is its canonical key. */
export function checkPoint(p: JobPoint, key: string): void {
  if (!(p.sparsity >= 0 && p.sparsity < 1)) throw new GridError(`job '${key}': sparsity must be in [0, 1), got ${p.sparsity}`);
  if ((p.sparsity === 0) !== (p.variant === "dense")) throw new GridError(`job '${key}': sparsity 0 goes with variant 'dense' and only it`);
  if (!Number.isSafeInteger(p.seed) || p.seed < 0) throw new GridError(`job '${key}': seed must be an integer >= 0`);
  if (p.model === "lenet" && p.attack === "analytic") throw new GridError(`job '${key}': the analytic attack needs a first layer that is Linear with a bias; LeNet's is a convolution`);
  if (jobKey(p) !== key) throw new GridError(`job key '${key}' is not in canonical form (${jobKey(p)})`);
}
