/**
 * One trial: a threat model and an attack in, one record out.
 *
 *   1. the shared model, its weights from the seed's "init" stream (round 0, untrained);
 *   2. the victim's images (threat.victim) and the gradient of its loss on them;
 *   3. what its channel sends: the registry's defense at the client's learning rate, its draws from
 *      the "defense" stream (DGC: the sparse u·mask of one step from zero state);
 *   4. the attack (attack/methods.ts: method × optimizer) on exactly that upload, its dummy start
 *      from the "dummy" stream, with what the server knows (the mean image when the method uses it);
 *   5. every snapshot scored against exactly the images attacked (SPEC's MSE/PSNR/SSIM/label
 *      accuracy, the 8-bit SSIM, the sign-aware reading) and the last one judged by the recovery
 *      rule (metrics/readings.ts: PSNR ≥ the mean image's + 3 dB).
 * `dgc_demo`'s attack mode is this function with the seed's threat model (trial/demo.ts `runAttack`).
 */
import { tf, variableFrom } from "../core/tf";
import { Rng } from "../core/rng";
import { splitMean } from "../data/dataset";
import { matchReconstructions, type MatchedMetrics } from "../metrics/match";
import { attackMetrics } from "../metrics/attack";
import { isRecovered, signAware, ssim8, ssim8Rgb, type SignAwareReading } from "../metrics/readings";
import { psnr } from "../metrics/image";
import { makeModel } from "../models/registry";
import { sumStats, type SentStats } from "../optim/optimizer";
import { makeChannel } from "../threat/channel/registry";
import { observedGradients, victimGradients, victimImages } from "../threat/victim";
import { describeThreat, type ThreatModel } from "../threat/model";
import { batchLabels, labelRows, type BatchLabels, type PublicPrior } from "../attack/label_counts";
import { meanStart } from "../attack/invert";
import { attackGuess, runAttackMethod, type AttackInput, type AttackOutput, type AttackSpec } from "../attack/methods";
import type { DLGSnapshot } from "../attack/dlg";
import type { Batch } from "../data/batcher";
import { pixelsOf, planesOf, type Model } from "../models/model";
import type { VictimLoss } from "../models/losses";

export interface AttackRecord {
  iteration: number;
  mse: number;
  psnr: number;
  ssim: number;
  labelAcc: number;
  /** The gradient-matching distance at this iteration. */
  distance: number;
  /** Beside the seed's (not on its log line): SSIM of the 8-bit PNG images, and the sign-aware reading. */
  ssim8: number;
  signAware: SignAwareReading;
  /** The last iteration, recorded although return_epoch does not land on it (not a line of the seed's log). */
  offSchedule?: true;
}

export interface AttackRun {
  target: Batch;
  /** The label the attacker inferred from the observed gradient. */
  guess: number;
  /** What the victim sent, per parameter tensor. */
  sent: SentStats;
  /** The victim's full gradient and what the attacker observed, per parameter tensor. */
  fullGradients: Float32Array[];
  observedGradients: Float32Array[];
  snapshots: DLGSnapshot[];
  records: AttackRecord[];
  distances: Float64Array;
  seconds: number;
  /** The labels the attack ends with, and (analytic) the pixels it recovered exactly. */
  labels: number[];
  analytic?: AttackOutput["analytic"];
  /** The paper's L-BFGS DLG: D at the best point, evaluations, starts. */
  lbfgs?: AttackOutput["lbfgs"];
  /** B > 1 with a public prior: the label counts inferred from the bias gradient (label_counts.ts). */
  inferred?: BatchLabels;
}

