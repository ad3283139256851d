/**
 * The `fl` command's parameters: dgc_demo's that apply to federated training (all but
 * train_epoch: rounds replace epochs) plus the federated ones, with defaults and validation.
 */
import { DEFAULTS, resolveAttackDefaults, validateConfig, withDefense, type DemoConfig, clientDefense } from "./demo_config";
import { check, checkInt, ConfigError } from "../core/errors";
import { SPLIT_SIZES } from "../data/mnist";
import { CIFAR10_FILES, CIFAR10_RELEASE } from "../data/cifar10";
import { ATTACK_METHODS, type AttackMethod } from "../attack/methods";
import type { VictimLoss } from "../models/losses";
import type { SplitKind } from "../threat/federated/split";
import { checkLocalTraining, MAX_LOCAL_STEPS, type LocalTraining } from "../threat/federated/local";
import { checkFedAvgApplicable } from "../attack/fedavg";
import { AttackSetupError } from "../attack/spec";

/** The attack registry's methods (lib/attack/methods.ts) and the history attacker. */
export const FL_ATTACKS: readonly FLAttack[] = [...ATTACK_METHODS, "history"];
export type FLAttack = AttackMethod | "history";

/** The history attacker's inversion is the DGC-aware attack (with a cosine distance, attack.ts). */
export const HISTORY_INVERSION: AttackMethod = "adaptive";

export interface FLConfig extends Omit<DemoConfig, "attack_method"> {
  clients: number;
  rounds: number;
  local_steps: number;
  split: SplitKind;
  alpha: number;
  /** The round whose upload of `victim_client` is attacked (when dlg_attack). */
  attack_round: number;
  victim_client: number;
  attack_method: FLAttack;
  /** Rounds after attack_round whose uploads the history attacker keeps. */
  history_rounds: number;
  /** `NAME[:v]` (lib/optim/defenses.ts) every client sends through; null: the seed's use_dgc/sparsity. */
  defense: string | null;
  /** FedAvg (local_steps > 1), the attacked client's round: images per local step; null: all its attack_batch_size images. */
  local_batch: number | null;
  /** FedAvg's local learning rate η; null: train_lr. */
  local_lr: number | null;
  /** FedAvg's local momentum μ (0: plain SGD). */
  local_momentum: number;
  /** FedAvg attacker: granted the order the client walked through its images (default: index order assumed). */
  attack_knows_order: boolean;
}

export const FL_DEFAULTS: FLConfig = {
  ...DEFAULTS,
  clients: 10,
  rounds: 50,
  local_steps: 1,
  split: "iid",
  alpha: 0.5,
  attack_round: 0,
  victim_client: 0,
  attack_method: "dlg",
  history_rounds: 10,
  defense: null,
  local_batch: null,
  local_lr: null,
  local_momentum: 0.9,
  attack_knows_order: false,
};

/** The attacked client's local training in a FedAvg run (local_steps > 1); null for FedSGD. */
export function flLocalTraining(c: Pick<FLConfig, "local_steps" | "local_batch" | "local_lr" | "local_momentum" | "train_lr" | "attack_batch_size">): LocalTraining | null {
  if (c.local_steps <= 1) return null;
  return { steps: c.local_steps, batch: c.local_batch ?? c.attack_batch_size, lr: c.local_lr ?? c.train_lr, momentum: c.local_momentum };
}

/** dgc_demo's flags with no meaning here. */
export const FL_UNUSED: readonly (keyof DemoConfig)[] = ["train_epoch"];

/** The loss each attack assumes the victim back-propagated unless --victim_loss says: DLG the seed's Σ(logits − onehot)², the others cross-entropy. */
export function defaultVictimLoss(attack: FLAttack): VictimLoss {
  return attack === "dlg" ? "sse" : "ce";
}

/** dgc_demo's view of the config: the history attacker's inversion stands in for "history". */
export function demoView(c: FLConfig): DemoConfig {
  return { ...c, attack_method: c.attack_method === "history" ? HISTORY_INVERSION : c.attack_method };
}

/**
 * The attack's optimizer, learning rate, L-BFGS steps (as dgc_demo: by method, and by model with
 * `byModel`, unless given) and the victim's loss (by attack unless given) filled in.
 */
export function resolveFLDefaults(c: FLConfig, given: { attack_optimizer?: unknown; attack_lr?: unknown; attack_epoch?: unknown; victim_loss?: unknown }, byModel = false): FLConfig {
  const r = resolveAttackDefaults(demoView(c), given, byModel);
  return { ...c, attack_optimizer: r.attack_optimizer, attack_lr: r.attack_lr, attack_epoch: r.attack_epoch, victim_loss: given.victim_loss !== undefined ? c.victim_loss : defaultVictimLoss(c.attack_method) };
}



/** The CIFAR-10 release's training images (the upper bound before the folder is read). */
const CIFAR10_RELEASE_TRAIN = CIFAR10_FILES.train.length * CIFAR10_RELEASE.recordsPerFile;

