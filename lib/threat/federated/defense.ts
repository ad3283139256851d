/**
 * Defenses in the federated simulation: every client sends its update through any defense of
 * lib/optim/defenses.ts (none, dgc:s, topk:p, randk:p, gaussian:σ, gaussvar:v, laplace:v, fp16,
 * int8, signsgd), each client with its own transform state (DGC's u and v, signSGD's error memory)
 * and its own random stream:
 *   "defense" for client 0 and "defense/c" for client c > 0 (so one client draws what the sweep's
 *   training run draws), and DGC's "sample/c" for its sampled threshold, as before.
 * FedSGD: the client's optimizer compresses the gradient; FedAvg: it compresses the weight delta Δ
 * (DGC with momentum 0 there: Δ already carries the local momentum; the other transforms as they are).
 * The server only ever sees the decoded upload and averages it (simulation.ts).
 *
 * Privacy of `gaussian:σ`: every client that uploaded in T rounds is (ε, δ)-DP for its participation
 * (add/remove one client, lib/optim/rdp.ts), composed over the T rounds it took part in.
 */
import { makeChannel } from "../channel/registry";
import { type Optimizer } from "../../optim/optimizer";
import { gaussianGuarantee } from "../../optim/rdp";
import type { DefenseSpec } from "../channel/defenses";
import type { DGCOptions } from "../../optim/dgc";
import type { Rng } from "../../core/rng";

/** δ of the (ε, δ) reported for `gaussian` clients. */
export const FL_DELTA = 1e-5;


/** Client c's own random stream for its defense's draws. */
export function defenseStream(rng: Rng, c: number): Rng {
  return c === 0 ? rng.fork("defense") : rng.fork(`defense/${c}`);
}

/** Client c's optimizer: only its compress() is used (the server applies the averaged upload). */
export function clientOptimizer(defense: DefenseSpec, lr: number, fedavg: boolean, rng: Rng, c: number, dgc: Omit<DGCOptions, "lr" | "sparsity" | "rng"> = {}): Optimizer {
  // FedAvg compresses a weight delta: DGC without its momentum (error feedback only)
  if (defense.name === "dgc") return makeChannel(defense, lr, rng.fork(`sample/${c}`), fedavg ? { ...dgc, momentum: 0 } : dgc);
  return makeChannel(defense, lr, defenseStream(rng, c), dgc);
}

export interface ClientPrivacy {
  client: number;
  /** Rounds whose upload went through the Gaussian mechanism. */
  rounds: number;
  epsilon: number;
  delta: number;
}

/** (ε, δ = FL_DELTA) per client under `gaussian:σ` over the rounds each took part in; [] for other defenses. */
export function clientPrivacy(defense: DefenseSpec, roundsTaken: readonly number[]): ClientPrivacy[] {
  if (defense.name !== "gaussian") return [];
  return roundsTaken.map((rounds, client) => ({
    client, rounds, delta: FL_DELTA,
    epsilon: rounds === 0 ? 0 : gaussianGuarantee(defense.strength!, rounds, FL_DELTA).epsilon,
  }));
}

