/**
 * The `fl` command's parameters: dgc_demo's that apply to federated training (all but
 * train_epoch: rounds replace epochs) plus the federated ones, with defaults and validation.
 */
import { DEFAULTS, ConfigError, type DemoConfig } from "../config";
import type { VictimLoss } from "../attack/objectives";
import type { SplitKind } from "./split";

export const FL_ATTACKS = ["dlg", "ig", "adaptive", "analytic", "history"] as const;
export type FLAttack = (typeof FL_ATTACKS)[number];

export interface FLConfig extends DemoConfig {
  clients: number;
  rounds: number;
  local_steps: number;
  split: SplitKind;
  alpha: number;
  /** The round whose upload of `victim_client` is attacked (when dlg_attack). */
  attack_round: number;
  victim_client: number;
  attack_method: FLAttack;
  /** What the victim back-propagates in the attacked round; null: the attack's own assumption. */
  victim_loss: VictimLoss | null;
  /** Rounds after attack_round whose uploads the history attacker keeps. */
  history_rounds: number;
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
  victim_loss: null,
  history_rounds: 10,
};

/** dgc_demo's flags with no meaning here. */
export const FL_UNUSED: readonly (keyof DemoConfig)[] = ["train_epoch"];

/** The loss each attack assumes the victim back-propagated: DLG the seed's Σ(logits − onehot)², the others cross-entropy. */
export function defaultVictimLoss(attack: FLAttack): VictimLoss {
  return attack === "dlg" ? "sse" : "ce";
}

function check(ok: boolean, msg: string): void {
  if (!ok) throw new ConfigError(msg);
}
const isInt = (x: number) => Number.isInteger(x);

/** Throws ConfigError (one line) for the first federated value out of range. */
export function validateFLConfig(c: FLConfig): FLConfig {
  check(isInt(c.clients) && c.clients >= 1, `--clients must be an integer >= 1, got ${c.clients}`);
  check(isInt(c.rounds) && c.rounds >= 1, `--rounds must be an integer >= 1, got ${c.rounds}`);
  check(isInt(c.local_steps) && c.local_steps >= 1, `--local_steps must be an integer >= 1, got ${c.local_steps}`);
  check(c.split === "iid" || c.split === "dirichlet", `--split must be iid or dirichlet, got ${c.split}`);
  check(Number.isFinite(c.alpha) && c.alpha > 0, `--alpha must be a finite number > 0, got ${c.alpha}`);
  check(isInt(c.attack_round) && c.attack_round >= 0, `--attack_round must be an integer >= 0, got ${c.attack_round}`);
  check(isInt(c.victim_client) && c.victim_client >= 0, `--victim_client must be an integer >= 0, got ${c.victim_client}`);
  check(c.victim_client < c.clients, `--victim_client must be below --clients (${c.clients}), got ${c.victim_client}`);
  check(isInt(c.history_rounds) && c.history_rounds >= 0, `--history_rounds must be an integer >= 0, got ${c.history_rounds}`);
  check((FL_ATTACKS as readonly string[]).includes(c.attack_method), `--attack_method must be one of ${FL_ATTACKS.join(", ")}, got ${c.attack_method}`);
  if (c.dlg_attack) {
    check(c.attack_round < c.rounds, `--attack_round must be below --rounds (${c.rounds}), got ${c.attack_round}`);
    check(c.local_steps === 1, `--dlg_attack needs FedSGD (--local_steps 1): a FedAvg upload is a weight delta of several steps`);
    check(c.attack_method !== "analytic" || (c.model === "linear" && c.attack_batch_size === 1), "--attack_method analytic needs --model linear and --attack_batch_size 1");
  }
  return c;
}
