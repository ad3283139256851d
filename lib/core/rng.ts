/**
 * Seeded randomness. Every random draw of a run (weight init, shuffling, dummy data) comes from one
 * of these generators, so `--seed N` makes a run repeat exactly.
 */
import seedrandom from "seedrandom";

export class Rng {
  private readonly prng: seedrandom.PRNG;
  private spare: number | undefined;

  constructor(readonly seed: number | string) {
    this.prng = seedrandom.alea(String(seed));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  normalArray(n: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal();
    return a;
  }

  uniformArray(n: number, low: number, high: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = low + (high - low) * this.prng();
    return a;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** An independent child generator, so adding draws in one stage does not shift another. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}

/** A fresh seed for runs without --seed (printed, so the run can still be repeated). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
