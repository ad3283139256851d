/**
 * "Attack this image under this defense": the public one-call form of a trial. Keywords in, a
 * TrialRecord out — the threat model (threat/model.ts `threatModel`: data, image, model, defense,
 * lr, seed) and the attack (method × optimizer × iterations, the papers' defaults per method). The
 * image attacked is exactly the one named: an index into `data`, several, or your own arrays.
 */
import { initBackend, type BackendChoice } from "../core/backend";
import { ConfigError } from "../core/errors";
import { splitMean } from "../data/dataset";
import { threatModel, type ThreatOptions } from "../threat/model";
import { ATTACK_METHODS, defaultLr, defaultOptimizer, type AttackMethod, type AttackOptimizer, type AttackSpec } from "../attack/methods";
import { runTrial, type TrialHooks, type TrialRecord } from "./run";

export interface AttackImageOptions extends ThreatOptions {
  /** dlg (the seed's, default), idlg, ig, adaptive (knows the defense) or analytic */
  attack?: AttackMethod;
  /** default: the method's (gd for dlg, lbfgs for idlg, adam for ig/adaptive) */
  optimizer?: AttackOptimizer;
  /** default: 2000 (the seed's), 300 for lbfgs (the DLG paper's) */
  iterations?: number;
  /** default: the optimizer's (0.2 gd, 1 lbfgs, 0.1 adam) */
  attackLr?: number;
  /** a snapshot every this many iterations (the last iteration is always one); default 100 */
  every?: number;
  /** default "auto": the fastest backend for this model's attack, printed nowhere (see initBackend) */
  backend?: BackendChoice;
  hooks?: TrialHooks;
}

/** The attack spec from keywords, with each method's defaults; ConfigError for bad ones. */
export function attackSpecOf(o: Pick<AttackImageOptions, "attack" | "optimizer" | "iterations" | "attackLr" | "every" | "loss">): AttackSpec {
  const method = o.attack ?? "dlg";
  if (!ATTACK_METHODS.includes(method)) throw new ConfigError(`attack must be one of ${ATTACK_METHODS.join(", ")}, got ${method}`);
  const optimizer = method === "analytic" ? "none" : (o.optimizer ?? defaultOptimizer(method));
  const iterations = o.iterations ?? (optimizer === "lbfgs" ? 300 : 2000);
  if (!Number.isInteger(iterations) || iterations < 0) throw new ConfigError(`iterations must be an integer >= 0, got ${iterations}`);
  const every = o.every ?? 100;
  if (!Number.isInteger(every) || every < 1) throw new ConfigError(`every must be an integer >= 1, got ${every}`);
  const lr = o.attackLr ?? defaultLr(optimizer);
  if (!(lr > 0 && Number.isFinite(lr))) throw new ConfigError(`attackLr must be a number > 0, got ${lr}`);
  return { method, optimizer, iterations, lr, returnEvery: every, windowSize: 200, victimLoss: o.loss ?? "sse", labelInit: "ones", labelRule: "gram" };
}

/**
 * Attacks one image (or a few) under a defense and returns the trial's record: `target`, the final
 * reconstruction (`snapshots.at(-1)`), `final` readings, `recovered` by the project's rule.
 * Example: `await attackImage({ data: loadMnist("train"), image: 123, defense: "topk:0.9", attack: "adaptive" })`.
 */
export async function attackImage(o: AttackImageOptions): Promise<TrialRecord> {
  const attack = attackSpecOf(o);
  const threat = threatModel(o);
  await initBackend(o.backend ?? "auto", { model: threat.model, task: "attack" });
  if (!threat.server.mean && (attack.method === "adaptive" || attack.method === "analytic")) threat.server = { ...threat.server, mean: splitMean(threat.data) };
  return runTrial(threat, attack, o.hooks);
}
