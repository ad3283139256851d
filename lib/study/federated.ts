/**
 * The federated study (docs/federated.md): sparsity × attacked round × attack × seed, on 10 iid
 * FedSGD clients, and beside it a training run per sparsity and seed (test accuracy and bytes per
 * round). Each point is a task of the one runner (runner.ts: one record per key, resumable, locked,
 * `--jobs N`, `--shard i/n`); the attacks on one federated run share it within a process.
 *
 * A point is a defense (defense.ts): sparsity 0 (`none`) is the seed's Momentum (lr 0.01), sparsity s
 * (`dgc:s`) its DGC (lr 0.001), as Examples 3 and 4, and every other defense Momentum (lr 0.01)
 * behind its transform, as the sweep trains them. The history attacker runs only against defenses
 * that carry state into later uploads (DGC's residual, signSGD's error memory) and `none`.
 * Attacks on one (sparsity, round, seed, victim loss) share one federated run: DLG's victim
 * back-propagates the seed's Σ(logits − onehot)², the others cross-entropy.
 *
 * On LeNet (`model: "lenet"`: keys `lenet-…`, records marked) the adaptive attack and the history
 * attacker's inversions run by L-BFGS for `lbfgsSteps` steps, as the sweep's LeNet frontier does:
 * Adam does not invert LeNet's gradient in any affordable number of iterations (docs/defenses.md);
 * the analytic attack needs a Linear first layer and is refused.
 */
import { tf } from "../core/tf";
import { initBackend } from "../core/backend";
import { initParams } from "../trial/demo";
import type { MnistSplit } from "../data/mnist";
import { fieldsProblem, type FieldType, type Versions } from "./record";
import type { StudyTask, TaskOutcome } from "./task";
import { FL_DEFAULTS, defaultVictimLoss, resolveFLDefaults, validateFLConfig, type FLAttack, type FLConfig } from "../trial/fl_config";
import { federatedOptions, runFL, setupFL } from "../trial/fl_run";
import { runFederated } from "../threat/federated/simulation";
import { attackWatched } from "../trial/fl_attack";
import { DivergenceError } from "../core/errors";
import { meanStart } from "../attack/invert";
import { psnr } from "../metrics/image";
import { checkDefense, type DefenseSpec } from "../threat/channel/defenses";
import { FL_DELTA } from "../threat/federated/defense";
import { defenseLabel } from "../threat/channel/registry";
import type { ModelKind } from "../models/model";

export interface StudySettings {
  /** DGC sparsities (0: Momentum), the study's original axis. */
  sparsities: number[];
  /** Other defenses, after the sparsities (default none). */
  defenses?: DefenseSpec[];
  rounds: number[];
  attacks: FLAttack[];
  seeds: number[];
  /** Iterations of IG and the adaptive attack (DLG keeps the seed's 2000). */
  iterations: number;
  /** Iterations of each inversion the history attacker runs, and how many rounds it watches. */
  historyIterations: number;
  historyRounds: number;
  /** Rounds of the training runs. */
  trainRounds: number;
  clients: number;
  /** The model (default linear, the seed's). */
  model?: ModelKind;
  /** L-BFGS steps of the attacks that run by L-BFGS on LeNet (adaptive, history's inversions; default 20; 0: Adam, as on Linear). */
  lbfgsSteps?: number;
}

export const STUDY_DEFAULTS: StudySettings = {
  sparsities: [0, 0.8, 0.9, 0.99, 0.999],
  rounds: [0, 1, 10, 50],
  attacks: ["dlg", "ig", "adaptive", "analytic", "history"],
  seeds: [1, 2, 3, 4, 5],
  iterations: 500,
  historyIterations: 300,
  historyRounds: 10,
  trainRounds: 50,
  clients: 10,
  model: "linear",
  lbfgsSteps: 20,
};

/** Why a study's settings cannot run (null: they can): the analytic attack needs the Linear model. */
export function studyProblem(st: StudySettings): string | null {
  return st.model === "lenet" && st.attacks.includes("analytic") ? "the analytic attack needs a Linear first layer with a bias; LeNet's is a convolution (drop analytic from --attacks)" : null;
}