export interface TrialRecord extends AttackRun {
  /** The threat model in one line (describeThreat) and the attack as run. */
  threat: string;
  attack: AttackSpec;
  /** The attack's result after its last iteration, [B × 784] (DLG × gd: its last snapshot's, as the seed reports). */
  reconstruction: Float32Array;
  /** Its label rows, [B × 10]: DLG's dummy label y', or the fixed label's one-hot rows. */
  dummyY: Float32Array;
  /** The attack's last reading (null when it took no snapshot: 0 iterations). */
  final: AttackRecord | null;
  /** The mean image's PSNR against the targets: the floor the recovery rule adds 3 dB to. */
  baselinePsnr: number;
  /** The recovery rule on the final reading (B = 1; for a batch: every target recovered after matching). */
  recovered: boolean;
  /**
   * Reconstructions matched to targets (metrics/match.ts: the assignment that maximizes PSNR; for
   * B = 1 the one pair), each pair's target judged by its own mean-image baseline.
   */
  matched: MatchedMetrics;
  /** Per target, the mean image's PSNR; and how many matched pairs clear it by RECOVERY_MARGIN_DB. */
  targetBaselines: number[];
  recoveredCount: number;
  /** Nothing crossed the network in this step: the attack had nothing to work from. */
  sentNothing: boolean;
}

export interface TrialHooks {
  /** Before the attack: the label it inferred, what crossed the network (entries, per tensor, the decoded values). */
  onStart?: (info: { guess: number; sent: number; total: number; stats: SentStats; observed: Float32Array[] }) => void;
  /** Every iteration; at a snapshot also its metrics and the snapshot itself (for live images). */
  onIteration?: (it: number, distance: number, record?: AttackRecord, snapshot?: DLGSnapshot) => void;
}

/** What the server observed of one client's step, and whose step it was (the truth a trial scores against). */
export interface Observation {
  model: Model;
  /** The weights the client computed on: the model the server broadcast in the attacked round. */
  params: readonly tf.Tensor[];
  /** The victim's images and labels. */
  target: Batch;
  /** What crossed the network, per parameter tensor (zeros: not sent), and its account. */
  observed: readonly tf.Tensor[];
  sent: SentStats;
  /** The victim's full gradient, when the trial computed it (round 0). */
  grads?: readonly tf.Tensor[];
}

/** What the attacker brings to an observation besides the attack itself. */
export interface AttackerView {
  /** Its dummy start's random stream (the trial's "dummy" fork). */
  dummy: Rng;
  /** The loss it assumes the victim back-propagated (label counts; the attack spec says it too). */
  victimLoss: VictimLoss;
  /** The training set's mean image: the attack's prior where the method uses one, and the recovery baseline. */
  mean: Float32Array;
  /** Labelled public data: per-sample labels from the label counts of a batch (label_counts.ts). */
  batchPrior?: PublicPrior;
  /** The data's range, the box of boxed attacks (ImageSplit.range; default MNIST's [−1, 1]). */
  range?: readonly [number, number];
  /** The counts prior's cache key (model, seed and loss make one). */
  cacheKey?: string;
  /** DLG keeps its dummy-label start (the seed's all-ones) rather than the counts' rows; default true. */
  keepDlgStart?: boolean;
  /** Label rows the attacker already holds ([B × classes]; FedAvg: read off the delta), in place of `batchPrior`'s. */
  labels?: Float32Array;
  /** The dummy's upload as the victim made it, when not one plain gradient (FedAvg: attack/fedavg.ts's unrolled steps). */
  gradsOf?: AttackInput["gradsOf"];
  /** The threat model in one line, for the record. */
  describe: string;
}

/**
 * Runs one trial: the threat model's observation (round 0: the victim's step on an untrained model,
 * through the registry's channel), then the attack on it (`attackObservation`). `batchPrior`
 * (labelled public data) gives each sample of a batch its own label from the inferred label counts —
 * the fixed label of idlg/ig/adaptive and DLG's start under labelInit "guess".
 */
export function runTrial(threat: ThreatModel, attack: AttackSpec, hooks: TrialHooks = {}, batchPrior?: PublicPrior): TrialRecord {
  const rng = new Rng(threat.seed);
  const model = makeModel(threat.model);
  const target = victimImages(threat.victim.images, threat.data, rng.fork("shuffle"));
  const params = tf.tidy(() => model.init(rng.fork("init"))).map((t) => variableFrom(t, true));
  const optimizer = makeChannel(threat.channel.defense, threat.channel.lr, rng.fork("defense"), threat.channel.dgc);
  let grads: tf.Tensor[] = [];
  let observed: tf.Tensor[] = [];
  try {
    grads = victimGradients(model, params, target, threat.victim.loss);
    const sentStep = observedGradients(optimizer, grads);
    observed = sentStep.observed;
    const mean = threat.server.mean ?? splitMean(threat.data);
    // the mean image reaches an attack only as a known prior (the server's), or for the methods built on it
    const attackMean = threat.server.mean ?? (attack.method === "adaptive" || attack.method === "analytic" ? mean : undefined);
    return attackObservation(
      { model, params, target, observed, sent: sentStep.stats, grads },
      attack,
      { dummy: rng.fork("dummy"), victimLoss: threat.victim.loss, mean, batchPrior, range: threat.data.range, cacheKey: String(threat.seed), describe: describeThreat(threat) },
      hooks,
      attackMean,
    );
  } finally {
    optimizer.dispose();
    tf.dispose([...grads, ...observed, ...params]);
  }
}

