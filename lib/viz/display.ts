/**
 * Rich output for tslab notebook cells, as one-liners: plots, PNGs, tables, markdown.
 *
 * A plot is sent as ONE output carrying two forms (as plotly.py's own notebook renderer does):
 * - `application/vnd.plotly.v1+json` (a JSON object, never a string): JupyterLab renders it with
 *   jupyterlab-plotly even when the notebook is untrusted and scripts in outputs do not run;
 * - `text/html` with a `<div>` and a `Plotly.newPlot` script: nbconvert's HTML export drops the
 *   plotly mimetype but keeps this, so the exported report renders offline. The first plot of a
 *   kernel session also carries plotly.js itself (the 1 MB "basic" bundle), so any HTML export of
 *   the notebook, ours or JupyterLab's menu, works without a network.
 * tslab's public `display.raw` emits one mimetype per output, so bundles go through its
 * `lastWriteDisplayData` (pinned tslab 1.0.22; test/notebook/notebooks.test.ts checks both forms arrive).
 * Outside a kernel (plain node) these functions print a short line instead.
 */
import { readFileSync } from "node:fs";
import type { Figure } from "./plots";

type Bundle = Record<string, unknown>;
type Writer = (content: { data: Bundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

function writer(): Writer | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("tslab/dist/jupyter") as { lastWriteDisplayData: Writer | null }).lastWriteDisplayData;
  } catch {
    return null;
  }
}

/** True inside a running tslab kernel. */
export function inKernel(): boolean {
  return writer() !== null;
}

/**
 * Sends one output with several representations; outside a kernel prints `fallback` (if any).
 * With a `display_id` in `transient`, `update` replaces the output sent earlier under that id.
 */
export function showBundle(data: Bundle, fallback: string, transient: Record<string, unknown> = {}, update = false): void {
  const w = writer();
  if (w) w({ data, metadata: {}, transient }, update);
  else if (fallback) console.log(fallback);
}

let plotlyShipped = false;
let plotCount = 0;

function plotlySource(): string {
  return readFileSync(require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js"), "utf8");
}

/** The text/html form of a figure (used by showPlot, and by the report pipeline's tests). */
export function plotHtml(fig: Figure, withLibrary: boolean): string {
  const id = `dgc-plot-${process.pid}-${++plotCount}`;
  const json = JSON.stringify({ data: fig.data, layout: fig.layout }).replace(/</g, "\\u003c");
  const lib = withLibrary ? `<script type="text/javascript">${plotlySource()}</script>\n` : "";
  const height = typeof fig.layout.height === "number" ? `${fig.layout.height}px` : "400px";
  return `${lib}<div id="${id}" class="dgc-plot" style="width:100%;height:${height}"></div>
<script type="text/javascript">(function(){var f=${json};function draw(){window.Plotly.newPlot("${id}",f.data,f.layout,{responsive:true,displaylogo:false});}
if(window.Plotly){draw();}else{window.addEventListener("load",draw);}})();</script>`;
}

export function showPlot(fig: Figure): void {
  const withLibrary = !plotlyShipped;
  plotlyShipped = true;
  const title = (fig.layout.title as { text?: string } | undefined)?.text ?? "figure";
  showBundle(
    {
      "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false } },
      "text/html": plotHtml(fig, withLibrary),
      "text/plain": `<Plotly figure: ${title}>`,
    },
    `[plot] ${title}`,
  );
}

/** A text output that later calls overwrite in place (live progress in a cell). */
export function liveText(): { update(text: string): void } {
  const id = `dgc-live-${process.pid}-${++plotCount}`;
  let shown = false;
  return {
    update(text: string) {
      if (!inKernel()) return;
      showBundle({ "text/plain": text }, "", { display_id: id }, shown);
      shown = true;
    },
  };
}

export function showPng(png: Buffer, caption?: string): void {
  showBundle({ "image/png": png.toString("base64"), "text/plain": caption ?? "<image>" }, `[image] ${caption ?? `${png.length} bytes`}`);
  if (caption) showMarkdown(`*${caption}*`);
}

export function showMarkdown(md: string): void {
  showBundle({ "text/markdown": md, "text/plain": md }, md);
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Text folded behind one line (HTML <details>: a click opens it), e.g. the seed's full log lines
 * under a compact table; the plain-text form has them all.
 */
export function showFolded(summary: string, lines: readonly string[]): void {
  const html = `<details><summary>${esc(summary)}</summary><pre>${esc(lines.join("\n"))}</pre></details>`;
  showBundle({ "text/html": html, "text/plain": [summary, ...lines].join("\n") }, [summary, ...lines].join("\n"));
}

/** A table (first row: header) as HTML, with a plain-text form for the console. */
export function showTable(rows: (string | number)[][]): void {
  const [head, ...body] = rows.map((r) => r.map(String));
  const html = `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
  const text = [head, ...body].map((r) => r.join(" | ")).join("\n");
  showBundle({ "text/html": html, "text/plain": text }, text);
}
