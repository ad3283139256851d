/**
 * A grid of [-1, 1] images with text labels, as one PNG: column headings (e.g. "iteration 10"),
 * row headings (e.g. the method), and a line under each cell (e.g. its PSNR) — the layout of the
 * DLG paper's iteration figure. Drawn as SVG (the digits embedded as nearest-neighbour-scaled
 * PNGs, text in DejaVu Sans, which the project's setup installs) and rasterized by sharp.
 */
import sharp from "sharp";
import { toUint8 } from "../metrics/readings";
import { rgbBytes } from "./png";

export interface LabelledGrid {
  /** rows × columns of images ([-1, 1] grey, or [0, 1] CHW colour with `channels: 3`; `size`×`size` each); a missing cell is left blank. */
  cells: (ArrayLike<number> | null)[][];
  columnLabels?: string[];
  rowLabels?: string[];
  /** A short line under each cell (same shape as `cells`), e.g. "41.2 dB". */
  cellNotes?: (string | null)[][];
  title?: string;
  /** Pixels per image side before scaling (28; colour: 32). */
  size?: number;
  /** 3: colour [0, 1] CHW images (CIFAR-10); default 1, grey [−1, 1]. */
  channels?: 1 | 3;
  /** Upscaling of each image (nearest neighbour); default 3. */
  scale?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function cellPng(x: ArrayLike<number>, size: number, scale: number, channels: 1 | 3): Promise<string> {
  const img = sharp(Buffer.from(channels === 3 ? rgbBytes(x, size, size) : toUint8(x)), { raw: { width: size, height: size, channels } })
    .resize(size * scale, size * scale, { kernel: "nearest" });
  const png = await (channels === 3 ? img : img.toColourspace("b-w")).png().toBuffer();
  return png.toString("base64");
}

export async function labelledGridPng(g: LabelledGrid): Promise<Buffer> {
  const channels = g.channels ?? 1;
  const size = g.size ?? (channels === 3 ? 32 : 28);
  const side = size * (g.scale ?? 3);
  const rows = g.cells.length;
  const cols = Math.max(...g.cells.map((r) => r.length));
  const font = 13;
  const gap = 8;
  const charW = font * 0.7; // DejaVu Sans is ≈ 0.6 em per character on average; leave room for capitals
  const left = g.rowLabels ? Math.max(...g.rowLabels.map((l) => l.length)) * charW + gap * 2 : gap;
  const titleH = g.title ? font + 12 : 0;
  const top = titleH + (g.columnLabels ? font + gap : gap);
  const noteH = g.cellNotes ? font + 4 : 0;
  const longest = Math.max(0, ...(g.columnLabels ?? []).map((l) => l.length), ...(g.cellNotes ?? []).flat().map((l) => l?.length ?? 0));
  const cellW = Math.max(side, longest * charW);
  const W = Math.ceil(Math.max(left + cols * (cellW + gap), (g.title?.length ?? 0) * charW + 2 * gap));
  const H = Math.ceil(top + rows * (side + noteH + gap));
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  const text = (x: number, y: number, s: string, anchor = "middle", weight = "normal") =>
    parts.push(`<text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="${weight}" text-anchor="${anchor}" fill="black">${esc(s)}</text>`);
  if (g.title) text(W / 2, font + 4, g.title, "middle", "bold");
  g.columnLabels?.forEach((l, c) => text(left + c * (cellW + gap) + cellW / 2, titleH + font, l));
  for (let r = 0; r < rows; r++) {
    const y = top + r * (side + noteH + gap);
    if (g.rowLabels?.[r]) text(left - gap, y + side / 2 + font / 3, g.rowLabels[r], "end");
    for (let c = 0; c < g.cells[r].length; c++) {
      // whole pixels: an image at a fractional offset is resampled, its edge columns blurred
      const x = Math.round(left + c * (cellW + gap) + (cellW - side) / 2);
      const cell = g.cells[r][c];
      if (cell) parts.push(`<image x="${x}" y="${y}" width="${side}" height="${side}" href="data:image/png;base64,${await cellPng(cell, size, g.scale ?? 3, channels)}"/>`);
      const note = g.cellNotes?.[r]?.[c];
      if (note) text(left + c * (cellW + gap) + cellW / 2, y + side + font, note);
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}">${parts.join("")}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