/** Throws ConfigError (one line) for the first value out of range, dgc_demo's checks first. */
export function validateFLConfig(c: FLConfig): FLConfig {
  validateConfig(demoView(c));
  // MNIST's training set has a known size; CIFAR-10's is the folder's (the subset's 4,660 or the
  // release's 50,000): checked again by checkFLSizes once loaded, bounded here by the release's
  const n = c.dataset === "mnist" ? SPLIT_SIZES.train : CIFAR10_RELEASE_TRAIN;
  checkInt("clients", c.clients, 1, n, "every client needs an image of the training set");
  checkInt("rounds", c.rounds, 1);
  checkInt("local_steps", c.local_steps, 1, MAX_LOCAL_STEPS);
  if (c.local_batch !== null) checkInt("local_batch", c.local_batch, 1);
  check(c.local_lr === null || (Number.isFinite(c.local_lr) && c.local_lr > 0), `--local_lr must be a finite number > 0, got ${c.local_lr}`);
  check(Number.isFinite(c.local_momentum) && c.local_momentum >= 0 && c.local_momentum < 1, `--local_momentum must be in [0, 1), got ${c.local_momentum}`);
  check(c.local_steps > 1 || (c.local_batch === null && c.local_lr === null), `--local_batch and --local_lr apply to FedAvg (--local_steps > 1); with --local_steps 1 the client sends one gradient`);
  // they set the attacked client's round only (the other clients train on --train_batch_size at --train_lr): never ignored silently
  check(c.dlg_attack || (c.local_batch === null && c.local_lr === null), `--local_batch and --local_lr set the attacked client's local training: they need --dlg_attack True`);
  check(c.split === "iid" || c.split === "dirichlet", `--split must be iid or dirichlet, got ${c.split}`);
  check(Number.isFinite(c.alpha) && c.alpha > 0, `--alpha must be a finite number > 0, got ${c.alpha}`);
  checkInt("attack_round", c.attack_round, 0);
  checkInt("victim_client", c.victim_client, 0);
  check(c.victim_client < c.clients, `--victim_client must be below --clients (${c.clients}), got ${c.victim_client}`);
  checkInt("history_rounds", c.history_rounds, 0);
  const d = clientDefense(c);
  check(c.use_dgc === (d.name === "dgc") && (d.name !== "dgc" || c.sparsity === d.strength), `--defense ${c.defense} disagrees with use_dgc ${c.use_dgc}, sparsity ${c.sparsity}`);
  check((FL_ATTACKS as readonly string[]).includes(c.attack_method), `--attack_method must be one of ${FL_ATTACKS.join(", ")}, got ${c.attack_method}`);
  if (c.dlg_attack) {
    check(c.attack_round < c.rounds, `--attack_round must be below --rounds (${c.rounds}), got ${c.attack_round}`);
    // the history attacker keeps rounds attack_round .. attack_round + history_rounds: all must be run, never cut silently
    if (c.attack_method === "history") check(c.attack_round + c.history_rounds < c.rounds, `--history_rounds ${c.history_rounds} after --attack_round ${c.attack_round} needs ${c.attack_round + c.history_rounds + 1} rounds; --rounds is ${c.rounds} (at most ${c.rounds - 1 - c.attack_round})`);
    const local = flLocalTraining(c);
    // FedAvg: E steps of b of the client's n = attack_batch_size images; the analytic attack reads one gradient only
    if (local) checkLocalTraining(local, c.attack_batch_size);
    try {
      checkFedAvgApplicable(c.attack_method, c.local_steps);
    } catch (e) {
      if (e instanceof AttackSetupError) throw new ConfigError(e.message);
      throw e;
    }
  }
  checkFLSizes(c, n);
  return c;
}

/**
 * An `fl` config from flags as the command line takes them (FL_DEFAULTS overridden; `defense` sets the
 * seed's use_dgc/sparsity; the attack's optimizer, lr and L-BFGS steps by method and model unless
 * given, as `fl` resolves them), validated: the notebooks' way to `fl`.
 */
export function makeFLConfig(overrides: Partial<FLConfig> = {}): FLConfig {
  const c = withDefense({ ...FL_DEFAULTS, ...overrides }, { use_dgc: overrides.use_dgc, sparsity: overrides.sparsity });
  return validateFLConfig(resolveFLDefaults(c, overrides, true));
}

/**
 * One client at round 0 training E local steps on its n images (b = n unless given, η, μ) through
 * `defense`, attacked by `attack` for `iterations` (L-BFGS on LeNet): docs/fedavg.md's setting as an
 * `fl` config. E = 1 is FedSGD (the gradient is uploaded; η does not apply).
 */
export function fedavgConfig(p: { seed: number; steps: number; n?: number; batch?: number; defense: string; attack?: FLAttack; iterations: number; localLr?: number; localMomentum?: number; model?: FLConfig["model"] }): FLConfig {
  const n = p.n ?? 1;
  return makeFLConfig({
    model: p.model ?? "lenet", clients: 1, rounds: 1, seed: p.seed, dlg_attack: true, attack_round: 0, defense: p.defense,
    attack_batch_size: n, local_steps: p.steps, local_momentum: p.localMomentum ?? 0, victim_loss: "ce",
    ...(p.steps > 1 ? { local_batch: p.batch ?? n, local_lr: p.localLr ?? 0.1 } : {}),
    attack_method: p.attack ?? "adaptive", attack_epoch: p.iterations, return_epoch: 1,
  });
}

/**
 * The checks that depend on the training set's size n: every client needs an image, and the victim's
 * batch comes from its own shard, never cut silently (a Dirichlet shard's size is checked when dealt,
 * simulation.ts). `fl` calls it again with the loaded split's n (CIFAR-10: the folder's).
 */
export function checkFLSizes(c: FLConfig, n: number): void {
  checkInt("clients", c.clients, 1, n, "every client needs an image of the training set");
  if (c.dlg_attack && c.split === "iid") checkInt("attack_batch_size", c.attack_batch_size, 1, Math.floor(n / c.clients), `a client's share of the training set with --clients ${c.clients}`);
}
