/**
 * One `fl` run from its config, shared by the CLI, the study and the notebook: the model from the
 * run's "init" fork (as dgc_demo), the rounds, and the attack on the watched client when asked.
 */
import { tf } from "../core/tf";
import { initParams, setupRun, type RunContext } from "./demo";
import type { MnistSplit } from "../data/mnist";
import type { ImageSplit } from "../data/dataset";
import type { AttackRecord } from "./demo";
import { runFederated, type FederatedOptions, type FederatedResult, type RoundRecord } from "../threat/federated/simulation";
import { attackWatched, type FLAttackOutcome, type HistoryStep } from "./fl_attack";
import { publicData } from "../attack/label_counts";
import { demoView, flLocalTraining, type FLConfig } from "./fl_config";
import { clientDefense } from "./demo_config";

export function federatedOptions(cfg: FLConfig, test?: MnistSplit): FederatedOptions {
  const attacking = cfg.dlg_attack;
  return {
    clients: cfg.clients,
    rounds: cfg.rounds,
    localSteps: cfg.local_steps,
    split: cfg.split,
    alpha: cfg.alpha,
    batchSize: cfg.train_batch_size,
    lr: cfg.train_lr,
    defense: clientDefense(cfg),
    test,
    watch: attacking
      ? {
          client: cfg.victim_client,
          round: cfg.attack_round,
          batchSize: cfg.attack_batch_size,
          loss: cfg.victim_loss,
          historyRounds: cfg.attack_method === "history" ? cfg.history_rounds : 0,
          ...(flLocalTraining(cfg) ? { local: flLocalTraining(cfg)! } : {}),
        }
      : undefined,
  };
}

export interface FLRun {
  fed: FederatedResult;
  attack: FLAttackOutcome | null;
  /** Test accuracy after the last round. */
  testAccuracy: number | null;
}

/** A run's context (dgc_demo's: backend, seed, rng, model, and its view of the flags) and the full `fl` config. */
export type FLContext = RunContext & { fl: FLConfig };

/** Picks the backend and the seed, as dgc_demo. */
export async function setupFL(cfg: FLConfig): Promise<FLContext> {
  return { ...(await setupRun(demoView(cfg))), fl: cfg };
}

export function runFL(
  ctx: FLContext,
  data: { train: MnistSplit; test?: MnistSplit },
  mean: Float32Array,
  hooks: { onRound?: (r: RoundRecord) => void; onRecord?: (r: AttackRecord) => void; stopAtLeak?: boolean; onHistoryStep?: (s: HistoryStep) => void } = {},
): FLRun {
  const cfg = ctx.fl;
  const params = initParams(ctx);
  try {
    const fed = runFederated(ctx.model, params, data.train, federatedOptions(cfg, data.test), ctx.rng, hooks.onRound);
    const attack = fed.watched
      ? attackWatched(ctx.model, fed.watched, {
          method: cfg.attack_method,
          optimizer: cfg.attack_optimizer,
          victimLoss: cfg.victim_loss,
          iterations: cfg.attack_epoch,
          lr: cfg.attack_lr,
          returnEvery: cfg.return_epoch,
          windowSize: cfg.window_size,
          labelInit: cfg.label_init,
          labelRule: cfg.label_rule,
          rng: ctx.rng,
          mean,
          defense: clientDefense(cfg),
          stopAtLeak: hooks.stopAtLeak,
          onHistoryStep: hooks.onHistoryStep,
          publicLabelled: data.test && cfg.attack_batch_size > 1 ? publicData(data.test) : undefined,
          knowsOrder: cfg.attack_knows_order,
          range: (data.train as ImageSplit).range,
        }, hooks.onRecord)
      : null;
    return { fed, attack, testAccuracy: fed.rounds[fed.rounds.length - 1]?.testAccuracy ?? null };
  } finally {
    tf.dispose(params);
  }
}
