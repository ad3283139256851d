/**
 * Test hooks that hold a process at a named point, so a test can kill it exactly there (never set
 * outside tests). `DGC_TEST_PAUSE=<point>[:<ms>]` makes the process write `dgc-test-pause: <point>`
 * on stderr when it reaches that point, then wait (default 30 s) before going on. Points:
 * `write` (a result folder's first staged file written; the wait is asynchronous, so signals are
 * handled), `commit` (the commit point passed and one file moved; the wait is synchronous, as the
 * commit is).
 */
import { writeSync } from "node:fs";

function requested(point: string): number | null {
  const m = /^(\w+)(?::(\d+))?$/.exec(process.env.DGC_TEST_PAUSE ?? "");
  return m && m[1] === point ? Number(m[2] ?? 30_000) : null;
}

function announce(point: string): void {
  writeSync(2, `dgc-test-pause: ${point}\n`);
}

/** Holds the whole process (synchronous code: nothing else runs, signals wait). */
export function testPauseSync(point: string): void {
  const ms = requested(point);
  if (ms === null) return;
  announce(point);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Holds this task only (the event loop and signal handlers run). */
export async function testPause(point: string): Promise<void> {
  const ms = requested(point);
  if (ms === null) return;
  announce(point);
  await new Promise((r) => setTimeout(r, ms));
}
