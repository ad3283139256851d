/**
 * The threat model as one value: who is attacked, what they send, what the attacker knows.
 *
 *   data     the client's data set (its images are the victims)
 *   model    the network every party shares (its weights drawn from the trial's "init" stream)
 *   victim   which images (the first shuffled batch, as the seed; chosen indices; or the caller's
 *            own arrays) and the loss the victim back-propagates, at round 0 of an untrained model
 *   channel  what the client sends: a defense of the one registry (threat/channel/registry.ts,
 *            DGC among them) applied to its gradient, at learning rate `lr`
 *   server   what the attacker holds beyond the upload: the defense itself (an attack may use it:
 *            the adaptive method's mask), the training set's mean image, labelled public data
 * A trial (trial/run.ts) takes a ThreatModel and an attack and returns one record. `threatModel`
 * builds one from a few keywords with the seed's defaults; what it does not say, the seed says.
 */
import { checkDefense, type DefenseSpec } from "./channel/defenses";
import { defenseLabel, parseDefense } from "./channel/registry";
import type { DGCRefinements } from "../optim/dgc";
import { ConfigError } from "../core/errors";
import { rowSize, type ImageSplit } from "../data/dataset";
import type { ModelKind } from "../models/model";
import type { VictimLoss } from "../models/losses";

/** The victim's images: the seed's (the first batch of the run's shuffle), indices into the data, or given arrays. */
export type VictimImages =
  | { kind: "first-batch"; size: number }
  | { kind: "indices"; indices: readonly number[] }
  | { kind: "given"; x: Float32Array; y: Int32Array; /** where they sit in the data set, if they come from it (-1: not) */ index?: Int32Array };

/** What the server knows beyond the upload (the defense is always known: it is part of the protocol). */
export interface ServerKnowledge {
  /** The training set's mean image: the adaptive attack's start, the analytic attack's fill. */
  mean?: Float32Array;
}

export interface ThreatModel {
  data: ImageSplit;
  model: ModelKind;
  victim: { images: VictimImages; loss: VictimLoss };
  channel: { defense: DefenseSpec; lr: number; dgc?: DGCRefinements };
  server: ServerKnowledge;
  /** Every random draw of the trial (weights, shuffle, dummy start, the defense's noise) comes from it. */
  seed: number;
}

export interface ThreatOptions {
  data: ImageSplit;
  /** default: the seed's Linear model */
  model?: ModelKind;
  /** an index into `data`, several indices, or your own images ([B × c·h·w], the data set's range: MNIST [−1, 1]) with labels; default: the seed's first batch of one */
  image?: number | readonly number[] | { x: Float32Array; y: Int32Array };
  /** default "sse", the seed's Σ(logits − onehot)² */
  loss?: VictimLoss;
  /** a defense of the registry: "none", "dgc:0.9", "topk:0.9", … (default: the seed's DGC at 0.8) */
  defense?: string | DefenseSpec;
  /** the client's learning rate (default: the seed's 0.001) */
  lr?: number;
  /** the server's prior knowledge */
  server?: ServerKnowledge;
  seed?: number;
}

/** A ThreatModel from keywords; throws ConfigError (one line, in these keywords' names) for bad input. */
export function threatModel(o: ThreatOptions): ThreatModel {
  const defense = typeof o.defense === "string" ? parseDefense(o.defense) : checkDefense(o.defense ?? { name: "dgc", strength: 0.8 });
  const n = o.data.n;
  const checkIndex = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ConfigError(`image: index ${i} is not in the data set (0 to ${n - 1})`);
  };
  let images: VictimImages;
  if (o.image === undefined) images = { kind: "first-batch", size: 1 };
  else if (typeof o.image === "number") {
    checkIndex(o.image);
    images = { kind: "indices", indices: [o.image] };
  } else if (Array.isArray(o.image)) {
    if (o.image.length === 0) throw new ConfigError("image: no index given");
    o.image.forEach(checkIndex);
    images = { kind: "indices", indices: [...o.image] };
  } else {
    const g = o.image as { x: Float32Array; y: Int32Array };
    const P = rowSize(o.data);
    if (g.x.length === 0 || g.x.length !== g.y.length * P) throw new ConfigError(`image: ${g.x.length} pixel values do not make ${g.y.length} images of ${P}`);
    if (!g.x.every((v) => Number.isFinite(v))) throw new ConfigError("image: a pixel value is not finite");
    images = { kind: "given", x: g.x, y: g.y };
  }
  const lr = o.lr ?? 0.001;
  if (!(Number.isFinite(Math.fround(lr)) && Math.fround(lr) > 0)) throw new ConfigError(`lr must be a number > 0 within float32's range, got ${lr}`);
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed must be an integer from 0 to 2^53 − 1, got ${seed}`);
  return { data: o.data, model: o.model ?? "linear", victim: { images, loss: o.loss ?? "sse" }, channel: { defense, lr }, server: o.server ?? {}, seed };
}

/** One line a person reads: "linear, 1 image (index 123), sse loss, sends dgc:0.9 at lr 0.001, seed 1". */
export function describeThreat(t: ThreatModel): string {
  const v = t.victim.images;
  const imgs =
    v.kind === "first-batch" ? `the first shuffled batch of ${v.size}` : v.kind === "indices" ? `${v.indices.length === 1 ? "image" : "images"} ${v.indices.join(", ")}` : `${v.y.length} given ${v.y.length === 1 ? "image" : "images"}`;
  const knows = t.server.mean ? "; the server knows the mean image" : "";
  return `${t.model}, victim: ${imgs}, ${t.victim.loss} loss; sends ${defenseLabel(t.channel.defense)} at lr ${t.channel.lr}; seed ${t.seed}${knows}`;
}
