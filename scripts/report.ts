/**
 * `npm run report -- <notebook.ipynb> [--param name=value ...] [--out dir]`: re-runs a notebook
 * with changed parameters and exports it. Like papermill (which has no TypeScript translator):
 * the cell tagged `parameters` declares `const name = literal;` lines, and a cell tagged
 * `injected-parameters` placed after it redeclares the ones given (tslab allows redeclaring a
 * const in a later cell). The notebook runs headless in the tslab kernel from the project's .venv,
 * never with errors allowed; the executed .ipynb and a standalone .html land in --out (reports/).
 * `npm run reports` does every notebook in notebooks/.
 * Exit codes: 0 done; 1 a cell failed (named on stderr); 2 bad arguments.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Command } from "commander";

const ROOT = resolve(__dirname, "../..");

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[]; [k: string]: unknown };
  outputs?: unknown[];
  execution_count?: number | null;
  id?: string;
}
interface Notebook {
  cells: Cell[];
  [k: string]: unknown;
}

export class ReportError extends Error {}

const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join("") : c.source);
const tagged = (c: Cell, tag: string) => (c.metadata.tags ?? []).includes(tag);

/** The `const name = literal;` declarations of the parameters cell, with their literal types. */
export function readParameters(nb: Notebook): Map<string, { literal: string; type: "number" | "boolean" | "string" }> {
  const cell = nb.cells.find((c) => tagged(c, "parameters"));
  if (!cell) throw new ReportError("the notebook has no cell tagged 'parameters'");
  const params = new Map<string, { literal: string; type: "number" | "boolean" | "string" }>();
  for (const line of text(cell).split("\n")) {
    const m = /^\s*const\s+(\w+)\s*(?::\s*[\w"'| ]+)?=\s*(.+?)\s*;?\s*(\/\/.*)?$/.exec(line);
    if (!m) continue;
    const literal = m[2];
    const type = /^(true|false)$/.test(literal) ? "boolean" : /^["']/.test(literal) ? "string" : "number";
    params.set(m[1], { literal, type });
  }
  return params;
}

/** The TypeScript literal for `value`, checked against the original's type. */
export function toLiteral(name: string, value: string, type: "number" | "boolean" | "string"): string {
  if (type === "number") {
    if (value.trim() === "" || !Number.isFinite(Number(value))) throw new ReportError(`--param ${name}=${value}: expected a number`);
    return String(Number(value));
  }
  if (type === "boolean") {
    if (!/^(true|false)$/i.test(value)) throw new ReportError(`--param ${name}=${value}: expected true or false`);
    return value.toLowerCase();
  }
  return JSON.stringify(value);
}

/** A copy of the notebook with an `injected-parameters` cell after the `parameters` cell. */
export function injectParameters(nb: Notebook, given: Record<string, string>): Notebook {
  const known = readParameters(nb);
  const lines: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const p = known.get(name);
    if (!p) throw new ReportError(`unknown parameter '${name}' (this notebook's parameters: ${[...known.keys()].join(", ")})`);
    lines.push(`const ${name} = ${toLiteral(name, value, p.type)};`);
  }
  const cells = nb.cells.filter((c) => !tagged(c, "injected-parameters"));
  if (lines.length) {
    const at = cells.findIndex((c) => tagged(c, "parameters")) + 1;
    cells.splice(at, 0, {
      cell_type: "code", id: "injected-parameters", execution_count: null, outputs: [],
      metadata: { tags: ["injected-parameters"] },
      source: ["// Parameters injected by `npm run report`\n", ...lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l))],
    });
  }
  return { ...nb, cells };
}

export function report(notebook: string, given: Record<string, string>, outDir: string): { ipynb: string; html: string; seconds: number } {
  const t0 = performance.now();
  const path = resolve(notebook);
  if (!existsSync(path)) throw new ReportError(`${notebook}: no such notebook`);
  const python = join(ROOT, ".venv", "bin", "python");
  if (!existsSync(python)) throw new ReportError("no .venv: run 'npm run setup:jupyter' first");
  const nb = injectParameters(JSON.parse(readFileSync(path, "utf8")) as Notebook, given);
  mkdirSync(outDir, { recursive: true });
  const name = basename(path, ".ipynb");
  const tmp = mkdtempSync(join(outDir, `.${name}-`));
  try {
    const input = join(tmp, `${name}.ipynb`);
    writeFileSync(input, JSON.stringify(nb, null, 1));
    const ipynb = join(outDir, `${name}.ipynb`);
    const html = join(outDir, `${name}.html`);
    const r = spawnSync(python, [join(ROOT, "scripts", "execute_notebook.py"), input, ipynb, html, "--cwd", dirname(path)], {
      encoding: "utf8",
      env: { ...process.env, JUPYTER_PATH: join(ROOT, ".venv", "share", "jupyter") },
    });
    if (r.status !== 0) {
      const why = (r.stderr || "").trim().split("\n").filter((l) => l.startsWith("report:")).pop() ?? (r.stderr || "").trim().split("\n").pop();
      throw new Error(`${notebook}: ${why?.replace(/^report: /, "") ?? "execution failed"}`);
    }
    return { ipynb, html, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  const params: Record<string, string> = {};
  const cmd = new Command("report")
    .argument("[notebooks...]", "notebooks to run (default with --all: every notebook in notebooks/)")
    .option("--param <name=value>", "override a parameter (repeatable)", (v: string) => {
      const i = v.indexOf("=");
      if (i < 1) throw new ReportError(`--param ${v}: expected name=value`);
      params[v.slice(0, i)] = v.slice(i + 1);
      return v;
    })
    .option("--out <dir>", "output folder", join(ROOT, "reports"))
    .option("--all", "every notebook in notebooks/")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  try {
    cmd.parse();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.help") return;
    console.error(`report: ${(e as Error).message.replace(/^error: /, "")}`);
    process.exit(2);
  }
  const o = cmd.opts();
  const nbs: string[] = o.all ? readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(ROOT, "notebooks", f)) : cmd.args;
  if (!nbs.length) {
    console.error("report: name a notebook, or --all");
    process.exit(2);
  }
  let failed = 0;
  const t0 = performance.now();
  for (const nb of nbs) {
    try {
      const r = report(nb, params, resolve(o.out));
      console.log(`${basename(nb)}: ${r.ipynb}, ${r.html} (${r.seconds.toFixed(1)} s)`);
    } catch (e) {
      console.error(`report: ${(e as Error).message}`);
      if (e instanceof ReportError) process.exit(2);
      failed++;
    }
  }
  if (nbs.length > 1) console.log(`${nbs.length - failed} of ${nbs.length} notebooks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) process.exit(1);
}

if (require.main === module) main();
