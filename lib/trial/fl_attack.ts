/**
 * The honest-but-curious server attacks what it kept of the watched client (simulation.ts):
 *
 *   dlg, idlg, ig, adaptive, analytic — the attack registry (lib/attack/methods.ts, any optimizer)
 *     on the client's upload of round R alone, at the model w_R it broadcast in that round, as
 *     dgc_demo does for round 0; `adaptive` is the defense-aware attacker (lib/attack/aware.ts: its
 *     gradient distance chosen for the run's defense, which it knows with its parameters);
 *   history — knows every upload of the client from round R to R + H, that the client runs DGC
 *     (zeros are "not sent"), that the victim image was used in round R, and the public mean image.
 *     DGC keeps what it does not send in the residual u and sends it in later rounds, so the server
 *     sums the uploads, A_h = Σ_{i ≤ h} upload_{R+i}, and inverts A_h at w_R as if it were the
 *     victim's gradient: the DGC-aware attack with a *cosine* distance (momentum and the sum scale
 *     the victim's gradient by an unknown factor, up to 1/(1 − m) = 10) on the coordinates received
 *     so far. Later batches of the same client land in A_h too: they are the noise this attacker
 *     has to live with. It reports the first h whose reconstruction leaks.
 *
 * FedAvg (the watched upload is a delta of E local steps): every method but analytic runs on it through the
 * FedAvg attacker's simulation of the client's steps (lib/attack/fedavg.ts), which knows η, μ, E, b, n and
 * the loss, and the client's data order only with `knowsOrder`.
 *
 * "Recovered" (the project's rule): PSNR at least 3 dB above the training set's mean image.
 */
import { tf } from "../core/tf";
import { initialLabels } from "../attack/dlg";
import { meanStart } from "../attack/invert";
import { type AttackOptimizer, type AttackSpec } from "../attack/methods";
import { attackObservation } from "./run";
import type { VictimLoss } from "../models/losses";
import { attackMetrics, type AttackMetrics } from "../metrics/attack";
import { matchReconstructions, type MatchedMetrics } from "../metrics/match";
import { psnr } from "../metrics/image";
import { labelRows, type PublicData } from "../attack/label_counts";
import type { AttackRecord } from "./demo";
import { isRecovered } from "../metrics/readings";
import type { LabelInit, LabelRule } from "./demo_config";
import { planesOf, type Model } from "../models/model";
import type { Rng } from "../core/rng";
import { HISTORY_INVERSION, type FLAttack } from "./fl_config";
import type { Watched } from "../threat/federated/simulation";
import { awareAttack } from "../attack/aware";
import { checkFedAvgApplicable, fedavgAttackInput, fedavgLabels, knowledgeLine, type FedAvgKnowledge } from "../attack/fedavg";
import type { DefenseSpec } from "../threat/channel/defenses";

export interface FLAttackOptions {
  method: FLAttack;
  /** The registry's optimizer (the history attacker's inversions use it too); "none" for analytic. */
  optimizer: AttackOptimizer | "none";
  iterations: number;
  lr: number;
  /** The loss the attacker assumes the victim back-propagated. */
  victimLoss: VictimLoss;
  returnEvery: number;
  windowSize: number;
  labelInit: LabelInit;
  labelRule: LabelRule;
  /** The run's root generator: dummy data come from its "dummy" fork, as in dgc_demo. */
  rng: Rng;
  /** The training set's mean image (a public prior; also the recovery baseline). */
  mean: Float32Array;
  /** The defense every client ran (the adaptive attacker's distance follows it); default none. */
  defense?: DefenseSpec;
  /** History attacker: stop at the first h that leaks (default true). */
  stopAtLeak?: boolean;
  /**
   * Labelled public images: with B > 1 each sample gets its own label from the label counts read
   * off the upload's bias entries (label_counts.ts; exact scale only for a plain gradient upload).
   */
  publicLabelled?: PublicData;
  /** History attacker: each h as it is tried (progress). */
  onHistoryStep?: (step: HistoryStep) => void;
  /** FedAvg uploads: the attacker is granted the client's data order (default: it assumes index order). */
  knowsOrder?: boolean;
  /** The data's range, the box of boxed attacks (default MNIST's [−1, 1]; CIFAR-10 [0, 1]). */
  range?: readonly [number, number];
}

