/**
 * The frontier on one page: bandwidth (bytes one step uploads, log axis) against utility (test
 * accuracy after training under the defense), one marker per defense × strength, filled by privacy
 * (the fraction of victims one attack recovered: green none, red all), the attack's Pareto front
 * (frontier.ts `markPareto`: no other point leaks less, trains better *and* sends fewer bytes)
 * ringed. Every point is labelled (a PNG has no hover), its label placed clear of the others with
 * a leader line; the hover text adds the PSNR and what the attacked step sent. Read it as: up and
 * to the left is cheap and accurate; green is where the attack failed — which is not a guarantee.
 */
import { FAMILY_SYMBOL as SYMBOL, STRONGEST, type FrontierPoint } from "./frontier";
import { fmtBytes } from "./summary";
import { logAxis, type Figure } from "../viz/plots";

/** Red (every victim recovered) through yellow to green (none): the attack's success. */
const LEAK_SCALE = [[0, "#1a9850"], [0.5, "#fee08b"], [1, "#d73027"]];

interface Box { x0: number; y0: number; x1: number; y1: number }
const inside = (b: Box, x: number, y: number) => x > b.x0 && x < b.x1 && y > b.y0 && y < b.y1;
const overlap = (a: Box, b: Box) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/**
 * Where each point's label goes, as a pixel offset from its marker: a greedy placer (most crowded
 * points first) that tries offsets near to far and keeps the one overlapping the fewest markers
 * and labels already placed, staying inside the plot. `at` are the markers in plot pixels.
 */
export function placeLabels(at: readonly [number, number][], labels: readonly string[], plot: { w: number; h: number }, charPx = 6.6, linePx = 14): [number, number][] {
  const R = 15; // the Pareto ring's radius
  const markers: Box[] = at.map(([x, y]) => ({ x0: x - R, y0: y - R, x1: x + R, y1: y + R }));
  const crowd = at.map(([x, y]) => at.filter(([u, v]) => Math.hypot(u - x, v - y) < 60).length);
  const order = at.map((_, i) => i).sort((a, b) => crowd[b] - crowd[a] || a - b);
  const offsets: [number, number][] = [];
  for (const r of [24, 36, 52, 74]) for (let k = 0; k < 12; k++) offsets.push([Math.round(1.5 * r * Math.cos((k * Math.PI) / 6 - Math.PI / 2)), Math.round(r * Math.sin((k * Math.PI) / 6 - Math.PI / 2))]);
  const placed: Box[] = [];
  const out: [number, number][] = new Array(at.length);
  for (const i of order) {
    const [w, h] = [labels[i].length * charPx, linePx];
    let best: { cost: number; d: [number, number]; box: Box } | undefined;
    for (const d of offsets) {
      const [cx, cy] = [at[i][0] + d[0], at[i][1] + d[1]];
      const box = { x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 };
      const outside = Math.max(0, -box.x0) + Math.max(0, box.x1 - plot.w) + Math.max(0, -box.y0) + Math.max(0, box.y1 - plot.h);
      // a leader line through another marker points at the wrong one
      const crossed = markers.filter((m, j) => j !== i && [0.35, 0.55, 0.75, 0.95].some((t) => inside(m, at[i][0] + t * d[0], at[i][1] + t * d[1]))).length;
      const cost = [...markers, ...placed].reduce((a, b) => a + overlap(box, b), 0) + 50 * outside + 400 * crossed + 0.5 * Math.hypot(d[0], d[1]);
      if (!best || cost < best.cost) best = { cost, d, box };
    }
    placed.push(best!.box);
    out[i] = best!.d;
  }
  return out;
}

export interface FrontierMapOptions {
  /** Whose privacy colours the markers: an attack in the points, or "strongest" (default). */
  attack?: string;
  /** Named in the title ("Linear", "LeNet"). */
  model?: string;
  /** Figure height in pixels (default 620); the label layout assumes a width of 1000. */
  height?: number;
}

