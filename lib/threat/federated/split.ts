/**
 * How the training set is dealt to K clients (each shard is a sorted set of indices into the split):
 *   iid        — a seeded permutation cut into K shards of ⌊n/K⌋ or ⌈n/K⌉ images;
 *   dirichlet  — per class k, proportions p_k ~ Dir(α·1_K) over the clients, and class k's images
 *                (shuffled) cut at the cumulative proportions (Hsu et al. 2019). Small α: each client
 *                sees few classes; large α: close to iid. A draw that leaves a client empty is
 *                redrawn from the same stream (so still seeded).
 * With K = 1 both give the identity shard 0..n−1, so one client shuffles exactly as dgc_demo does.
 */
import type { Rng } from "../../core/rng";
import { ConfigError } from "../../core/errors";

export type SplitKind = "iid" | "dirichlet";

export function iidSplit(n: number, clients: number, rng: Rng): Int32Array[] {
  if (clients === 1) return [Int32Array.from({ length: n }, (_, i) => i)];
  const order = rng.permutation(n);
  const shards: Int32Array[] = [];
  for (let c = 0; c < clients; c++) {
    const lo = Math.floor((c * n) / clients);
    const hi = Math.floor(((c + 1) * n) / clients);
    shards.push(order.slice(lo, hi).sort());
  }
  return shards;
}

/** Gamma(shape, 1) by Marsaglia–Tsang; shape < 1 through Gamma(shape + 1) · U^(1/shape). */
export function gammaSample(shape: number, rng: Rng): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return gammaSample(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Proportions p ~ Dir(α, …, α) over k categories. */
export function dirichletSample(alpha: number, k: number, rng: Rng): Float64Array {
  const g = Float64Array.from({ length: k }, () => gammaSample(alpha, rng));
  const s = g.reduce((a, b) => a + b, 0);
  // all-zero draws happen for tiny α in floating point: fall back to one category
  if (!(s > 0)) {
    g.fill(0);
    g[rng.int(k)] = 1;
    return g;
  }
  return g.map((x) => x / s);
}

export function dirichletSplit(labels: ArrayLike<number>, clients: number, alpha: number, rng: Rng, maxTries = 100): Int32Array[] {
  const n = labels.length;
  if (clients === 1) return [Int32Array.from({ length: n }, (_, i) => i)];
  const classes = Math.max(...Array.from(labels)) + 1;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  for (let attempt = 0; attempt < maxTries; attempt++) {
    const parts: number[][] = Array.from({ length: clients }, () => []);
    for (const idx of byClass) {
      const order = rng.permutation(idx.length);
      const p = dirichletSample(alpha, clients, rng);
      let start = 0;
      let cum = 0;
      for (let c = 0; c < clients; c++) {
        cum += p[c];
        const end = c === clients - 1 ? idx.length : Math.min(idx.length, Math.round(cum * idx.length));
        for (let j = start; j < end; j++) parts[c].push(idx[order[j]]);
        start = Math.max(start, end);
      }
    }
    if (parts.every((p) => p.length > 0)) return parts.map((p) => Int32Array.from(p).sort());
  }
  // bad input (too many clients for this alpha), not a failure of the run: the CLI exits 2
  throw new ConfigError(`dirichlet split: some client got no data in ${maxTries} draws (α = ${alpha}, ${clients} clients); raise alpha`, "alpha");
}

export function splitClients(labels: ArrayLike<number>, clients: number, kind: SplitKind, alpha: number, rng: Rng): Int32Array[] {
  return kind === "iid" ? iidSplit(labels.length, clients, rng) : dirichletSplit(labels, clients, alpha, rng);
}

/** Images per class in each shard (rows: clients), for logs and tests. */
export function classCounts(shards: readonly Int32Array[], labels: ArrayLike<number>, classes = 10): number[][] {
  return shards.map((s) => {
    const c = new Array<number>(classes).fill(0);
    for (const i of s) c[labels[i]]++;
    return c;
  });
}