export interface HistoryStep {
  /** Uploads summed: rounds R .. R + h. */
  h: number;
  /** Values received so far (non-zero entries of A_h). */
  received: number;
  /** null: nothing received yet, so nothing to invert. */
  psnr: number | null;
  recovered: boolean;
  x: Float32Array | null;
}

export interface FLAttackOutcome {
  method: FLAttack;
  /** The final reconstruction [B × 784] and label rows [B × 10]. */
  x: Float32Array;
  y: Float32Array;
  metrics: AttackMetrics;
  /** PSNR of the mean image against the victim: the bar is this + 3 dB. */
  baselinePsnr: number;
  recovered: boolean;
  /** The label the attacker used. */
  guess: number;
  /** DLG's snapshots, in dgc_demo's format. */
  records: AttackRecord[];
  /** History attacker only: one entry per h tried, and the first round (R + h) that leaks. */
  history: HistoryStep[];
  firstLeakRound: number | null;
  seconds: number;
  /** B > 1: the reconstructions matched to the targets by optimal assignment (lib/metrics/match.ts). */
  matched?: MatchedMetrics;
  /** FedAvg: exactly what the attacker was given about the local training (attack/fedavg.ts), and its one-line statement. */
  fedavg?: { knowledge: Omit<FedAvgKnowledge, "order"> & { knowsOrder: boolean }; line: string };
}

const tensorsOf = (arrays: readonly Float32Array[], model: Model) => arrays.map((a, i) => tf.tensor(a, model.paramShapes[i] as number[]));

function accumulate(uploads: readonly Float32Array[][], h: number): Float32Array[] {
  return uploads[0].map((_, i) => {
    const s = new Float32Array(uploads[0][i].length);
    for (let r = 0; r <= h; r++) for (let j = 0; j < s.length; j++) s[j] += uploads[r][i][j];
    return s;
  });
}

const nonZero = (ts: readonly Float32Array[]) => ts.reduce((n, t) => n + t.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0), 0);

/** What the defense-aware attacker changes in the adaptive recipe: its distance and whether zeros are "not sent". */
function awareRecipe(d: DefenseSpec) {
  const a = awareAttack(d);
  return { distance: a.distance, masked: a.masked };
}