export interface StudyAttackRecord {
  key: string;
  kind: "attack";
  /** Absent: the Linear model (records from before LeNet). */
  model?: ModelKind;
  /** The attack's optimizer and iterations (L-BFGS steps, for lbfgs). */
  optimizer?: string;
  /** DGC's sparsity (0: none); null under another defense. */
  sparsity: number | null;
  /** The point's defense, as `fl --defense` names it (absent in records from before defenses). */
  defense?: string;
  round: number;
  attack: FLAttack;
  seed: number;
  victimLoss: string;
  iterations: number;
  label: number;
  guess: number;
  psnr: number | null;
  ssim: number | null;
  baselinePsnr: number;
  recovered: boolean;
  /** Why the attack diverged (then psnr is null and nothing was recovered); null when it ran through. */
  diverged: string | null;
  /** Round R + h of the first leak (history), R when the single-round attack recovers, else null. */
  firstLeakRound: number | null;
  /** Values the victim sent in the attacked round. */
  sentInRound: number;
  history: { h: number; received: number; psnr: number | null }[];
  seconds: number;
  versions: Versions;
}

export interface StudyTrainRecord {
  key: string;
  kind: "train";
  model?: ModelKind;
  sparsity: number | null;
  defense?: string;
  seed: number;
  rounds: { round: number; testAccuracy: number; upBytes: number; upValues: number }[];
  testAccuracy: number;
  /** Mean over rounds and clients. */
  upBytesPerRound: number;
  downBytesPerRound: number;
  /** `gaussian` only: every client's (ε, δ) after the rounds (the largest over clients). */
  epsilon?: number;
  delta?: number;
  seconds: number;
  versions: Versions;
}

/** A study point: a DGC sparsity (0: none) or a defense. */
export type StudyPoint = number | DefenseSpec;

/** The point as a defense: sparsity 0 and dgc:0 are `none` (the seed's Momentum). */
export function pointDefense(p: StudyPoint): DefenseSpec {
  const d = typeof p === "number" ? { name: "dgc" as const, strength: p } : checkDefense(p);
  return d.name === "dgc" && d.strength === 0 ? { name: "none", strength: null } : d;
}

/** The point's part of a key: `s0` (none), `s0.9` (dgc:0.9) as before defenses; `topk0.9`, `int8` otherwise. */
function pointKey(p: StudyPoint): string {
  const d = pointDefense(p);
  if (d.name === "none" || d.name === "dgc") return `s${d.strength ?? 0}`;
  return `${d.name}${d.strength ?? ""}`;
}

/** DGC's sparsity of a point (0: none), null under another defense. */
const pointSparsity = (p: StudyPoint) => {
  const d = pointDefense(p);
  return d.name === "none" ? 0 : d.name === "dgc" ? d.strength : null;
};

/**
 * The history attacker's targets: the defenses whose uploads carry state from round to round (DGC's
 * residual, signSGD's error memory), and `none` as the reference (a plain gradient leaks at h = 0).
 */
export const historyApplies = (p: StudyPoint) => ["none", "dgc", "signsgd"].includes(pointDefense(p).name);

const modelPrefix = (model?: ModelKind) => (model === "lenet" ? "lenet-" : "");
export const attackKey = (p: StudyPoint, r: number, a: FLAttack, seed: number, model?: ModelKind) => `${modelPrefix(model)}${pointKey(p)}-r${r}-${a}-seed${seed}`;
export const trainKey = (p: StudyPoint, seed: number, model?: ModelKind) => `${modelPrefix(model)}train-${pointKey(p)}-seed${seed}`;

