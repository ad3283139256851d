/**
 * Defenses as transforms of what a client sends. Each takes the update u (the gradient, one flat
 * array per parameter tensor) and returns what the server receives after decoding, with the exact
 * size of the upload in bytes under a stated encoding:
 *
 *   topk p     keep the n − floor(p·n) largest |u| (ties: lower index first), zero the rest, no
 *              residual — the DLG paper's gradient pruning, p the fraction pruned.
 *              Encoding: float32 values with their positions as federated/bytes.ts counts any sparse
 *              upload (DGC's too): per tensor the cheapest of dense, int32 indices or a bitmap.
 *   randk p    keep k = n − floor(p·n) entries drawn uniformly without replacement, scaled by n/k
 *              (so E[sent] = u). Encoding: float32 values (4 B each) + the 4-byte seed of the draw,
 *              from which the server regenerates the indices (bytes.ts `seededUploadBytes`).
 *   gaussian σ clip the whole update (all tensors together) to L2 norm C, add N(0, σ²C²) to every
 *              entry: the Gaussian mechanism with client-level sensitivity C (rdp.ts accounts it).
 *              Encoding: dense float32 (4 B an entry).
 *   gaussvar v add N(0, v) to every entry, no clipping — the DLG paper's Gaussian noise (its
 *              "variance" axis); no (ε, δ) either. Dense float32.
 *   laplace v  add Laplace noise of variance v (scale b = √(v/2)) to every entry, no clipping — the
 *              DLG paper's Laplacian noise; with no clipping the sensitivity is unbounded, so no
 *              (ε, δ) holds. Dense float32.
 *   fp16       round to the nearest IEEE half (ties to even); 2 B an entry.
 *   int8       per tensor, scale s = max|u|/127 and q = floor(u/s + ξ), ξ ~ U[0, 1): stochastic
 *              rounding, E[s·q] = u. 1 B an entry + one float32 scale per tensor.
 *   signsgd    EF-signSGD (Karimireddy et al. 2019): p = u + e; send (‖p‖₁/n)·sign(p) per tensor;
 *              e = p − sent is kept locally. 1 bit an entry (ceil(n/8) B) + one float32 scale per tensor.
 * Every random draw comes from the Rng given at construction (the run's "defense" fork).
 */
import { kthLargestAbsOf } from "../../optim/topk";
import { seededUploadBytes, statsBytes, uploadBytes, type SentStats } from "../../optim/wire";
import type { Rng } from "../../core/rng";

export const DEFENSES = ["none", "dgc", "topk", "randk", "gaussian", "gaussvar", "laplace", "fp16", "int8", "signsgd"] as const;
export type DefenseName = (typeof DEFENSES)[number];

/** Defenses whose strength is a number (the others take none). */
export const STRENGTH_OF: Partial<Record<DefenseName, string>> = {
  dgc: "sparsity in [0, 1)",
  topk: "fraction pruned in [0, 1)",
  randk: "fraction dropped in [0, 1)",
  gaussian: "noise multiplier σ > 0",
  gaussvar: "noise variance > 0",
  laplace: "noise variance > 0",
};

/**
 * The client-level L2 clipping bound C of `gaussian`: about the median norm of a training step's
 * gradient on the seed's Linear model (batch 64, cross-entropy; DGC's PAPER_CLIP_NORM is its 99th
 * percentile), so clipping bounds the sensitivity without shrinking a typical step much. The attacked
 * step's gradient is far larger (≈ 175–230 for the seed's Σ(logits − onehot)² at batch 1, ≈ 21–31
 * for cross-entropy, seeds 1–5), so there it is always clipped.
 */
export const GAUSSIAN_CLIP = 5;

export interface Upload {
  /** What the server decodes, per tensor. */
  values: Float32Array[];
  /** Entries sent (carrying information), per tensor. */
  sent: number[];
  bytes: number;
}

export interface UploadTransform {
  encode(update: readonly Float32Array[]): Upload;
}

const dense = (update: readonly Float32Array[], bytesPer: number) => ({
  sent: update.map((u) => u.length),
  bytes: update.reduce((s, u) => s + bytesPer * u.length, 0),
});

/** k = n − floor(p·n) entries kept (DGC's count), at least 1 so a tensor is never silent by rounding. */
export function keptCount(n: number, p: number): number {
  return Math.max(1, n - Math.floor(p * n));
}

