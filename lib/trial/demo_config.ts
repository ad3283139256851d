/**
 * The demo's parameters, named as the original dgc_demo.py flags (plus ours), with their
 * defaults and validation. The CLI and the notebooks both go through `validateConfig`.
 */
import { check, checkInt, checkRate, ConfigError } from "../core/errors";
import type { BackendChoice } from "../core/backend";
import type { ModelKind } from "../models/model";
import { SPLIT_SIZES } from "../data/mnist";
import type { LabelInit, LabelRule } from "../attack/spec";
import { DefenseError, parseDefenseArg, type DefenseSpec } from "../threat/channel/defenses";
import { seedDefense } from "../threat/channel/registry";
import { ATTACK_METHODS, ATTACK_OPTIMIZERS, defaultLr, defaultOptimizer, LBFGS_DEFAULT_STEPS, modelDefaultOptimizer, type AttackMethod, type AttackOptimizer } from "../attack/methods";
import { VICTIM_LOSSES, type VictimLoss } from "../models/losses";

export type { LabelInit, LabelRule };

export interface DemoConfig {
  // the original's 12 flags
  train_epoch: number;
  train_batch_size: number;
  train_lr: number;
  sparsity: number;
  use_dgc: boolean;
  dlg_attack: boolean;
  attack_batch_size: number;
  attack_epoch: number;
  attack_lr: number;
  result_dir: string;
  return_epoch: number;
  window_size: number;
  // ours
  seed: number | null;
  model: ModelKind;
  backend: BackendChoice;
  data_dir: string | null;
  label_init: LabelInit;
  label_rule: LabelRule;
  /** Replace a result_dir holding files no earlier run wrote (lib/results.ts). */
  overwrite: boolean;
  attack_method: AttackMethod;
  /** "none" for analytic, which optimizes nothing. */
  attack_optimizer: AttackOptimizer | "none";
  victim_loss: VictimLoss;
  /**
   * What the client sends, from the one defense registry (`dgc:0.9`, `topk:0.9`, `int8`, …); null: the
   * seed's `use_dgc`/`sparsity` decide (DGC at that sparsity, or none). See `clientDefense`.
   */
  defense: string | null;
  /** The data set: MNIST (the seed's, [−1, 1]) or CIFAR-10 ([0, 1], 3 × 32 × 32; `--model lenet` is then LeNet-CIFAR). */
  dataset: DatasetName;
}

export const DATASETS = ["mnist", "cifar10"] as const;
export type DatasetName = (typeof DATASETS)[number];

/** The model a run builds: the flag's name on MNIST; on CIFAR-10 lenet is the DLG paper's LeNet for 3 × 32 × 32, convnet the ReLU ConvNet. */
export function modelKindOf(c: Pick<DemoConfig, "model" | "dataset">): ModelKind {
  if (c.dataset === "cifar10") return c.model === "lenet" ? "lenet-cifar" : c.model;
  return c.model;
}

export const DEFAULTS: DemoConfig = {
  train_epoch: 2,
  train_batch_size: 64,
  train_lr: 0.001,
  sparsity: 0.8,
  use_dgc: true,
  dlg_attack: false,
  attack_batch_size: 1,
  attack_epoch: 2000,
  attack_lr: 0.2,
  result_dir: "./att_results",
  return_epoch: 100,
  window_size: 200,
  seed: null,
  model: "linear",
  backend: "auto",
  data_dir: null,
  label_init: "ones",
  label_rule: "gram",
  overwrite: false,
  attack_method: "dlg",
  attack_optimizer: "gd",
  victim_loss: "sse",
  defense: null,
  dataset: "mnist",
};

/** Which fields are Python ints (the rest of the numbers are floats), for printing like argparse. */
export const INT_FIELDS: ReadonlySet<keyof DemoConfig> = new Set<keyof DemoConfig>([
  "train_epoch", "train_batch_size", "attack_batch_size", "attack_epoch", "return_epoch", "window_size", "seed",
]);

/** Throws ConfigError with a one-line message for the first value out of range. */
export function validateConfig(c: DemoConfig): DemoConfig {
  checkInt("train_epoch", c.train_epoch, 0);
  checkInt("train_batch_size", c.train_batch_size, 1, SPLIT_SIZES.train, "the training set");
  checkRate("train_lr", c.train_lr);
  check(c.sparsity >= 0 && c.sparsity < 1, `--sparsity must be in [0, 1), got ${c.sparsity}`);
  checkInt("attack_batch_size", c.attack_batch_size, 1, SPLIT_SIZES.train, "the training set");
  checkInt("attack_epoch", c.attack_epoch, 0);
  checkRate("attack_lr", c.attack_lr);
  checkInt("return_epoch", c.return_epoch, 1);
  checkInt("window_size", c.window_size, 1);
  check(c.seed === null || (Number.isSafeInteger(c.seed) && c.seed >= 0), `--seed must be an integer from 0 to 2^53 − 1, got ${c.seed}`);
  check((DATASETS as readonly string[]).includes(c.dataset), `--dataset must be mnist or cifar10, got ${c.dataset}`);
  if (c.dataset === "cifar10") check(c.model === "lenet" || c.model === "convnet", `--model on cifar10 must be lenet (the DLG paper's, for 3 × 32 × 32) or convnet (a ReLU ConvNet), got ${c.model}`);
  else check(c.model === "linear" || c.model === "lenet", `--model must be linear or lenet, got ${c.model}`);
  check(["auto", "tensorflow", "wasm", "cpu"].includes(c.backend), `--backend must be auto, tensorflow, wasm or cpu, got ${c.backend}`);
  check(c.label_init === "ones" || c.label_init === "guess", `--label_init must be ones or guess, got ${c.label_init}`);
  check(c.label_rule === "gram" || c.label_rule === "idlg", `--label_rule must be gram or idlg, got ${c.label_rule}`);
  check(c.result_dir.length > 0, "--result_dir must not be empty");
  checkAttackChoice(c);
  clientDefense(c);
  return c;
}

