/** A progress bar with ETA on stderr, shown only when stderr is a terminal (never in logs/CI). */
import { SingleBar, Presets } from "cli-progress";

export interface Progress {
  update(done: number, total: number, info?: string): void;
  stop(): void;
}

export function makeProgress(label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, info = "") {
      if (!started) {
        bar.start(total, 0, { info });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { info });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
