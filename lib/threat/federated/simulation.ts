/**
 * Federated training of K clients with an honest-but-curious server.
 *
 * Each round t: the server broadcasts w_t; every client computes its upload (client.ts); the
 * server averages the uploads, ū = (1/K) Σ_c upload_c (a dense sum of sparse tensors), and updates
 *   FedSGD: Momentum(lr, 0.9) on ū — with K = 1 this is exactly dgc_demo's training step
 *           (DGC's u · mask then goes through Momentum: the seed's "momentum applied twice");
 *   FedAvg: w_{t+1} = w_t − ū (ū is the mean weight delta; server learning rate 1).
 * Per round: mean training loss, test accuracy, and bytes up (per client, bytes.ts) and down.
 *
 * Random streams, all forks of the run's Rng: "init" (the model, as dgc_demo), "split" (the shards),
 * "shuffle" for client 0 and "shuffle/c" for client c > 0 (so with one client, its first batch is
 * dgc_demo's victim), "sample/c" for DGC's sampled threshold when asked, "defense" / "defense/c"
 * for the other defenses' draws (defense.ts).
 *
 * The server may watch one client (`watch`): from round R it keeps that client's uploads and the
 * models it broadcast (as Float32Arrays), for the attacks of attack.ts. In round R the watched
 * client uses `batchSize` images and back-propagates `loss` (the attacked step, as in dgc_demo); under
 * FedAvg it trains those n images locally as `watch.local` says (local.ts) and uploads that Δ.
 */
import { tf } from "../../core/tf";
import type { Batch } from "../../data/batcher";
import type { MnistSplit } from "../../data/mnist";
import { accuracy } from "../../optim/train";
import { DivergenceError } from "../../core/errors";
import { Momentum } from "../../optim/momentum";
import { sumStats } from "../../optim/optimizer";
import { checkDefense, type DefenseSpec } from "../channel/defenses";
import type { DGCRefinements } from "../../optim/dgc";
import type { Model } from "../../models/model";
import type { VictimLoss } from "../../models/losses";
import { ConfigError } from "../../core/errors";
import type { Rng } from "../../core/rng";
import { Client } from "./client";
import { splitClients, type SplitKind } from "./split";
import { downloadBytes } from "../../optim/wire";
import { defenseUploadBytes } from "../channel/defenses";
import { clientOptimizer, clientPrivacy, type ClientPrivacy } from "./defense";
import { localSchedule, localUpdate, type LocalTraining } from "./local";

export interface FederatedOptions {
  clients: number;
  rounds: number;
  /** 1: FedSGD; E > 1: FedAvg with E local steps. */
  localSteps: number;
  split: SplitKind;
  /** Dirichlet concentration (split "dirichlet" only). */
  alpha: number;
  batchSize: number;
  lr: number;
  /** What every client sends its update through: a defense of the registry (threat/channel/registry.ts; the seed's DGC is `dgc:s`). */
  defense: DefenseSpec;
  /** DGC refinements beyond the seed's (lib/optim/variants.ts); none by default. */
  dgc?: DGCRefinements;
  /** Test accuracy after every round when given. */
  test?: MnistSplit;
  watch?: WatchSpec;
}

export interface WatchSpec {
  client: number;
  /** The attacked round R. */
  round: number;
  /** The victim's batch size in round R (dgc_demo's attack_batch_size). */
  batchSize: number;
  /** What the victim back-propagates in round R. */
  loss: VictimLoss;
  /** Keep uploads of rounds R .. R + historyRounds (0: round R only). */
  historyRounds: number;
  /**
   * FedAvg (localSteps > 1): the watched client's local training in round R (local.ts): E steps of
   * b of its `batchSize` images, in an order drawn from its "order/c" stream; required with FedAvg.
   */
  local?: LocalTraining;
}

export interface RoundRecord {
  round: number;
  /** Mean cross-entropy of the clients' batches (before their update); NaN if none used it. */
  loss: number;
  testAccuracy: number | null;
  /** Bytes each client uploaded (bytes.ts), and the values (non-zero entries) it sent. */
  upBytes: number[];
  upValues: number[];
  /** Bytes of the broadcast, per client. */
  downBytes: number;
  totalValues: number;
}