/** What the client sends in this run: `defense` when given, else the seed's flags (DGC at `sparsity`, or none). */
export function clientDefense(c: Pick<DemoConfig, "defense" | "use_dgc" | "sparsity">): DefenseSpec {
  if (c.defense === null) return seedDefense(c.use_dgc, c.sparsity);
  let specs: DefenseSpec[];
  try {
    specs = parseDefenseArg(c.defense);
  } catch (e) {
    if (e instanceof DefenseError) throw new ConfigError(`--defense: ${e.message}`);
    throw e;
  }
  check(specs.length === 1, `--defense takes one strength here, got '${c.defense}'`);
  return specs[0];
}

/** The attack registry's flags: known names, and a method that can apply to the model and batch. */
function checkAttackChoice(c: DemoConfig): void {
  check(ATTACK_METHODS.includes(c.attack_method), `--attack_method must be one of ${ATTACK_METHODS.join(", ")}, got ${c.attack_method}`);
  check(VICTIM_LOSSES.includes(c.victim_loss), `--victim_loss must be sse or ce, got ${c.victim_loss}`);
  if (c.attack_method === "analytic") {
    check(c.attack_optimizer === "none", `--attack_method analytic optimizes nothing: --attack_optimizer must be none, got ${c.attack_optimizer}`);
    check(c.model === "linear", `--attack_method analytic needs a first layer that is Linear with a bias; ${c.model}'s is a convolution`);
    check(c.attack_batch_size === 1, `--attack_method analytic recovers one image: --attack_batch_size must be 1, got ${c.attack_batch_size}`);
  } else {
    check((ATTACK_OPTIMIZERS as readonly string[]).includes(c.attack_optimizer), `--attack_optimizer must be one of ${ATTACK_OPTIMIZERS.join(", ")} for ${c.attack_method}, got ${c.attack_optimizer}`);
  }
}

/**
 * Fills in what depends on the attack choice unless it was given: the method's optimizer (gd for
 * dlg, lbfgs for idlg, adam for ig/adaptive, none for analytic) and that optimizer's learning rate
 * (the seed's 0.2 for gd, torch's 1 for lbfgs, IG's 0.1 for adam). `byModel` (the command lines):
 * on LeNet ig and adaptive default to L-BFGS, for LBFGS_DEFAULT_STEPS steps unless --attack_epoch
 * was given (`modelDefaultOptimizer`); the studies and the sweep name their optimizers themselves.
 */
export function resolveAttackDefaults(c: DemoConfig, given: { attack_optimizer?: unknown; attack_lr?: unknown; attack_epoch?: unknown }, byModel = false): DemoConfig {
  const known = ATTACK_METHODS.includes(c.attack_method);
  const chosen = byModel ? modelDefaultOptimizer(c.attack_method, c.model) : known ? defaultOptimizer(c.attack_method) : c.attack_optimizer;
  const attack_optimizer = given.attack_optimizer !== undefined || !known ? c.attack_optimizer : chosen;
  const attack_lr = given.attack_lr !== undefined ? c.attack_lr : defaultLr(attack_optimizer);
  // L-BFGS picked for the model rather than by the method: the seed's 2000 iterations as L-BFGS steps
  const switched = known && given.attack_optimizer === undefined && attack_optimizer !== defaultOptimizer(c.attack_method);
  const attack_epoch = switched && given.attack_epoch === undefined ? LBFGS_DEFAULT_STEPS : c.attack_epoch;
  return { ...c, attack_optimizer, attack_lr, attack_epoch };
}

/** Defaults overridden by `overrides`, validated. */
export function makeConfig(overrides: Partial<DemoConfig> = {}): DemoConfig {
  return validateConfig(resolveAttackDefaults({ ...DEFAULTS, ...overrides }, overrides));
}

/**
 * `--defense` with the seed's flags as its aliases: dgc:s is `--use_dgc True --sparsity s`, any other
 * defense `--use_dgc False`. A seed flag given on the command line (`given`) that says otherwise is a
 * ConfigError; the defaults simply follow the defense.
 */
export function withDefense<C extends Pick<DemoConfig, "defense" | "use_dgc" | "sparsity">>(c: C, given: { use_dgc?: unknown; sparsity?: unknown }): C {
  if (c.defense === null) return c;
  const d = clientDefense(c);
  const dgc = d.name === "dgc";
  const clash = (given.use_dgc !== undefined && c.use_dgc !== dgc) || (given.sparsity !== undefined && (!dgc || c.sparsity !== d.strength));
  const flags = [given.use_dgc !== undefined ? `--use_dgc ${c.use_dgc ? "True" : "False"}` : "", given.sparsity !== undefined ? `--sparsity ${c.sparsity}` : ""].filter(Boolean);
  check(!clash, `--defense ${c.defense} conflicts with ${flags.join(" ")}`);
  return { ...c, use_dgc: dgc, sparsity: dgc ? d.strength! : c.sparsity };
}
