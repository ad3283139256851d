/**
 * A figure as a PNG file, for documents and reports that cannot run scripts: the same Plotly figure
 * the notebooks show, drawn by plotly.js in headless Chromium (Debian's, `npm run setup:browser`;
 * CHROMIUM overrides the path) and exported with Plotly.toImage at twice the pixel density. The
 * page loads nothing from the network.
 */
import { existsSync } from "node:fs";
import { plotHtml } from "./display";
import type { Figure } from "./plots";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export class FigurePngError extends Error {}

export interface FigurePngOptions {
  /** CSS pixels; the PNG has `scale` times as many (default 1000 × the figure's height, scale 2). */
  width?: number;
  height?: number;
  scale?: number;
}

export async function figurePng(fig: Figure, opts: FigurePngOptions = {}): Promise<Buffer> {
  if (!existsSync(CHROMIUM)) throw new FigurePngError(`drawing a PNG needs Chromium at ${CHROMIUM} (npm run setup:browser, or set CHROMIUM)`);
  const { chromium } = await import("playwright-core");
  const width = opts.width ?? 1000;
  const height = opts.height ?? (typeof fig.layout.height === "number" ? fig.layout.height : 500);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.route("**/*", (route) => (route.request().url().startsWith("data:") || route.request().url() === "about:blank" ? route.continue() : route.abort()));
    const sized: Figure = { data: fig.data, layout: { ...fig.layout, width, height } };
    await page.setContent(`<!doctype html><html><body style="margin:0">${plotHtml(sized, true)}</body></html>`);
    await page.waitForSelector(".js-plotly-plot .main-svg", { state: "attached", timeout: 20000 });
    // a string, not a function: this project compiles without the DOM's types
    const url: string = await page.evaluate(
      `Plotly.toImage(document.querySelector(".js-plotly-plot"), { format: "png", width: ${width}, height: ${height}, scale: ${opts.scale ?? 2} })`,
    );
    return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
  } finally {
    await browser.close();
  }
}