/** The study's run at a point (DGC lr 0.001; none and the other defenses lr 0.01), attack defaults by method unless overridden. */
export function studyConfig(p: StudyPoint, seed: number, overrides: Partial<FLConfig>): FLConfig {
  const d = pointDefense(p);
  const dgc = d.name === "dgc";
  const base = { ...FL_DEFAULTS, seed, defense: defenseLabel(d), use_dgc: dgc, sparsity: dgc ? d.strength! : 0, train_lr: dgc ? 0.001 : 0.01, ...overrides };
  return validateFLConfig(resolveFLDefaults(base, overrides));
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** An attack record's own fields (the runner adds key, config, versions, seconds). */
export type StudyAttackResult = Omit<StudyAttackRecord, "key" | "seconds" | "versions"> & { attackSeconds: number };
export type StudyTrainResult = Omit<StudyTrainRecord, "key" | "seconds" | "versions"> & { trainSeconds: number };

interface Shared {
  group: string;
  run: Promise<{ ctx: Awaited<ReturnType<typeof setupFL>>; cfg: FLConfig; watched: NonNullable<ReturnType<typeof runFederated>["watched"]> }>;
}
/** The last federated run: the attacks on one run are adjacent tasks, so each is simulated once per process. */
let shared: Shared | undefined;

/**
 * The federated run the attacks of (point, round, seed, victim loss) share. Its rounds up to R, and so
 * the watched upload, do not depend on which attacks share it (the history attacker only adds later
 * rounds), and each attack draws its dummies from its own fork of the seed (fl_attack.ts), so a task
 * run on its own (`--only`, a child) gives the record it gives in its group.
 */
function groupRun(st: StudySettings, s: StudyPoint, R: number, seed: number, group: FLAttack[], data: MnistSplit): Shared["run"] {
  const history = group.includes("history");
  const model = st.model ?? "linear";
  const cfg = studyConfig(s, seed, {
    model, clients: st.clients, dlg_attack: true, attack_round: R, rounds: R + 1 + (history ? st.historyRounds : 0),
    attack_method: history ? "history" : group[0], victim_loss: defaultVictimLoss(group[0]), history_rounds: st.historyRounds,
  });
  const id = JSON.stringify(cfg);
  if (shared?.group === id) return shared.run;
  const run = (async () => {
    const ctx = await setupFL(cfg); // on the attack's backend
    // `auto` trains LeNet on tfjs-node when it loads and attacks on wasm (lib/backend.ts), as the sweep does
    const switched = cfg.backend === "auto" && (await initBackend("auto", { model, task: "train" })) !== ctx.backend;
    const params = initParams(ctx);
    try {
      return { ctx, cfg, watched: runFederated(ctx.model, params, data, federatedOptions(cfg), ctx.rng).watched! };
    } finally {
      tf.dispose(params);
      if (switched) await initBackend("auto", { model, task: "attack" });
    }
  })();
  shared = { group: id, run };
  run.catch(() => (shared = shared?.run === run ? undefined : shared));
  return run;
}

/** One attack of a group on the group's federated run. */
async function runAttack(st: StudySettings, s: StudyPoint, R: number, seed: number, attack: FLAttack, group: FLAttack[], data: MnistSplit, mean: Float32Array): Promise<TaskOutcome<StudyAttackResult>> {
  const { ctx, cfg, watched: w } = await groupRun(st, s, R, seed, group, data);
  const model = st.model ?? "linear";
  const { iterations, byLbfgs } = attackSettings(st, attack, cfg);
  // each attack with its own optimizer and learning rate (the registry's defaults; L-BFGS on LeNet, above)
  const own = byLbfgs
    ? resolveFLDefaults({ ...cfg, attack_method: attack, attack_optimizer: "lbfgs" }, { victim_loss: cfg.victim_loss, attack_optimizer: "lbfgs" })
    : resolveFLDefaults({ ...cfg, attack_method: attack }, { victim_loss: cfg.victim_loss });
  const common = { kind: "attack" as const, ...(model === "lenet" ? { model } : {}), optimizer: own.attack_optimizer, sparsity: pointSparsity(s), defense: cfg.defense!, round: R, attack, seed, victimLoss: cfg.victim_loss, iterations, label: w.target.y[0], sentInRound: w.sent[0] };
  try {
    const a = attackWatched(ctx.model, w, {
      method: attack, optimizer: own.attack_optimizer, victimLoss: cfg.victim_loss, iterations, lr: own.attack_lr,
      returnEvery: Math.max(1, iterations - 1), windowSize: cfg.window_size, labelInit: cfg.label_init, labelRule: cfg.label_rule, rng: ctx.rng, mean, defense: pointDefense(s),
    });
    if (!Number.isFinite(a.metrics.mse)) throw new DivergenceError("the reconstruction is not finite");
    return {
      backend: ctx.backend,
      result: {
        ...common, guess: a.guess, psnr: finite(a.metrics.psnr), ssim: a.metrics.ssim, baselinePsnr: a.baselinePsnr,
        recovered: a.recovered, diverged: null, firstLeakRound: a.firstLeakRound,
        history: a.history.map((h) => ({ h: h.h, received: h.received, psnr: h.psnr === null ? null : finite(h.psnr) })), attackSeconds: a.seconds,
      },
    };
  } catch (e) {
    // an attack that diverges is an outcome (it recovered nothing), recorded as such
    if (!(e instanceof DivergenceError)) throw e;
    const baselinePsnr = psnr(meanStart(mean, w.target.size), w.target.x);
    return { backend: ctx.backend, result: { ...common, guess: -1, psnr: null, ssim: null, baselinePsnr, recovered: false, diverged: e.message, firstLeakRound: null, history: [], attackSeconds: 0 } };
  }
}

/** An attack's iterations, and whether it runs by L-BFGS (the adaptive and history attacks on LeNet). */
function attackSettings(st: StudySettings, attack: FLAttack, cfg: Pick<FLConfig, "attack_epoch">): { iterations: number; byLbfgs: boolean } {
  const lbfgsSteps = st.lbfgsSteps ?? STUDY_DEFAULTS.lbfgsSteps!;
  const byLbfgs = st.model === "lenet" && (attack === "adaptive" || attack === "history") && lbfgsSteps > 0;
  const iterations = byLbfgs ? lbfgsSteps : attack === "dlg" ? cfg.attack_epoch : attack === "history" ? st.historyIterations : st.iterations;
  return { iterations, byLbfgs };
}

async function runTrain(st: StudySettings, s: StudyPoint, seed: number, data: { train: MnistSplit; test: MnistSplit }, mean: Float32Array): Promise<TaskOutcome<StudyTrainResult>> {
  const cfg = studyConfig(s, seed, { model: st.model ?? "linear", clients: st.clients, rounds: st.trainRounds });
  const ctx = await setupFL(cfg);
  const run = runFL(ctx, data, mean);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rounds = run.fed.rounds.map((r) => ({ round: r.round, testAccuracy: r.testAccuracy!, upBytes: avg(r.upBytes), upValues: avg(r.upValues) }));
  return {
    backend: ctx.backend,
    result: {
      kind: "train", ...(st.model === "lenet" ? { model: st.model } : {}), sparsity: pointSparsity(s), defense: cfg.defense!, seed, rounds, testAccuracy: run.testAccuracy!,
      upBytesPerRound: avg(rounds.map((r) => r.upBytes)), downBytesPerRound: run.fed.rounds[0].downBytes,
      ...(run.fed.privacy.length ? { epsilon: Math.max(...run.fed.privacy.map((p) => p.epsilon)), delta: FL_DELTA } : {}),
      trainSeconds: run.fed.seconds,
    },
  };
}

const ATTACK_FIELDS: [string, FieldType][] = [["kind", "string"], ["round", "number"], ["seed", "number"], ["label", "number"], ["guess", "number"], ["psnr", "number|null"], ["baselinePsnr", "number"], ["attackSeconds", "number"]];
const TRAIN_FIELDS: [string, FieldType][] = [["kind", "string"], ["seed", "number"], ["testAccuracy", "number"], ["upBytesPerRound", "number"], ["downBytesPerRound", "number"], ["trainSeconds", "number"]];
const f1 = (x: number | null) => (x === null ? "–" : x.toFixed(2));

/**
 * Every task of the study, in a fixed order whatever is already done (so `--shard i/n` deals the
 * same tasks to the same shard however the shards' start times interleave): per seed and point its
 * training run, then per attacked round the attacks (those on one federated run adjacent).
 */
export function studyTasks(st: StudySettings, data: { train: MnistSplit; test: MnistSplit }, mean: Float32Array, train = true): StudyTask[] {
  const problem = studyProblem(st);
  if (problem) throw new Error(problem);
  const tasks: StudyTask[] = [];
  const model = st.model ?? "linear";
  for (const seed of st.seeds) {
    for (const s of [...st.sparsities, ...(st.defenses ?? [])] as StudyPoint[]) {
      const defense = defenseLabel(pointDefense(s));
      if (train) {
        tasks.push({
          key: trainKey(s, seed, st.model), config: { study: "federated", task: "train", model, defense, seed, clients: st.clients, rounds: st.trainRounds },
          run: () => runTrain(st, s, seed, data, mean),
          resultProblem: (r) => fieldsProblem(r, TRAIN_FIELDS),
          describe: (r) => `test acc ${(r as StudyTrainResult).testAccuracy.toFixed(4)}`,
        });
      }
      for (const R of st.rounds) {
        for (const loss of ["sse", "ce"] as const) {
          const group = st.attacks.filter((a) => defaultVictimLoss(a) === loss && (a !== "history" || historyApplies(s)));
          for (const attack of group) {
            const { iterations, byLbfgs } = attackSettings(st, attack, FL_DEFAULTS);
            tasks.push({
              key: attackKey(s, R, attack, seed, st.model),
              config: { study: "federated", task: "attack", model, defense, round: R, attack, seed, clients: st.clients, iterations, lbfgs: byLbfgs, ...(attack === "history" ? { historyRounds: st.historyRounds } : {}) },
              run: () => runAttack(st, s, R, seed, attack, group, data.train, mean),
              resultProblem: (r) => fieldsProblem(r, ATTACK_FIELDS),
              describe: (r) => `PSNR ${f1((r as StudyAttackResult).psnr)} dB (mean image ${f1((r as StudyAttackResult).baselinePsnr)}), recovered ${(r as StudyAttackResult).recovered}`,
            });
          }
        }
      }
    }
  }
  return tasks;
}
