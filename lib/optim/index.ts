import { DGCMomentum, type DGCOptions } from "./dgc";
import { Momentum } from "./momentum";
import type { Optimizer } from "./optimizer";

export * from "./optimizer";
export { Momentum } from "./momentum";
export { DGCMomentum, warmupSparsity, topkCount, type DGCOptions } from "./dgc";
export { kthLargestAbs, kthLargestAbsOf, kthLargestAbsTopk, quickselectDescending, sampledThresholdAbs, sampledThresholdAbsOf } from "./topk";
export * from "./variants";
export { clipByNorm } from "./clip";

/** The seed's choice: DGCMomentum when use_dgc, else Momentum; momentum 0.9 either way. */
export function makeOptimizer(useDgc: boolean, lr: number, dgc: Omit<DGCOptions, "lr"> = { sparsity: 0.8 }): Optimizer {
  return useDgc ? new DGCMomentum({ ...dgc, lr }) : new Momentum(lr, dgc.momentum ?? 0.9);
}