export function frontierMapFigure(points: readonly FrontierPoint[], opts: FrontierMapOptions = {}): Figure {
  const attack = opts.attack ?? STRONGEST;
  const ps = points.filter((p) => p.attack === attack && p.testAccuracy !== null && p.bytesPerStep !== null && p.n > 0);
  if (!ps.length) throw new Error(`no frontier points for attack "${attack}" with test accuracy and bytes`);
  const families = [...new Set(ps.map((p) => p.defense.split(":")[0]))];
  const height = opts.height ?? 620;
  const accs = ps.map((p) => p.testAccuracy!);
  const bytes = ps.map((p) => Math.log10(p.bytesPerStep!));
  const xr = [Math.min(...bytes) - 0.35, Math.max(...bytes) + 0.35];
  const yr = [Math.max(0, Math.min(...accs) - 0.06), Math.min(1, Math.max(...accs) + 0.05)];
  // the plot area of a 1000-px-wide figure with the margins below (the colour bar takes ~110 px)
  const plot = { w: 1000 - 70 - 40 - 110, h: height - 90 - 110 };
  const px = (p: FrontierPoint): [number, number] => [
    ((Math.log10(p.bytesPerStep!) - xr[0]) / (xr[1] - xr[0])) * plot.w, ((yr[1] - p.testAccuracy!) / (yr[1] - yr[0])) * plot.h,
  ];
  const offsets = placeLabels(ps.map(px), ps.map((p) => p.defense), plot);
  const who = attack === STRONGEST ? "the strongest attack per defense" : attack;
  const data: Record<string, unknown>[] = families.map((fam, i) => {
    const qs = ps.filter((p) => p.defense.split(":")[0] === fam);
    return {
      type: "scatter", mode: "markers", name: fam,
      x: qs.map((p) => p.bytesPerStep), y: qs.map((p) => p.testAccuracy),
      hovertext: qs.map((p) =>
        `<b>${p.defense}</b>${p.via ? ` (strongest: ${p.via})` : ""}<br>recovered ${p.recovered}/${p.n}, median PSNR ${p.psnr === null ? "–" : p.psnr.toFixed(1)} dB` +
        `<br>test acc ${p.testAccuracy!.toFixed(3)}, ${fmtBytes(p.bytesPerStep)} / step${p.attackedStepValues === 0 ? "<br>the attacked step sent nothing" : ""}${p.pareto ? "<br>on the Pareto front" : ""}`),
      hovertemplate: "%{hovertext}<extra></extra>",
      marker: {
        size: 15, symbol: SYMBOL[fam] ?? "circle", color: qs.map((p) => p.recovered / p.n), cmin: 0, cmax: 1, colorscale: LEAK_SCALE,
        showscale: i === 0, opacity: 0.95,
        colorbar: { title: { text: `victims recovered<br>by ${attack === STRONGEST ? "the strongest" : attack}`, side: "right" }, tickvals: [0, 0.5, 1], ticktext: ["none", "half", "all"], len: 0.6 },
        line: { width: 1, color: "#111" },
      },
      showlegend: false, cliponaxis: false,
    };
  });
  // the legend in grey: a family's first marker would lend its colour to the whole family
  for (const fam of families)
    data.push({ type: "scatter", mode: "markers", name: fam, x: [null], y: [null], marker: { size: 13, symbol: SYMBOL[fam] ?? "circle", color: "#bbb", line: { width: 1, color: "#111" } } });
  // rings, not a line: a front joined by a line would suggest points between its members
  const front = ps.filter((p) => p.pareto);
  data.unshift({
    type: "scatter", mode: "markers", name: "ringed: on the Pareto front", x: front.map((p) => p.bytesPerStep), y: front.map((p) => p.testAccuracy),
    marker: { size: 30, symbol: "circle-open", color: "#111", line: { width: 2 } }, hoverinfo: "skip",
  });
  const n = Math.max(...ps.map((p) => p.n));
  const annotations = ps.map((p, i) => ({
    x: Math.log10(p.bytesPerStep!), y: p.testAccuracy, text: p.defense, ax: offsets[i][0], ay: offsets[i][1],
    showarrow: true, arrowhead: 0, arrowwidth: 1, arrowcolor: "#555", standoff: 9, font: { size: 11, color: "#222" },
    bgcolor: "rgba(255,255,255,0.75)",
  }));
  return {
    data,
    layout: {
      title: {
        text: `Defenses${opts.model ? ` on ${opts.model}` : ""}: bandwidth, accuracy, and what ${who} recovers` +
          `<br><sup>${n} victims a point; up and left: fewer bytes and more accuracy; green: no victim recovered (against these attacks, not a guarantee)</sup>`,
      },
      height, annotations,
      margin: { t: 90, r: 40, l: 70, b: 110 },
      xaxis: {
        // ticks spelled out with their unit ("100 B", "1 kB"), never a bare minor "2" or "5"
        ...logAxis(ps.map((p) => p.bytesPerStep!), "bytes"),
        type: "log", title: { text: "bytes one client uploads per step (log scale)" },
        range: xr,
      },
      yaxis: { title: { text: "test accuracy after training under the defense" }, range: yr },
      legend: { orientation: "h", y: -0.22, title: { text: "symbol: " } },
      plot_bgcolor: "#fafafa",
    },
  };
}