/** What the curious server kept of the watched client (plus the ground truth, for scoring only). */
export interface Watched {
  client: number;
  round: number;
  /** The victim's batch in round R: the attacker never sees it; it scores the attack. */
  target: Batch;
  /** The victim's full (uncompressed) gradient in round R, per tensor (for reference). */
  fullGradient: Float32Array[];
  /** uploads[h]: the client's upload in round R + h, per tensor. */
  uploads: Float32Array[][];
  /** models[h]: the model broadcast in round R + h, per tensor. */
  models: Float32Array[][];
  /** The values sent in round R + h. */
  sent: number[];
  /** FedAvg: the client's local training in round R and the order it walked (schedule[s]: indices into `target`). */
  local?: { training: LocalTraining; schedule: Int32Array[] };
}

export interface FederatedResult {
  rounds: RoundRecord[];
  watched: Watched | null;
  /** `gaussian` only: each client's (ε, δ) over the rounds it took part in (empty otherwise). */
  privacy: ClientPrivacy[];
  seconds: number;
}

const read = (ts: readonly tf.Tensor[]) => ts.map((t) => t.dataSync().slice() as Float32Array);

export function clientStream(rng: Rng, c: number): Rng {
  return c === 0 ? rng.fork("shuffle") : rng.fork(`shuffle/${c}`);
}

/**
 * The victim's batch in round R is the next `batchSize` images of its epoch (FedSGD: every earlier
 * round took `trainBatch`, an epoch's last batch short). Known before any work; never cut silently:
 * a shard smaller than the batch (a Dirichlet draw), or an epoch's short tail, is a ConfigError.
 */
function checkVictimBatch(w: WatchSpec, shard: number, trainBatch: number, split: SplitKind, batchesPerRound = 1): void {
  const c = w.client;
  if (shard < w.batchSize) throw new ConfigError(`attackBatchSize ${w.batchSize} is more than client ${c}'s ${shard} images (its shard of the ${split} split)`, "attackBatchSize");
  const perEpoch = Math.ceil(shard / trainBatch);
  const left = shard - ((w.round * batchesPerRound) % perEpoch) * trainBatch;
  if (left < w.batchSize) {
    throw new ConfigError(`attackBatchSize ${w.batchSize}: client ${c} has only ${left} images left in its epoch in round ${w.round} (${shard} images in batches of ${trainBatch}); choose another attackRound or a smaller batch`, "attackBatchSize");
  }
}

/**
 * Runs the rounds on `params` (updated in place: the global model). `rng` is the run's root
 * generator (the caller has already drawn `params` from its "init" fork).
 */
