/**
 * Labelled image grids: every tile carries its caption (iteration, class, attack) under it, rows
 * may carry a label on the left, and grids of signed heat maps get a colour bar with its numbers.
 * The tiles are upscaled nearest-neighbour (digits stay crisp); the words are an SVG layer that
 * sharp renders with the system's fonts (DejaVu on Debian).
 */
import sharp from "sharp";
import { toUint8 } from "../metrics/readings";
import { rgbBytes } from "./png";

export interface Tile {
  /** A [-1, 1] image (gray), a [0, 1] CHW colour image (`channels: 3`), or a signed map (heat), width × height values (× 3 in colour). */
  pixels: ArrayLike<number>;
  label?: string;
}

export interface TileGridOptions {
  width?: number;
  height?: number;
  /** Upscaling (nearest neighbour); default 4 (112 px tiles). */
  scale?: number;
  rowLabels?: string[];
  /** Labels above the columns (e.g. the sparsity of each column). */
  columnLabels?: string[];
  title?: string;
  /** Signed maps: blue (−) – white (0) – red (+) on one scale ±max|value| shared by every tile, with a colour bar. */
  heat?: { unit: string };
  /** 3: colour [0, 1] CHW images (CIFAR-10: then width and height default to 32); default 1, grey. */
  channels?: 1 | 3;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const LABEL_H = 18;
const GAP = 6;
const FONT = `font-family="DejaVu Sans, sans-serif" font-size="13" fill="#222"`;

function heatRgb(t: number): [number, number, number] {
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - a));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/** Raw RGB bytes of one tile, upscaled. */
function tileRgb(p: ArrayLike<number>, w: number, h: number, scale: number, max: number | null, channels: 1 | 3 = 1): Buffer {
  const colour = channels === 3 ? rgbBytes(p, w, h) : null;
  const gray = max === null && !colour ? toUint8(p) : null;
  const out = Buffer.alloc(w * scale * h * scale * 3);
  for (let y = 0; y < h * scale; y++)
    for (let x = 0; x < w * scale; x++) {
      const i = Math.floor(y / scale) * w + Math.floor(x / scale);
      const rgb: [number, number, number] = colour ? [colour[3 * i], colour[3 * i + 1], colour[3 * i + 2]] : gray ? [gray[i], gray[i], gray[i]] : heatRgb(max! > 0 ? p[i] / max! : 0);
      out.set(rgb, (y * w * scale + x) * 3);
    }
  return out;
}

const fmt = (x: number) => (x === 0 ? "0" : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2));

/** The grid as one PNG, labels under the tiles, row labels on the left, an optional colour bar. */
export async function tileGridPng(rows: Tile[][], opts: TileGridOptions = {}): Promise<Buffer> {
  const colour = opts.channels === 3;
  if (colour && opts.heat) throw new Error("tileGridPng: heat maps are signed single-channel maps, not colour images");
  const w = opts.width ?? (colour ? 32 : 28);
  const h = opts.height ?? (colour ? 32 : 28);
  const scale = opts.scale ?? 4;
  const tw = w * scale;
  const th = h * scale;
  const cols = Math.max(...rows.map((r) => r.length));
  const left = opts.rowLabels ? 10 + 7.5 * Math.max(...opts.rowLabels.map((l) => l.length)) : 0;
  const top = (opts.title ? 26 : 0) + (opts.columnLabels ? LABEL_H : 0);
  let max: number | null = null;
  if (opts.heat) {
    max = 0;
    for (const r of rows) for (const t of r) for (let i = 0; i < t.pixels.length; i++) max = Math.max(max, Math.abs(t.pixels[i]));
  }
  const barW = opts.heat ? 110 : 0;
  const W = Math.ceil(left + cols * (tw + GAP) + GAP + barW);
  const H = top + rows.length * (th + LABEL_H + GAP) + GAP;
  const inputs: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  if (opts.title) texts.push(`<text x="${GAP}" y="18" ${FONT} font-weight="bold">${esc(opts.title)}</text>`);
  opts.columnLabels?.forEach((l, c) => {
    texts.push(`<text x="${left + GAP + c * (tw + GAP) + tw / 2}" y="${top - 4}" text-anchor="middle" ${FONT} font-weight="bold">${esc(l)}</text>`);
  });
  rows.forEach((row, r) => {
    const y = top + GAP + r * (th + LABEL_H + GAP);
    if (opts.rowLabels?.[r]) texts.push(`<text x="${left - 8}" y="${y + th / 2 + 4}" text-anchor="end" ${FONT}>${esc(opts.rowLabels[r])}</text>`);
    row.forEach((t, c) => {
      const x = Math.round(left + GAP + c * (tw + GAP));
      inputs.push({ input: tileRgb(t.pixels, w, h, scale, max, opts.channels), raw: { width: tw, height: th, channels: 3 }, left: x, top: y });
      if (t.label) texts.push(`<text x="${x + tw / 2}" y="${y + th + 14}" text-anchor="middle" ${FONT}>${esc(t.label)}</text>`);
    });
  });
  if (opts.heat && max !== null) {
    const x = W - barW + 12;
    const y0 = top + GAP;
    const bh = H - y0 - GAP - LABEL_H;
    const bar = Buffer.alloc(16 * bh * 3);
    for (let y = 0; y < bh; y++) for (let i = 0; i < 16; i++) bar.set(heatRgb(1 - (2 * y) / (bh - 1)), (y * 16 + i) * 3);
    inputs.push({ input: bar, raw: { width: 16, height: bh, channels: 3 }, left: x, top: y0 });
    texts.push(`<text x="${x + 20}" y="${y0 + 10}" ${FONT}>+${fmt(max)}</text>`, `<text x="${x + 20}" y="${y0 + bh / 2 + 4}" ${FONT}>0</text>`, `<text x="${x + 20}" y="${y0 + bh}" ${FONT}>−${fmt(max)}</text>`);
    texts.push(`<text x="${x}" y="${y0 + bh + 15}" ${FONT}>${esc(opts.heat.unit)}</text>`);
  }
  inputs.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${texts.join("")}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width: W, height: H, channels: 3, background: opts.heat ? { r: 200, g: 200, b: 200 } : { r: 255, g: 255, b: 255 } } })
    .composite(inputs)
    .png()
    .toBuffer();
}