/**
 * The attack on exactly what was observed, scored against exactly the victim's images: every
 * snapshot's readings, the final one judged by the recovery rule, reconstructions matched to
 * targets. The federated server's attack at any round (trial/fl_attack.ts) calls it on the upload it kept.
 * `attackMean` is the prior handed to the attack (default: the view's mean image).
 */
export function attackObservation(obs: Observation, attack: AttackSpec, view: AttackerView, hooks: TrialHooks = {}, attackMean: Float32Array | undefined = view.mean): TrialRecord {
  const { model, params, target, observed, sent: stats } = obs;
  const B = target.size;
  const totals = sumStats(stats);
  const observedArrays = observed.map((g) => g.dataSync().slice() as Float32Array);
  if (hooks.onStart) hooks.onStart({ guess: attackGuess(attack, observed), ...totals, stats, observed: observedArrays });
  const inferred = view.batchPrior ? batchLabels(model, params, observed, B, view.victimLoss, view.batchPrior, view.cacheKey) : undefined;
  const labels = view.labels ?? (inferred && !((view.keepDlgStart ?? true) && attack.method === "dlg" && attack.labelInit === "ones") ? labelRows(inferred.labels, model.classes) : undefined);
  const shape = planesOf(model, B);
  const records: AttackRecord[] = [];
  const result = runAttackMethod(attack, { model, params, observed, batch: B, rng: view.dummy, mean: attackMean, labels, gradsOf: view.gradsOf, range: view.range }, (it, d, snap) => {
    let rec: AttackRecord | undefined;
    if (snap) {
      rec = {
        iteration: it, distance: d, ...attackMetrics(snap.x, target.x, shape, snap.y, target.y),
        // colour [0, 1] images: the 8-bit SSIM of the RGB PNGs (round(255·x), per channel); grey: the seed-era ⌊(x + 1)·127.5⌋
        ssim8: model.inputShape[0] === 3 ? ssim8Rgb(snap.x, target.x, { batch: B, height: model.inputShape[1], width: model.inputShape[2] }) : ssim8(snap.x, target.x, shape), signAware: signAware(snap.x, target.x, shape),
        ...(snap.offSchedule ? { offSchedule: true as const } : {}),
      };
      records.push(rec);
    }
    hooks.onIteration?.(it, d, rec, snap);
  });
  const baselinePsnr = psnr(meanStart(view.mean, B), target.x);
  const final = records.length > 0 ? records[records.length - 1] : null;
  const matched = matchReconstructions(result.x, target.x, B, model.inputShape);
  const P = pixelsOf(model);
  const targetBaselines = Array.from({ length: B }, (_, i) => psnr(view.mean, target.x.subarray(i * P, (i + 1) * P)));
  const recoveredCount = matched.pairs.filter((p) => isRecovered(p.psnr, targetBaselines[p.target])).length;
  return {
    target, guess: result.guess, sent: stats,
    fullGradients: (obs.grads ?? []).map((g) => g.dataSync().slice() as Float32Array),
    observedGradients: observedArrays,
    snapshots: result.snapshots, records, distances: result.distances, seconds: result.seconds,
    labels: result.labels, analytic: result.analytic, lbfgs: result.lbfgs, inferred,
    threat: view.describe, attack, reconstruction: result.x, dummyY: result.y, final, baselinePsnr,
    recovered: B === 1 ? final !== null && isRecovered(final.psnr, baselinePsnr) : recoveredCount === B,
    matched, targetBaselines, recoveredCount,
    sentNothing: totals.sent === 0,
  };
}
