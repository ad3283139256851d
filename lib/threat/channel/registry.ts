/**
 * What the client sends: the one defense registry. A defense is a DefenseSpec — a name from
 * DEFENSES and its strength — and DGC is a member like any other:
 *   none            the seed's Momentum: the raw gradient crosses the network
 *   dgc:s           the seed's DGCMomentum at sparsity s (u, v kept locally; `DGCRefinements` for the
 *                   paper's refinements: sampled threshold, warm-up, clipping, momentum masking)
 *   topk, randk, gaussian, gaussvar, laplace, fp16, int8, signsgd
 *                   a transform of the gradient (defenses.ts) in front of the same Momentum step
 * Every member is made by `makeChannel`, sends through `compress`, and is counted by one byte
 * account (optim/wire.ts `statsBytes`, via `defenseUploadBytes`). The seed's two flags map to it
 * in one place, `seedDefense`.
 */
import { DGCMomentum, type DGCRefinements } from "../../optim/dgc";
import { Momentum } from "../../optim/momentum";
import type { Optimizer } from "../../optim/optimizer";
import type { Rng } from "../../core/rng";
import { DefendedMomentum } from "./defended";
import { checkDefense, DefenseError, parseDefenseArg, type DefenseSpec } from "./defenses";


/** The seed's `--use_dgc` / `--sparsity` as a defense: DGC at that sparsity, or none (plain Momentum). */
export function seedDefense(useDgc: boolean, sparsity: number): DefenseSpec {
  return checkDefense(useDgc ? { name: "dgc", strength: sparsity } : { name: "none", strength: null });
}

/** One defense from its name as written (`dgc:0.9`, `int8`); throws DefenseError (one line). */
export function parseDefense(arg: string): DefenseSpec {
  const specs = parseDefenseArg(arg);
  if (specs.length !== 1) throw new DefenseError(`one defense with at most one strength, got '${arg}'`);
  return specs[0];
}

/** The defense as it is written: `none`, `dgc:0.99`, `int8`. */
export function defenseLabel(d: DefenseSpec): string {
  return d.strength === null ? d.name : `${d.name}:${d.strength}`;
}

/** Whether the defense sends a subset of the entries (so an attacker can tell which were sent). */
export function sendsSubset(d: DefenseSpec): boolean {
  return d.name === "dgc" || d.name === "topk" || d.name === "randk";
}

/**
 * The client's optimizer under `defense` with learning rate `lr`: compress() is what crosses the
 * network, apply() the Momentum step on it. `rng` draws the defense's noise or positions; DGC's
 * sampled threshold draws from `dgc.rng` when given (the sweep's "sample" stream), else `rng`.
 */
export function makeChannel(defense: DefenseSpec, lr: number, rng: Rng, dgc: DGCRefinements = {}): Optimizer {
  checkDefense(defense);
  if (defense.name === "none") return new Momentum(lr, dgc.momentum ?? 0.9);
  if (defense.name === "dgc") return new DGCMomentum({ ...dgc, rng: dgc.rng ?? rng, sparsity: defense.strength!, lr });
  return new DefendedMomentum(defense, lr, rng);
}
