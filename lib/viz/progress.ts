/**
 * Feedback that updates in place inside a notebook cell: a progress bar with rate and ETA, and an
 * image that is replaced as a computation goes on. Both use Jupyter's display ids (one output,
 * updated by `update_display_data`), so a long cell shows one bar, not a scroll of lines.
 * The bar is an HTML `<progress>` element (kept by JupyterLab's sanitizer in untrusted
 * notebooks) with a text/plain twin for consoles and text exports. Outside a kernel nothing is shown.
 */
import { inKernel, showBundle } from "./display";

let displays = 0;
const displayId = (kind: string) => `dgc-${kind}-${process.pid}-${++displays}`;

/** Sends (then replaces) one output under a display id; a no-op outside a kernel. */
export function liveOutput(kind = "live"): { update(data: Record<string, unknown>): void } {
  const id = displayId(kind);
  let shown = false;
  return {
    update(data) {
      if (!inKernel()) return;
      showBundle(data, "", { display_id: id }, shown);
      shown = true;
    },
  };
}

/** "1 h 02 min", "3 min 05 s", "12 s", "0.4 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface ProgressBar {
  /** `done` of `total` units finished; `note` is shown after the numbers (e.g. the current loss). */
  update(done: number, note?: string): void;
  /** The final state: the bar full (or where it stopped) and a closing note. */
  finish(note: string, done?: number): void;
}

/**
 * A progress bar with rate and ETA, redrawn at most every `everyMs` (and always at the end).
 * `title` names the work ("DLG attack"), `unit` what is counted ("iteration").
 */
export function progressBar(title: string, total: number, unit: string, everyMs = 250, units = `${unit}s`): ProgressBar {
  const out = liveOutput("progress");
  const t0 = performance.now();
  let last = -Infinity;
  let lastDone = 0;
  const draw = (done: number, note: string, final: boolean) => {
    const elapsed = (performance.now() - t0) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = final ? "" : rate > 0 && done < total ? ` · ETA ${formatDuration((total - done) / rate)}` : "";
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const cells = Math.round(frac * 30);
    const nums = `${done} / ${total} ${units} · ${(100 * frac).toFixed(0)}% · ${formatDuration(elapsed)}${rate > 0 ? ` · ${rate < 10 ? rate.toFixed(1) : Math.round(rate)} ${units}/s` : ""}${eta}`;
    const tail = note ? ` · ${note}` : "";
    out.update({
      "text/plain": `${title}: [${"█".repeat(cells)}${"░".repeat(30 - cells)}] ${nums}${tail}`,
      "text/html": `<div class="dgc-progress"><b>${esc(title)}</b> <progress value="${done}" max="${total}" style="width:40%;vertical-align:middle"></progress> ${esc(nums)}${esc(tail)}</div>`,
    });
  };
  // shown at once (0 of total): a long first unit (one gallery cell) must not leave the cell blank
  draw(0, "starting", false);
  last = performance.now();
  return {
    update(done, note = "") {
      lastDone = done;
      const now = performance.now();
      if (now - last < everyMs && done < total) return;
      last = now;
      draw(done, note, false);
    },
    finish(note, done = lastDone) {
      draw(done, note, true);
    },
  };
}

/** A PNG output replaced in place, with a caption line under it. */
export function liveImage(): { update(png: Buffer, caption: string): void; clear(): void } {
  const out = liveOutput("image");
  return {
    /** Removes the live view (the cell shows the final result itself). */
    clear() {
      out.update({ "text/plain": "" });
    },
    update(png, caption) {
      const b64 = png.toString("base64");
      out.update({
        "image/png": b64,
        "text/plain": caption,
      });
    },
  };
}
