/** Label recovery of the attack: does the dummy label's argmax name the true class? */

/** Index of the largest value; ties and NaN go as in numpy (first maximum; first NaN wins). */
function argmax(v: Float32Array | Float64Array, start: number, count: number): number {
  let best = 0;
  for (let j = 0; j < count; j++) {
    const x = v[start + j];
    if (Number.isNaN(x)) return j;
    if (x > v[start + best]) best = j;
  }
  return best;
}

/** The argmax of each of `batch` rows of a row-major [batch × classes] array. */
export function argmaxRows(v: Float32Array | Float64Array, batch: number, classes = v.length / batch): number[] {
  return Array.from({ length: batch }, (_, i) => argmax(v, i * classes, classes));
}

/**
 * Fraction of samples whose dummy-label argmax equals the true label. `dummyLabels` is [B × classes]
 * row-major (logits or probabilities: argmax is the same), `trueLabels` holds B class indices.
 */
export function labelAccuracy(dummyLabels: Float32Array | Float64Array, trueLabels: Int32Array): number {
  const batch = trueLabels.length;
  if (batch === 0 || dummyLabels.length % batch !== 0) {
    throw new Error(`labelAccuracy: ${dummyLabels.length} dummy values do not make ${batch} rows`);
  }
  const classes = dummyLabels.length / batch;
  return argmaxRows(dummyLabels, batch, classes).filter((c, i) => c === trueLabels[i]).length / batch;
}
