/**
 * The study's pictures: the privacy–utility trade-off from a sweep summary, and a gallery of
 * reconstructions of one victim across sparsities and attacks.
 */
import { jobConfig, DEFAULT_COMMON, type AttackName, type VariantName } from "./grid";
import { jobContext, runJobAttack, type SweepData } from "./job";
import { isDgcRow, type SummaryRow } from "./summary";
import { logAxis, type Figure } from "../viz/plots";

const ATTACK_COLORS: Record<string, string> = { dlg: "#1f77b4", ig: "#d62728", adaptive: "#2ca02c" };

/** Rows of one variant plus the dense (sparsity 0) baseline. */
function rowsOf(rows: readonly SummaryRow[], variant: string): SummaryRow[] {
  return rows.filter((r) => isDgcRow(r) && (r.variant === variant || r.variant === "dense"));
}

/** A figure shows one setting: points of several on one line would mix runs silently. */
function oneSetting(rows: readonly SummaryRow[]): void {
  const settings = [...new Set(rows.map((r) => r.settings).filter((x) => x !== undefined))];
  if (settings.length > 1) throw new Error(`these rows come from ${settings.length} settings (${settings.join("; ")}); plot one: rows.filter((r) => r.settings === "…")`);
}

/**
 * Test accuracy against the attack's PSNR, one point per sparsity and attack (median over seeds),
 * with the mean-image baseline as a vertical line: right of it, the attack learned more than the prior.
 */
export function tradeoffFigure(rows: readonly SummaryRow[], variant = "seed"): Figure {
  oneSetting(rows);
  const sel = rowsOf(rows, variant);
  const attacks = [...new Set(sel.map((r) => r.attack))];
  const data: Record<string, unknown>[] = attacks.map((a) => {
    const rs = sel.filter((r) => r.attack === a && r.psnr !== null && r.testAccuracy !== null);
    return {
      // labels as hover text: printed beside the points they collide (several sparsities share a spot)
      type: "scatter", mode: "markers", name: a,
      x: rs.map((r) => r.psnr), y: rs.map((r) => r.testAccuracy),
      text: rs.map((r) => `${a}, sparsity ${r.sparsity}: ${r.recovered}/${r.n} recovered`),
      hovertemplate: "%{text}<br>PSNR %{x:.1f} dB, test accuracy %{y:.3f}<extra></extra>",
      marker: { size: 11, color: ATTACK_COLORS[a], opacity: 0.8, symbol: rs.map((r) => (r.recovered * 2 > r.n ? "circle" : "circle-open")) },
    };
  });
  const base = sel.find((r) => r.baselinePsnr !== null)?.baselinePsnr;
  const layout: Record<string, unknown> = {
    title: { text: `Privacy against utility (DGC variant "${variant}", medians over seeds)` },
    height: 480,
    xaxis: { title: { text: "attack PSNR at the end (dB) — right leaks more" } },
    yaxis: { title: { text: "test accuracy after training" } },
    legend: { orientation: "h", y: -0.2 },
    shapes: base === undefined ? [] : [{ type: "line", x0: base, x1: base, yref: "paper", y0: 0, y1: 1, line: { color: "#888", dash: "dash" } }],
    annotations: base === undefined ? [] : [{ x: base, yref: "paper", y: 1.02, text: "mean image (filled: most seeds recovered)", showarrow: false, font: { color: "#666" } }],
  };
  return { data, layout };
}

/** Bytes sent per step (log scale) against test accuracy, one point per sparsity and variant. */
export function bytesFigure(rows: readonly SummaryRow[]): Figure {
  oneSetting(rows);
  const variants = [...new Set(rows.map((r) => r.variant))];
  const data = variants.map((v) => {
    const seen = new Map<number, SummaryRow>();
    for (const r of rows) if (isDgcRow(r) && r.variant === v && r.bytesPerStep !== null && !seen.has(r.sparsity)) seen.set(r.sparsity, r);
    // joined in the order of the x axis (bytes), not of sparsity: sparsity 0.5 sends about as much as dense
    const rs = [...seen.values()].sort((a, b) => a.bytesPerStep! - b.bytesPerStep!);
    return {
      type: "scatter", mode: "markers+lines", name: v,
      x: rs.map((r) => r.bytesPerStep), y: rs.map((r) => r.testAccuracy),
      text: rs.map((r) => `${v}, sparsity ${r.sparsity}`), hovertemplate: "%{text}<br>%{x:.3s} B per step, test accuracy %{y:.3f}<extra></extra>",
      marker: { size: 10 },
    };
  });
  return {
    data,
    layout: {
      title: { text: "Bytes per step against test accuracy" },
      height: 420,
      xaxis: { title: { text: "bytes sent per step (float32 values + indices or bitmap, lib/federated/bytes.ts)" }, ...logAxis(data.flatMap((t) => (t as { x: number[] }).x), "bytes"), type: "log" },
      yaxis: { title: { text: "test accuracy" } },
      legend: { orientation: "h", y: -0.25 },
    },
  };
}

export interface GalleryCell {
  sparsity: number;
  attack: AttackName;
  psnr: number | null;
  reconstruction: Float32Array;
}

/**
 * One victim (seed) attacked at every sparsity by every attack, with `iterations` each:
 * the target, then a row per attack with a column per sparsity.
 */
export async function reconstructionGallery(
  data: SweepData,
  opts: {
    seed: number; sparsities: number[]; attacks: AttackName[]; iterations: number; variant?: VariantName;
    /** After each attack: its cell, the victim, and how many cells are done. */
    onCell?: (cell: GalleryCell, target: Float32Array, done: number) => void;
  },
): Promise<{ target: Float32Array; cells: GalleryCell[][] }> {
  let target = new Float32Array(0);
  const cells: GalleryCell[][] = [];
  for (const attack of opts.attacks) {
    const row: GalleryCell[] = [];
    for (const sparsity of opts.sparsities) {
      const variant: VariantName = sparsity === 0 ? "dense" : (opts.variant ?? "seed");
      const cfg = jobConfig({ sparsity, attack, variant, seed: opts.seed }, { ...DEFAULT_COMMON, iterations: opts.iterations, epochs: 0 });
      const r = runJobAttack(cfg, await jobContext(cfg), data);
      target = r.target;
      const cell: GalleryCell = { sparsity, attack, psnr: r.attack.psnr, reconstruction: r.reconstruction };
      row.push(cell);
      opts.onCell?.(cell, target, cells.length * opts.sparsities.length + row.length);
    }
    cells.push(row);
  }
  return { target, cells };
}

/** The gallery as grid rows: the target alone, then one row per attack (columns: sparsities). */
export function galleryRows(g: { target: Float32Array; cells: GalleryCell[][] }): Float32Array[][] {
  return [[g.target.subarray(0, 784)], ...g.cells.map((row) => row.map((c) => c.reconstruction.subarray(0, 784)))];
}

export function galleryCaption(g: { cells: GalleryCell[][] }): string {
  const sparsities = g.cells[0].map((c) => c.sparsity).join(", ");
  const psnrs = g.cells.map((row) => `${row[0].attack}: ${row.map((c) => (c.psnr === null ? "∞" : c.psnr.toFixed(1))).join(" / ")} dB`).join("; ");
  return `the victim (top), then one row per attack at sparsity ${sparsities}; PSNR ${psnrs}`;
}