export function attackWatched(model: Model, watched: Watched, opts: FLAttackOptions, onRecord?: (r: AttackRecord) => void): FLAttackOutcome {
  const t0 = performance.now();
  const { target } = watched;
  const B = target.size;
  const shape = planesOf(model, B);
  const baselinePsnr = psnr(meanStart(opts.mean, B), target.x);
  const leaks = (p: number) => isRecovered(p, baselinePsnr);
  const params = tensorsOf(watched.models[0], model);
  const dummy = opts.rng.fork("dummy");
  // FedAvg: the upload is Δ after E local steps; the attacker simulates them (attack/fedavg.ts)
  const knowledge: FedAvgKnowledge | null = watched.local
    ? { training: watched.local.training, n: B, loss: opts.victimLoss, order: opts.knowsOrder ? watched.local.schedule : null }
    : null;
  if (knowledge) checkFedAvgApplicable(opts.method, knowledge.training.steps);
  const spec: AttackSpec = {
    method: opts.method === "history" ? HISTORY_INVERSION : opts.method,
    optimizer: opts.optimizer, iterations: opts.iterations, lr: opts.lr, returnEvery: opts.returnEvery, windowSize: opts.windowSize,
    victimLoss: opts.victimLoss, labelInit: opts.labelInit, labelRule: opts.labelRule,
    // momentum and the sum scale the victim's gradient by an unknown factor: match its direction
    ...(opts.method === "history" ? { recipe: { distance: "cosine" as const } } : opts.method === "adaptive" && opts.defense ? { recipe: awareRecipe(opts.defense) } : {}),
  };
  // one trial's attack on what the server kept (trial/run.ts `attackObservation`): the same scoring as dgc_demo's
  const view = {
    dummy, victimLoss: opts.victimLoss, mean: opts.mean, keepDlgStart: false, range: opts.range,
    batchPrior: B > 1 && opts.publicLabelled && opts.method !== "history" ? { labelled: opts.publicLabelled, mean: opts.mean } : undefined,
    describe: `${model.kind}, client ${watched.client}'s upload of round ${watched.round}`,
  };
  const invert = (observed: readonly Float32Array[], onSnapshot?: (r: AttackRecord) => void) => {
    const raw = tensorsOf(observed, model);
    let tensors = raw;
    try {
      const sent = { sent: observed.map((t) => t.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0)), total: observed.map((t) => t.length) };
      // labels of a batch: FedAvg reads the counts off Δ along the client's path, FedSGD off one gradient (label_counts.ts)
      const prior = opts.publicLabelled ? { labelled: opts.publicLabelled, mean: opts.mean } : null;
      const labels = knowledge && B > 1 && prior && opts.method !== "history" ? labelRows(fedavgLabels(model, params, raw, knowledge, prior).labels) : undefined;
      // FedAvg: Δ and the simulated Δ' at one gradient's scale (fedavgAttackInput)
      const fa = knowledge ? fedavgAttackInput(model, params, raw, knowledge) : null;
      if (fa) {
        tf.dispose(raw);
        tensors = fa.observed;
      }
      const r = attackObservation({ model, params, target, observed: tensors, sent }, spec, { ...view, ...(knowledge ? { batchPrior: undefined, labels, gradsOf: fa?.gradsOf } : {}) }, {
        onIteration: (_it, _d, rec) => rec && onSnapshot?.(rec),
      });
      return { x: r.reconstruction, y: r.dummyY, guess: r.guess };
    } finally {
      tf.dispose(tensors);
    }
  };
  try {
    let x = meanStart(opts.mean, B);
    let y = initialLabels("guess", B, 0);
    let guess = 0;
    const records: AttackRecord[] = [];
    const history: HistoryStep[] = [];
    let firstLeakRound: number | null = null;
    if (opts.method === "history") {
      for (let h = 0; h < watched.uploads.length; h++) {
        const sum = accumulate(watched.uploads, h);
        const received = nonZero(sum);
        if (received === 0) {
          history.push({ h, received, psnr: null, recovered: false, x: null });
          opts.onHistoryStep?.(history[history.length - 1]);
          continue;
        }
        ({ x, y, guess } = invert(sum));
        const p = psnr(x, target.x);
        history.push({ h, received, psnr: p, recovered: leaks(p), x });
        opts.onHistoryStep?.(history[history.length - 1]);
        if (leaks(p) && firstLeakRound === null) {
          firstLeakRound = watched.round + h;
          if (opts.stopAtLeak ?? true) break;
        }
      }
    } else {
      ({ x, y, guess } = invert(watched.uploads[0], (r) => {
        records.push(r);
        onRecord?.(r);
      }));
    }
    const metrics = attackMetrics(x, target.x, shape, y, target.y);
    return {
      method: opts.method, x, y, metrics, baselinePsnr, recovered: leaks(metrics.psnr), guess, records, history,
      firstLeakRound: opts.method === "history" ? firstLeakRound : leaks(metrics.psnr) ? watched.round : null,
      seconds: (performance.now() - t0) / 1000,
      ...(B > 1 ? { matched: matchReconstructions(x, target.x, B, model.inputShape) } : {}),
      ...(knowledge ? { fedavg: { knowledge: { training: knowledge.training, n: knowledge.n, loss: knowledge.loss, knowsOrder: knowledge.order !== null }, line: knowledgeLine(knowledge) } } : {}),
    };
  } finally {
    tf.dispose(params);
  }
}
