/** A progress bar with ETA on stderr, shown only when stderr is a terminal (never in logs/CI). */
import { SingleBar, Presets } from "cli-progress";

export interface Progress {
  update(done: number, total: number, info?: string): void;
  /** Prints a stdout line above the bar (the bar redraws on the next update). */
  log(line: string): void;
  stop(): void;
}

export function makeProgress(label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, log: (l) => console.log(l), stop: () => undefined };
  const bar = new SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let active = false;
  return {
    update(done, total, info = "") {
      if (!active) {
        bar.start(total, done, { info });
        active = true;
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
    },
  };
}
