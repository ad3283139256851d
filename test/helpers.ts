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

/** The screen a terminal shows after `raw`: \r, \n, ESC[nG, ESC[K / ESC[2K, ESC 7 / ESC 8; other sequences ignored. */
export function screen(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = [0, 0];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\r") col = 0;
    else if (c === "\n") {
      row++;
      lines[row] ??= [];
    } else if (c === "\x1b") {
      if (raw[i + 1] === "7") saved = [row, col];
      else if (raw[i + 1] === "8") [row, col] = saved;
      if (raw[i + 1] !== "[") {
        i++;
        continue;
      }
      const m = /^\[([?\d;]*)([A-Za-z])/.exec(raw.slice(i + 1))!;
      i += m[0].length;
      if (m[2] === "G") col = Number(m[1] || 1) - 1;
      else if (m[2] === "K") lines[row] = m[1] === "2" ? [] : lines[row].slice(0, col);
    } else lines[row][col++] = c;
  }
  return lines.map((l) => Array.from(l, (ch) => ch ?? " ").join("").trimEnd());
}