/** Indices of the k largest |u|, ties to the lower index: exact and deterministic, O(n) (radix select). */
export function topkIndices(u: Float32Array, k: number): Int32Array {
  const abs = Float32Array.from(u, Math.abs);
  const threshold = kthLargestAbsOf(abs, k);
  const out = new Int32Array(k);
  let m = 0;
  for (let i = 0; i < u.length && m < k; i++) if (abs[i] > threshold) out[m++] = i;
  for (let i = 0; i < u.length && m < k; i++) if (abs[i] === threshold) out[m++] = i;
  return out.sort();
}

export class TopK implements UploadTransform {
  constructor(readonly pruned: number) {}
  encode(update: readonly Float32Array[]): Upload {
    const values = update.map((u) => {
      const out = new Float32Array(u.length);
      for (const i of topkIndices(u, keptCount(u.length, this.pruned))) out[i] = u[i];
      return out;
    });
    const sent = update.map((u) => keptCount(u.length, this.pruned));
    return { values, sent, bytes: uploadBytes(sent, update.map((u) => u.length), true) };
  }
}

export class RandK implements UploadTransform {
  constructor(readonly dropped: number, private readonly rng: Rng) {}
  encode(update: readonly Float32Array[]): Upload {
    const sent = update.map((u) => keptCount(u.length, this.dropped));
    const values = update.map((u, t) => {
      const n = u.length;
      const k = sent[t];
      const out = new Float32Array(n);
      // partial Fisher–Yates: the first k of a random permutation
      const perm = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = i + this.rng.int(n - i);
        const tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        out[perm[i]] = (u[perm[i]] * n) / k;
      }
      return out;
    });
    return { values, sent, bytes: seededUploadBytes(sent) };
  }
}

/** ‖u‖₂ over all tensors together. */
export function globalNorm(update: readonly Float32Array[]): number {
  let s = 0;
  for (const u of update) for (let i = 0; i < u.length; i++) s += u[i] * u[i];
  return Math.sqrt(s);
}

/** Clips the whole update to L2 norm `clip` (Infinity: no clipping), then adds N(0, std²) to every entry. */
export class Gaussian implements UploadTransform {
  constructor(readonly std: number, readonly clip: number, private readonly rng: Rng) {}
  encode(update: readonly Float32Array[]): Upload {
    const scale = this.clip === Infinity ? 1 : this.clip / Math.max(globalNorm(update), this.clip);
    const values = update.map((u) => Float32Array.from(u, (x) => x * scale + this.std * this.rng.normal()));
    return { values, ...dense(update, 4) };
  }
}

/** A Laplace(0, b) draw by inversion of its CDF. */
export function laplaceDraw(rng: Rng, b: number): number {
  const w = rng.uniform() - 0.5;
  return -b * Math.sign(w) * Math.log(1 - 2 * Math.abs(w));
}

export class Laplace implements UploadTransform {
  constructor(readonly variance: number, private readonly rng: Rng) {}
  encode(update: readonly Float32Array[]): Upload {
    const b = Math.sqrt(this.variance / 2);
    return { values: update.map((u) => Float32Array.from(u, (x) => x + laplaceDraw(this.rng, b))), ...dense(update, 4) };
  }
}

/** x rounded to the nearest IEEE-754 half-precision value (ties to even; ±Infinity beyond 65504). */
export function roundFloat16(x: number): number {
  const a = Math.abs(x);
  if (!Number.isFinite(a) || a === 0) return x;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const spacing = 2 ** (Math.max(e, -14) - 10); // subnormals below 2^-14 share the spacing 2^-24
  const q = a / spacing;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 === 1) r -= 1; // Math.round breaks ties upward; IEEE to even
  const y = r * spacing;
  return Math.sign(x) * (y > 65504 ? Infinity : y);
}

export class Fp16 implements UploadTransform {
  encode(update: readonly Float32Array[]): Upload {
    return { values: update.map((u) => Float32Array.from(u, roundFloat16)), ...dense(update, 2) };
  }
}

export class Int8 implements UploadTransform {
  constructor(private readonly rng: Rng) {}
  encode(update: readonly Float32Array[]): Upload {
    const values = update.map((u) => {
      let max = 0;
      for (let i = 0; i < u.length; i++) max = Math.max(max, Math.abs(u[i]));
      if (max === 0) return new Float32Array(u.length);
      const s = max / 127;
      // |u/s| ≤ 127, so q stays in [−127, 127]
      return Float32Array.from(u, (x) => s * Math.min(127, Math.max(-127, Math.floor(x / s + this.rng.uniform()))));
    });
    return { values, sent: update.map((u) => u.length), bytes: update.reduce((s, u) => s + u.length + 4, 0) };
  }
}

