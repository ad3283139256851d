/**
 * The sweep's grid: sparsity × attack × DGC variant × seed, one independent job per point, each
 * with a stable, human-readable key (`s0.9-dlg-seed-seed3`, keys.ts) from which the job can be
 * rebuilt on its own (`--only <key>`), so any scheduler can fan the grid out.
 *
 * Sparsity 0 is the uncompressed baseline: the seed's Momentum (lr 0.01, Examples 2 and 3), whatever
 * the variants asked for, under the variant name `dense` — so it is one job per attack and seed.
 *
 * The other defenses (lib/optim/defenses.ts) are points of their own, keyed by the defense and its
 * strength (`topk0.5-dlg-seed3`, `int8-ig-seed1`): Momentum (lr 0.01) behind the defense's transform.
 * `dgc:s` and `none` are the sparsity points above (`s0.9-…`, `s0-…-dense-…`), so their records are shared.
 *
 * The model is the seed's Linear unless the key says otherwise: a LeNet job's key starts with
 * `lenet-` (`lenet-topk0.5-lbfgs-seed3`), so the Linear keys (and records) of before stay as they
 * were. LeNet's first layer is a convolution, so the analytic attack (Linear with a bias) is refused
 * there; its adaptive attacker runs L-BFGS (the attack registry's adaptive × lbfgs), not Adam.
 */
import { ADAPTIVE_ATTACK } from "../attack/adaptive";
import { IG_ATTACK } from "../attack/ig";
import { DEFAULTS } from "../trial/demo_config";
import { dgcVariantSettings, type DGCVariant } from "../optim/variants";
import type { DGCRefinements } from "../optim/dgc";
import { awareAttack } from "../attack/aware";
import { checkDefense, type DefenseSpec } from "../threat/channel/defenses";
import { checkPoint, jobKey, type AttackName, type JobPoint, type SweepModel, type VariantName } from "./keys";
import type { InversionAttack } from "../attack/invert";
import type { BackendChoice } from "../core/backend";
import type { LabelInit, LabelRule } from "../trial/demo_config";

export * from "./keys"; // the keys and the names they use, where they were before

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
  /**
   * Set on LeNet's adaptive attacker: the attack registry's L-BFGS (strong Wolfe, one `.step` per
   * iteration; lr is L-BFGS's) on the same objective, in place of Adam. Absent: Adam (invert.ts).
   */
  optimizer?: "lbfgs";
}
/**
 * The analytic attack on Linear (attack/analytic.ts): no iterations. `sparse`: the attacker knows the
 * defense drops entries (DGC, topk, randk), so a zero is "not sent"; otherwise a zero is a value.
 */
export interface AnalyticParams {
  kind: "analytic";
  iterations: 0;
  victimLoss: "ce";
  sparse: boolean;
}
/** DLG as the DLG paper's code runs it: L-BFGS over (x', y'), cross-entropy victim (attack/lbfgs_dlg.ts). */
export interface LbfgsDlgParams {
  kind: "lbfgs";
  /** L-BFGS steps (torch `.step(closure)` calls, up to 20 iterations each); the paper runs 300. */
  iterations: number;
  victimLoss: "ce";
}
export type AttackParams = DLGParams | InversionParams | AnalyticParams | LbfgsDlgParams;

/** L-BFGS DLG's default steps here: on LeNet and Linear it converges within 30 (docs/defenses.md). */
export const LBFGS_DLG_STEPS = 30;
/** The adaptive attacker's L-BFGS steps on LeNet: it reached its level by 20 against DGC (docs/attacks.md). */
export const ADAPTIVE_LBFGS_STEPS = 20;

export interface TrainingParams {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: "Momentum" | "DGCMomentum";
  /** DGC settings beyond the sparsity (the variant's refinements); {} for Momentum. */
  dgc: DGCRefinements;
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
  model: SweepModel;
  backend: BackendChoice;
  attackParams: AttackParams;
  training: TrainingParams;
  /** Set for a defense point (sparsity 0, variant `dense`, Momentum behind this defense). */
  defense?: DefenseSpec;
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
  /** Defenses, each a point per strength; `dgc:s` adds sparsity s, `none` sparsity 0. */
  defenses?: readonly DefenseSpec[];
  /** The attacked and trained model (default: the seed's Linear). */
  model?: SweepModel;
}


/**
 * An attack's settings for a job. The adaptive attacker knows the DGC protocol, so it mirrors the
 * victim's local gradient clipping (`dgc.clipNorm`) on its dummy gradient.
 */
export function attackParams(attack: AttackName, iterations: number | null, dgc: DGCRefinements = {}, defense?: DefenseSpec, sparse = false, model: SweepModel = "linear"): AttackParams {
  if (attack === "analytic") return { kind: "analytic", iterations: 0, victimLoss: "ce", sparse };
  if (attack === "lbfgs") return { kind: "lbfgs", iterations: iterations ?? LBFGS_DLG_STEPS, victimLoss: "ce" };
  if (attack === "dlg") {
    return { kind: "dlg", iterations: iterations ?? DEFAULTS.attack_epoch, lr: DEFAULTS.attack_lr, victimLoss: "sse", labelInit: DEFAULTS.label_init, labelRule: DEFAULTS.label_rule };
  }
  const base = attack === "ig" ? IG_ATTACK : defense ? awareAttack(defense) : { ...ADAPTIVE_ATTACK, clipNorm: dgc.clipNorm ?? null };
  if (attack === "adaptive" && model === "lenet") return { kind: attack, ...base, iterations: iterations ?? ADAPTIVE_LBFGS_STEPS, lr: 1, optimizer: "lbfgs" };
  return { kind: attack, ...base, iterations: iterations ?? base.iterations };
}

/** A point whose upload is sparse (DGC, top-k, random-k): the attacker reads a zero as "not sent". */
export function sparseUpload(p: Pick<JobPoint, "sparsity" | "defense">): boolean {
  return p.sparsity > 0 || p.defense?.name === "topk" || p.defense?.name === "randk";
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
    model: p.model ?? "linear",
    backend: common.backend,
    attackParams: attackParams(p.attack, common.iterations, dgc, p.defense, sparseUpload(p), p.model),
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
  const push = (cfg: JobConfig) => {
    if (!seen.has(cfg.key)) {
      seen.add(cfg.key);
      jobs.push(cfg);
    }
  };
  const defenses = spec.defenses ?? [];
  const model = spec.model === "lenet" ? ({ model: "lenet" } as const) : {};
  const sparsities = [...spec.sparsities];
  for (const d of defenses) if (d.name === "none" || d.name === "dgc") sparsities.push(d.strength ?? 0);
  for (const sparsity of new Set(sparsities))
    for (const attack of spec.attacks)
      for (const v of spec.variants)
        for (const seed of spec.seeds) {
          const variant: VariantName = sparsity === 0 ? "dense" : v;
          push(jobConfig({ sparsity, attack, variant, seed, ...model }, common));
        }
  for (const d of defenses)
    if (d.name !== "none" && d.name !== "dgc")
      for (const attack of spec.attacks)
        for (const seed of spec.seeds) push(jobConfig({ sparsity: 0, attack, variant: "dense", seed, defense: checkDefense(d), ...model }, common));
  return jobs;
}
