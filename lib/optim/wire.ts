/**
 * What an upload costs on the wire, per parameter tensor of n entries with k of them sent (non-zero):
 *   dense   4n bytes            (float32 values, no index);
 *   indices 4k + 4k bytes       (float32 values + 32-bit indices);
 *   bitmap  4k + ⌈n/8⌉ bytes    (float32 values + one bit per entry saying "sent").
 * The client picks the cheapest of the three for each tensor; a tensor with nothing sent costs 0
 * (its "nothing" is implied by the bitmap's absence: headers and framing are not counted).
 * Momentum uploads are always dense (4n). The download is the new global model, dense (4 bytes a
 * parameter): averaging K sparse uploads gives a dense update in general.
 *
 * This is the project's one account of an upload, `statsBytes`, in the sweep as in the federated
 * rounds: a sender that states its own encoding (lib/threat/channel/defenses.ts: fp16 2n, int8 n + 4, signsgd
 * ⌈n/8⌉ + 4 per tensor; topk by `uploadBytes` itself; randk `seededUploadBytes`, its positions coming
 * from a 4-byte seed) is taken at its word; the others (Momentum, DGC) by the cheapest encoding above.
 */

/** What one upload carried: entries sent per parameter tensor, of how many, and its size when the sender states it. */
export interface SentStats {
  /** Entries sent, per parameter tensor. */
  sent: number[];
  /** Entries in each parameter tensor. */
  total: number[];
  /** Exact size of the upload in bytes, when the sender states its encoding (threat/channel/defenses.ts). */
  bytes?: number;
}

export type Encoding = "dense" | "indices" | "bitmap" | "empty";

export function tensorBytes(n: number, k: number, sparse: boolean): { bytes: number; encoding: Encoding } {
  if (!sparse) return { bytes: 4 * n, encoding: "dense" };
  if (k === 0) return { bytes: 0, encoding: "empty" };
  const options: [number, Encoding][] = [
    [4 * n, "dense"],
    [8 * k, "indices"],
    [4 * k + Math.ceil(n / 8), "bitmap"],
  ];
  // ties go to the first: dense, then indices
  let best = options[0];
  for (const o of options) if (o[0] < best[0]) best = o;
  return { bytes: best[0], encoding: best[1] };
}

/** Bytes of one upload: sent[i] non-zero entries of total[i]. */
export function uploadBytes(sent: readonly number[], total: readonly number[], sparse: boolean): number {
  return sent.reduce((s, k, i) => s + tensorBytes(total[i], k, sparse).bytes, 0);
}

/** Bytes of the broadcast model, per client. */
export function downloadBytes(total: readonly number[]): number {
  return 4 * total.reduce((a, b) => a + b, 0);
}

/**
 * Bytes of a sparse upload whose positions the server regenerates from a shared 4-byte seed
 * (random-k): float32 values only, sent[i] per tensor, plus the seed once. Cheaper than any of the
 * three encodings above, since no position is sent.
 */
export function seededUploadBytes(sent: readonly number[]): number {
  return 4 * sent.reduce((a, k) => a + k, 0) + 4;
}

/**
 * Bytes of one upload from what its optimizer's compress() reported: the sender's own count when it
 * states one, else `uploadBytes` — per tensor the cheapest encoding, 4n for a tensor sent whole.
 */
export function statsBytes(stats: SentStats): number {
  return stats.bytes ?? uploadBytes(stats.sent, stats.total, true);
}