export class SignSGD implements UploadTransform {
  /** The error-feedback memory e, per tensor (the part of p not yet transmitted). */
  private error: Float32Array[] | undefined;
  encode(update: readonly Float32Array[]): Upload {
    this.error ??= update.map((u) => new Float32Array(u.length));
    const values = update.map((u, t) => {
      const e = this.error![t];
      const p = Float32Array.from(u, (x, i) => x + e[i]);
      let l1 = 0;
      for (let i = 0; i < p.length; i++) l1 += Math.abs(p[i]);
      const scale = l1 / p.length;
      const out = Float32Array.from(p, (x) => (x > 0 ? scale : x < 0 ? -scale : 0));
      for (let i = 0; i < p.length; i++) e[i] = p[i] - out[i];
      return out;
    });
    return { values, sent: update.map((u) => u.length), bytes: update.reduce((s, u) => s + Math.ceil(u.length / 8) + 4, 0) };
  }
  get memory(): readonly Float32Array[] | undefined {
    return this.error;
  }
}

/** A defense with its strength, as the sweep names it (`topk:0.5`, `int8`). */
export interface DefenseSpec {
  name: DefenseName;
  strength: number | null;
}

export class DefenseError extends Error {}

/** Checks a spec; throws DefenseError (one line) when the strength is missing, extra or out of range. */
export function checkDefense(d: DefenseSpec): DefenseSpec {
  const what = STRENGTH_OF[d.name];
  if (!DEFENSES.includes(d.name)) throw new DefenseError(`unknown defense '${d.name}' (choose from ${DEFENSES.join(", ")})`);
  if (!what) {
    if (d.strength !== null) throw new DefenseError(`defense '${d.name}' takes no strength`);
    return d;
  }
  const s = d.strength;
  if (s === null) throw new DefenseError(`defense '${d.name}' needs a strength (${what})`);
  const fraction = d.name === "dgc" || d.name === "topk" || d.name === "randk";
  if (!Number.isFinite(s) || (fraction ? s < 0 || s >= 1 : s <= 0)) throw new DefenseError(`defense '${d.name}': strength ${s} is not a ${what}`);
  return d;
}

/** `NAME[:v1,v2,…]` (a command line's --defense) → one checked spec per strength; throws DefenseError. */
export function parseDefenseArg(arg: string): DefenseSpec[] {
  const [name, values] = arg.split(":", 2) as [string, string | undefined];
  if (!(DEFENSES as readonly string[]).includes(name)) throw new DefenseError(`unknown defense '${name}' (choose from ${DEFENSES.join(", ")})`);
  const strengths = values === undefined ? [null] : values.split(",").map((x) => (x.trim() === "" ? NaN : Number(x)));
  return strengths.map((strength) => checkDefense({ name: name as DefenseName, strength }));
}

/** The transform of a non-DGC defense (`none` sends the update as it is). */
export function makeTransform(d: DefenseSpec, rng: Rng): UploadTransform {
  const s = checkDefense(d).strength ?? 0;
  switch (d.name) {
    case "none":
      return { encode: (u) => ({ values: u.map((x) => x.slice()), ...dense(u, 4) }) };
    case "topk":
      return new TopK(s);
    case "randk":
      return new RandK(s, rng);
    case "gaussian":
      return new Gaussian(s * GAUSSIAN_CLIP, GAUSSIAN_CLIP, rng);
    case "gaussvar":
      return new Gaussian(Math.sqrt(s), Infinity, rng);
    case "laplace":
      return new Laplace(s, rng);
    case "fp16":
      return new Fp16();
    case "int8":
      return new Int8(rng);
    case "signsgd":
      return new SignSGD();
    case "dgc":
      throw new DefenseError("dgc is an optimizer (DGCMomentum), not a stateless transform");
  }
}

/** Bytes of one upload under `defense` (`statsBytes`); throws if a defense that must state its size did not. */
export function defenseUploadBytes(defense: Pick<DefenseSpec, "name">, stats: SentStats): number {
  if (defense.name !== "none" && defense.name !== "dgc" && stats.bytes === undefined) throw new Error(`defense '${defense.name}' did not state its upload's size`);
  return statsBytes(stats);
}
