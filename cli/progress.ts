/**
 * A progress bar with ETA on stderr, shown only when stderr is a terminal (never in logs/CI).
 * It never changes the terminal's modes — the cursor stays visible and line wrap on (the bar is cut
 * to the terminal's width instead) — so no exit path can leave a terminal broken, not even
 * SIGKILL. `clearProgress` wipes the bar's line so an error message starts on a line of its own.
 */
import { SingleBar, Presets } from "cli-progress";
import { printable } from "../lib/io/stdio";

export interface Progress {
  update(done: number, total: number, info?: string): void;
  /** Prints a stdout line above the bar (the bar redraws on the next update). */
  log(line: string): void;
  stop(): void;
}

/** The bar on screen now, if any. */
let shown: Progress | null = null;

/** Clears the bar's line, if a bar is on screen (call before writing an error). */
export function clearProgress(): void {
  shown?.stop();
}

/** A command's exit with one error line, on a line of its own (not the end of the bar's). */
export function failWith(prog: string): (code: number, msg: string) => never {
  return (code, msg) => {
    clearProgress();
    process.stderr.write(`${prog}: error: ${printable(msg)}\n`);
    process.exit(code);
  };
}

export function makeProgress(label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, log: (l) => console.log(l), stop: () => undefined };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`,
      hideCursor: false,
      linewrap: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  let active = false;
  const progress: Progress = {
    update(done, total, info = "") {
      if (!active) {
        bar.start(total, done, { info });
        active = true;
        shown = progress;
      }
      bar.setTotal(total);
      bar.update(done, { info });
    },
    log(line) {
      if (active) process.stderr.write("\r\x1b[K");
      console.log(line);
    },
    stop() {
      if (active) bar.stop();
      active = false;
      if (shown === progress) shown = null;
    },
  };
  return progress;
}