export function runFederated(
  model: Model,
  params: tf.Variable[],
  data: MnistSplit,
  opts: FederatedOptions,
  rng: Rng,
  onRound?: (r: RoundRecord) => void,
): FederatedResult {
  const t0 = performance.now();
  const shards = splitClients(data.labels, opts.clients, opts.split, opts.alpha, rng.fork("split"));
  const fedavg = opts.localSteps > 1;
  // FedAvg: the watched client trains locally on its n images in round R (local.ts)
  if (fedavg && opts.watch && !opts.watch.local) throw new RangeError("a watched FedAvg client needs its local training (WatchSpec.local)");
  if (opts.watch && opts.watch.client < shards.length) checkVictimBatch(opts.watch, shards[opts.watch.client].length, opts.batchSize, opts.split, fedavg ? opts.localSteps : 1);
  const defense = checkDefense(opts.defense);
  const clients = shards.map((shard, c) => new Client(c, data, shard, clientStream(rng, c), clientOptimizer(defense, opts.lr, fedavg, rng, c, opts.dgc)));
  const server = fedavg ? new Momentum(1, 0) : new Momentum(opts.lr, 0.9);
  const total = params.map((p) => p.size);
  const rounds: RoundRecord[] = [];
  const w = opts.watch;
  let watched: Watched | null = null;
  try {
    for (let t = 0; t < opts.rounds; t++) {
      const upBytes: number[] = [];
      const upValues: number[] = [];
      const losses: number[] = [];
      let sum: tf.Tensor[] | null = null;
      const watching = w !== undefined && w.client < clients.length && t >= w.round && t <= w.round + w.historyRounds;
      if (watching && t === w.round) watched = { client: w.client, round: t, target: null as unknown as Batch, fullGradient: [], uploads: [], models: [], sent: [] };
      if (watching) watched!.models.push(read(params));
      for (const client of clients) {
        const attacked = w !== undefined && t === w.round && client.id === w.client;
        let up;
        if (fedavg && attacked) {
          // the victim's n images, E local steps of b in an order drawn from its own stream, Δ through its defense
          const batch = client.nextBatch(w.batchSize, t);
          const schedule = localSchedule(batch.size, w.local!.batch, w.local!.steps, rng.fork(`order/${client.id}`));
          const u = localUpdate(model, params, batch.x, batch.y, schedule, w.local!, w.loss);
          try {
            up = { ...client.optimizer.compress(u.delta), loss: u.loss, grads: read(u.delta) };
          } finally {
            tf.dispose(u.delta);
          }
          watched!.target = batch;
          watched!.fullGradient = up.grads;
          watched!.local = { training: { ...w.local! }, schedule };
        } else if (fedavg) {
          up = client.fedavg(model, params, Array.from({ length: opts.localSteps }, (_, i) => client.nextBatch(attacked ? w.batchSize : opts.batchSize, i)), opts.lr);
        } else {
          const batch = client.nextBatch(attacked ? w.batchSize : opts.batchSize, t);
          up = client.fedsgd(model, params, batch, attacked ? w.loss : "ce", attacked);
          if (attacked) {
            watched!.target = batch;
            watched!.fullGradient = up.grads!;
          }
        }
        // the attacked step's SSE is no training loss (NaN by design); every other loss must be finite
        if (!Number.isFinite(up.loss) && !(attacked && w.loss !== "ce")) {
          tf.dispose(up.sent);
          throw new DivergenceError(`federated training diverged: client ${client.id}'s loss is ${up.loss} in round ${t}`);
        }
        if (Number.isFinite(up.loss)) losses.push(up.loss);
        if (watching && client.id === w.client) {
          watched!.uploads.push(read(up.sent));
          watched!.sent.push(sumStats(up.stats).sent);
        }
        upValues.push(sumStats(up.stats).sent);
        upBytes.push(defenseUploadBytes(defense, up.stats));
        const prev: tf.Tensor[] | null = sum;
        sum = prev ? up.sent.map((s, i) => tf.add(prev[i], s)) : up.sent;
        if (prev) tf.dispose([...prev, ...up.sent]);
      }
      const mean = tf.tidy(() => sum!.map((s) => tf.div(s, clients.length)));
      tf.dispose(sum!);
      server.apply(params, mean);
      tf.dispose(mean);
      if (!params.every((p) => tf.tidy(() => tf.all(tf.isFinite(p)).dataSync()[0] === 1))) {
        throw new DivergenceError(`federated training diverged: the model is not finite after round ${t}`);
      }
      const r: RoundRecord = {
        round: t,
        loss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN,
        testAccuracy: opts.test ? accuracy(model, params, opts.test) : null,
        upBytes,
        upValues,
        downBytes: downloadBytes(total),
        totalValues: total.reduce((a, b) => a + b, 0),
      };
      rounds.push(r);
      onRound?.(r);
    }
  } finally {
    server.dispose();
    for (const c of clients) c.dispose();
  }
  // every client uploads in every round (no client sampling)
  const privacy = clientPrivacy(defense, clients.map(() => rounds.length));
  return { rounds, watched, privacy, seconds: (performance.now() - t0) / 1000 };
}

const fmtBytes = (b: number) => (b >= 1000 ? `${(b / 1000).toFixed(1)} kB` : `${Math.round(b)} B`);

/** One line per round: mean training loss, test accuracy, mean bytes up per client, bytes down. */
export function roundLogLine(r: RoundRecord): string {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const acc = r.testAccuracy === null ? "-" : r.testAccuracy.toFixed(4);
  const loss = Number.isNaN(r.loss) ? "-" : r.loss.toFixed(4);
  return `round ${r.round}, training loss ${loss}, test acc ${acc}, up ${fmtBytes(mean(r.upBytes))}/client (${mean(r.upValues).toFixed(1)} of ${r.totalValues} values), down ${fmtBytes(r.downBytes)}/client`;
}
