/** Shared test helpers: backend set-up and closeness checks. */
import assert from "node:assert/strict";
import { initBackend, tf } from "../lib";

/** Tests run on the backend named by TEST_BACKEND (default wasm, the default for Linear). */
export async function useBackend(): Promise<string> {
  return initBackend((process.env.TEST_BACKEND as "wasm" | "cpu" | undefined) ?? "wasm");
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, msg = ""): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol * Math.max(1, Math.abs(expected[i])), `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
  }
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}
