/**
 * `npm run report -- <notebook.ipynb>... [--param name=value ...] [--out dir]`: re-runs notebooks
 * with changed parameters and exports them. Like papermill (which has no TypeScript translator):
 * the cell tagged `parameters` declares `const name = literal;` lines (an annotation such as
 * `const model: "linear" | "lenet" = "linear";` restricts the values), and a cell tagged
 * `injected-parameters` placed after it redeclares the ones given (tslab allows redeclaring a
 * const in a later cell). `npm run reports` (`--all`) does every notebook in notebooks/; a --param
 * then goes to every notebook that declares it.
 *
 * Every parameter of every notebook is checked before any kernel starts (names, types, allowed
 * values, the ranges its declaration states, and the demo's own ranges for the flags it shares with
 * dgc_demo), so a typo costs no run. A declaration states its range in its comment:
 * `@int [1, 60000]`, `@number (0, 1)`, `@int [0, rounds)` (a bound may name another parameter,
 * `rounds-attack_round` too), `@ints [0, )` (a comma-separated list), `@oneof a|b|c`, `@file` (a
 * file that must exist, relative to the notebook). --out is checked before any kernel starts too
 * (writable, never the folder holding a source notebook nor notebooks/ unless --into-source-folder). The notebooks then run headless in the tslab kernel of the project's .venv
 * (scripts/execute_notebook.py), never with errors allowed; each one's executed .ipynb and a
 * standalone .html land in --out (reports/), written atomically, also when a cell failed (with the
 * error in place). SIGINT/SIGTERM/SIGHUP stop the kernels and leave nothing of the unfinished
 * notebook; so does any other end of this process, SIGKILL included (the executor is told by the
 * kernel, PR_SET_PDEATHSIG, and shuts its kernels down), and its `.report-<pid>-…` folder goes then
 * or at the next run into that --out.
 * Exit codes: 0 done; 1 a cell failed (named on stderr); 2 bad arguments; 128 + signal when stopped.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { realpathSync } from "node:fs";
import { Command } from "commander";
import { DEFAULTS, makeConfig, type DemoConfig } from "../lib/trial/demo_config";
import { ConfigError } from "../lib/core/errors";
import { checkOutputDir, ResultDirError } from "../lib/io/results";
import { ownerDead } from "../lib/io/lock";
import { guardStdout, printable } from "../lib/io/stdio";
import { oneLine } from "../cli/args";
import { hostname } from "node:os";

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

type ParamType = "number" | "boolean" | "string";
/** A declared range, `@int [lo, hi)`: bounds are numbers or sums of other parameters' names and numbers; absent = unbounded. */
interface Range {
  int: boolean;
  /** A comma-separated list of such numbers (`@ints`). */
  list: boolean;
  lo?: string;
  hi?: string;
  loOpen: boolean;
  hiOpen: boolean;
  text: string;
}
export interface Parameter {
  literal: string;
  type: ParamType;
  /** The declaration's type annotation (kept in the injected line), and the values it allows if a union of literals (or `@oneof`). */
  annotation?: string;
  allowed?: string[];
  range?: Range;
  /** `@file`: names a file that must exist (relative to the notebook's folder). */
  file?: boolean;
}

/** The `@…` declarations of a parameter's comment. */
function readDeclarations(comment: string, where: string): Pick<Parameter, "range" | "allowed" | "file"> {
  const out: Pick<Parameter, "range" | "allowed" | "file"> = {};
  const r = /@(int|number|ints)\s*([[(])\s*([^,\])]*?)\s*,\s*([^,\])]*?)\s*([\])])/.exec(comment);
  if (r) out.range = { int: r[1] !== "number", list: r[1] === "ints", lo: r[3] || undefined, hi: r[4] || undefined, loOpen: r[2] === "(", hiOpen: r[5] === ")", text: `${r[2]}${r[3]}, ${r[4]}${r[5]}` };
  else if (/@(int|number|ints)\b/.test(comment)) throw new ReportError(`${where}: cannot read the range in '${comment.trim()}' (write e.g. @int [1, 100] or @number (0, 1))`);
  const o = /@oneof\s+(\S+)/.exec(comment);
  if (o) out.allowed = o[1].split("|");
  if (/@file\b/.test(comment)) out.file = true;
  return out;
}

export class ReportError extends Error {}

const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join("") : c.source);
const tagged = (c: Cell, tag: string) => (c.metadata.tags ?? []).includes(tag);

/** The value of a literal as the notebook would see it (strings unquoted). */
function literalValue(literal: string): string {
  return /^["']/.test(literal) ? literal.slice(1, -1) : literal;
}

/** The `const name[: annotation] = literal; // … @int [lo, hi]` declarations of the parameters cell. */
export function readParameters(nb: Notebook): Map<string, Parameter> {
  const cell = nb.cells.find((c) => tagged(c, "parameters"));
  if (!cell) throw new ReportError("the notebook has no cell tagged 'parameters'");
  const params = new Map<string, Parameter>();
  for (const line of text(cell).split("\n")) {
    const m = /^\s*const\s+(\w+)\s*(?::\s*([\w"'| ]+?))?\s*=\s*("[^"]*"|'[^']*'|[^;/\s]+)\s*;?\s*(\/\/.*)?$/.exec(line);
    if (!m) continue;
    const literal = m[3];
    const type: ParamType = /^(true|false)$/.test(literal) ? "boolean" : /^["']/.test(literal) ? "string" : "number";
    const union = m[2]?.split("|").map((s) => s.trim());
    const allowed = union && union.every((u) => /^(["']).*\1$/.test(u)) ? union.map(literalValue) : undefined;
    const declared = readDeclarations(m[4] ?? "", `parameter ${m[1]}`);
    params.set(m[1], { literal, type, ...(m[2] ? { annotation: m[2] } : {}), ...(allowed ? { allowed } : {}), ...declared });
  }
  return params;
}

/** A shell-quoted value keeps its quotes through npm (`model="lenet"`): strip one matching pair. */
export function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2] : value;
}

/** The TypeScript literal for `value`, checked against the parameter's type and allowed values. */
export function toLiteral(name: string, value: string, p: Parameter): string {
  const v = unquote(value);
  if (p.type === "number") {
    // plain decimals: Number() would take 0x10, 0b1, "" and " " too
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim()) || !Number.isFinite(Number(v))) throw new ReportError(`--param ${name}=${value}: expected a number`);
    return String(Number(v));
  }
  if (p.type === "boolean") {
    if (!/^(true|false)$/i.test(v)) throw new ReportError(`--param ${name}=${value}: expected true or false`);
    return v.toLowerCase();
  }
  if (p.allowed && !p.allowed.includes(v)) throw new ReportError(`--param ${name}=${value}: expected ${p.allowed.map((a) => `"${a}"`).join(" or ")}`);
  // JSON leaves U+2028/U+2029 raw, which TypeScript takes for line ends inside a string literal
  return JSON.stringify(v).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A literal's value as the notebook sees it (numbers, booleans, strings). */
function valueOf(literal: string, p: Parameter): number | boolean | string {
  return p.type === "number" ? Number(literal) : p.type === "boolean" ? literal === "true" : (JSON.parse(literal.replace(/^'(.*)'$/, '"$1"')) as string);
}

/** Every declared range, choice and file, with the values the notebook will run with. */
function checkDeclared(path: string, known: Map<string, Parameter>, literals: Map<string, string>): void {
  const nb = basename(path);
  const number = (name: string): number | undefined => {
    const p = known.get(name);
    const l = literals.get(name);
    return p && l !== undefined && p.type === "number" ? Number(l) : undefined;
  };
  const bound = (expr: string, name: string): number => {
    const terms = expr.replace(/\s+/g, "").match(/[+-]?[^+-]+/g) ?? [];
    let sum = 0;
    for (const t of terms) {
      const sign = t.startsWith("-") ? -1 : 1;
      const body = t.replace(/^[+-]/, "");
      const v = /^\d+(\.\d+)?([eE][+-]?\d+)?$/.test(body) ? Number(body) : number(body);
      if (v === undefined) throw new ReportError(`${nb}: parameter ${name}'s range names '${body}', which is not a number parameter of this notebook`);
      sum += sign * v;
    }
    return sum;
  };
  for (const [name, p] of known) {
    const literal = literals.get(name)!;
    const v = valueOf(literal, p);
    if (p.allowed && typeof v === "string" && !p.allowed.includes(v)) throw new ReportError(`${nb}: parameter ${name} must be ${p.allowed.map((a) => `"${a}"`).join(" or ")}, got ${JSON.stringify(v)}`);
    if (p.file && typeof v === "string" && !existsSync(resolve(dirname(path), v))) throw new ReportError(`${nb}: parameter ${name}: no file ${v} (relative to ${dirname(path)})`);
    const r = p.range;
    if (!r) continue;
    const values = r.list ? String(v).split(",").map((x) => x.trim()) : [String(v)];
    for (const x of values) {
      const n = r.list ? (/^[+-]?\d+$/.test(x) ? Number(x) : NaN) : Number(v);
      const lo = r.lo === undefined ? -Infinity : bound(r.lo, name);
      const hi = r.hi === undefined ? Infinity : bound(r.hi, name);
      const inside = Number.isFinite(n) && (r.loOpen ? n > lo : n >= lo) && (r.hiOpen ? n < hi : n <= hi) && (!r.int || Number.isSafeInteger(n));
      if (!inside) {
        const bounds = `${r.loOpen ? "(" : "["}${r.lo === undefined ? "" : lo}, ${r.hi === undefined ? "" : hi}${r.hiOpen ? ")" : "]"}`;
        const named = /[A-Za-z_]/.test(`${r.lo ?? ""}${r.hi ?? ""}`) ? ` (${r.text})` : "";
        throw new ReportError(`${nb}: parameter ${name} must be ${r.list ? "a comma-separated list of integers, each" : r.int ? "an integer" : "a number"} in ${bounds}${named}, got ${r.list ? JSON.stringify(String(v)) : String(v)}`);
      }
    }
  }
}

/**
 * The parameters this notebook will run with: its own literals overridden by `given`. Flags it
 * shares with dgc_demo go through the demo's own validation, so out-of-range values fail here.
 */
function checkValues(path: string, known: Map<string, Parameter>, literals: Map<string, string>): void {
  const given: Record<string, unknown> = {};
  for (const [name, literal] of literals) {
    if (!(name in DEFAULTS)) continue;
    const p = known.get(name)!;
    // "auto": the notebook lets makeConfig pick the attack method's own optimizer (and its lr)
    if (name === "attack_optimizer" && literalValue(literal) === "auto") continue;
    given[name] = p.type === "number" ? Number(literal) : p.type === "boolean" ? literal === "true" : JSON.parse(literal.replace(/^'(.*)'$/, '"$1"'));
  }
  try {
    makeConfig(given as Partial<DemoConfig>);
  } catch (e) {
    if (e instanceof ConfigError) throw new ReportError(`${basename(path)}: ${e.message.replace(/^--(\w+)/, "parameter $1")}`);
    throw e;
  }
}

/** A copy of the notebook with an `injected-parameters` cell after the `parameters` cell. */
export function injectParameters(nb: Notebook, given: Record<string, string>, path = "notebook", requireAll = true): Notebook {
  const known = readParameters(nb);
  const literals = new Map([...known].map(([k, p]) => [k, p.literal]));
  const lines: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const p = known.get(name);
    if (!p) {
      if (!requireAll) continue;
      throw new ReportError(`${basename(path)}: unknown parameter '${name}' (this notebook's parameters: ${[...known.keys()].join(", ")})`);
    }
    const literal = toLiteral(name, value, p);
    literals.set(name, literal);
    lines.push(`const ${name}${p.annotation ? `: ${p.annotation}` : ""} = ${literal};`);
  }
  checkValues(path, known, literals);
  checkDeclared(path, known, literals);
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

/** Reads and checks every notebook (and every --param against them) before anything runs. */
export function prepare(notebooks: string[], given: Record<string, string>): { path: string; nb: Notebook }[] {
  for (const name of Object.keys(given)) if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new ReportError(`--param ${name}=…: not a parameter name (a TypeScript identifier)`);
  const prepared = notebooks.map((notebook) => {
    const path = resolve(notebook);
    if (!existsSync(path)) throw new ReportError(`${notebook}: no such notebook`);
    let nb: Notebook;
    try {
      nb = JSON.parse(readFileSync(path, "utf8")) as Notebook;
    } catch (e) {
      throw new ReportError(`${notebook}: not a notebook (${(e as Error).message})`);
    }
    return { path, nb: injectParameters(nb, given, path, notebooks.length === 1) };
  });
  if (notebooks.length > 1) {
    for (const name of Object.keys(given)) {
      if (!notebooks.some((n) => readParameters(JSON.parse(readFileSync(resolve(n), "utf8")) as Notebook).has(name))) {
        throw new ReportError(`unknown parameter '${name}': none of the notebooks declares it`);
      }
    }
  }
  return prepared;
}

export interface ReportResult {
  notebook: string;
  ipynb: string;
  html: string;
  ok: boolean;
  error: string | null;
  /** Wall time of this notebook in the executor, and of its cells alone. */
  seconds: number;
  compute: number;
}

/**
 * Runs the prepared notebooks (one fresh kernel each, the next one warming while the current one
 * runs) and exports them into `outDir`. `onResult` sees each as soon as it is written.
 * Resolves with the results; rejects with the signal's exit code if stopped by SIGINT/SIGTERM.
 */
export function runReports(prepared: { path: string; nb: Notebook }[], outDir: string, onResult?: (r: ReportResult) => void): Promise<ReportResult[]> {
  const python = join(ROOT, ".venv", "bin", "python");
  if (!existsSync(python)) throw new ReportError("no .venv: run 'npm run setup:jupyter' first");
  const created = mkdirSync(outDir, { recursive: true });
  removeStaleWorkFolders(outDir);
  const tmp = mkdtempSync(join(outDir, `.report-${hostname()}-${process.pid}-`));
  const jobs = prepared.map(({ path, nb }) => {
    const name = basename(path, ".ipynb");
    const input = join(tmp, `${name}.ipynb`);
    writeFileSync(input, JSON.stringify(nb, null, 1));
    return { input, ipynb: join(outDir, `${name}.ipynb`), html: join(outDir, `${name}.html`), cwd: dirname(path), notebook: path };
  });
  writeFileSync(join(tmp, "jobs.json"), JSON.stringify(jobs));
  const child = spawn(python, [join(ROOT, "scripts", "execute_notebook.py"), join(tmp, "jobs.json")], {
    // REPORT_PARENT: the executor stops (kernels down, nothing written) when this process is gone, SIGKILL included
    env: { ...process.env, JUPYTER_PATH: join(ROOT, ".venv", "share", "jupyter"), REPORT_PARENT: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGTERM");
  // any other end of this process (an exception, process.exit): the executor goes too, and its work folder
  const onExitHook = () => {
    child.kill("SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  process.on("SIGHUP", onHup);
  process.on("exit", onExitHook);
  const results: ReportResult[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      const r = JSON.parse(line) as { notebook: string; ok: boolean; error: string | null; seconds: number; compute: number };
      const job = jobs.find((j) => j.input === r.notebook)!;
      const result = { ...r, notebook: job.notebook, ipynb: job.ipynb, html: job.html };
      results.push(result);
      onResult?.(result);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((res, rej) => {
    child.on("close", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.off("SIGHUP", onHup);
      process.off("exit", onExitHook);
      rmSync(tmp, { recursive: true, force: true });
      if (created && !results.length) removeEmpty(outDir, created);
      if (code !== null && code >= 128) {
        // asyncio may log a pending task after our line: take the line that says what stopped the run
        const lines = stderr.trim().split("\n");
        const why = lines.find((l) => /stopped by SIG/.test(l)) ?? lines.pop() ?? "stopped";
        return rej(Object.assign(new Error(why.replace(/^report: /, "")), { exitCode: code }));
      }
      if (signal) return rej(Object.assign(new Error(`stopped by ${signal}`), { exitCode: 128 + 15 }));
      if (results.length < jobs.length) {
        const why = stderr.trim().split("\n").filter((l) => l.trim()).pop() ?? `exit code ${code}`;
        return rej(new Error(`the notebook executor failed: ${why}`));
      }
      res(results);
    });
  });
}

/** `.report-<host>-<pid>-…` work folders of runs of this host that died (SIGKILL) before removing theirs. */
function removeStaleWorkFolders(outDir: string): void {
  for (const e of readdirSync(outDir)) {
    const m = /^\.report-(.+)-(\d+)-\w+$/.exec(e);
    if (m && ownerDead(m[1], Number(m[2]))) rmSync(join(outDir, e), { recursive: true, force: true });
  }
}

/**
 * Throws ReportError (one line) unless `outDir` can take the reports: a writable folder (or one that
 * can be created), and — unless `intoSource` — neither notebooks/ nor a folder holding one of the
 * source notebooks (an executed copy would replace the source, its parameters injected).
 */
export function checkOutDir(outDir: string, notebooks: string[], intoSource = false): void {
  try {
    checkOutputDir(outDir, "--out");
  } catch (e) {
    if (e instanceof ResultDirError) throw new ReportError(e.message);
    throw e;
  }
  if (intoSource) return;
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const out = real(outDir);
  const sources = [join(ROOT, "notebooks"), ...notebooks.map((n) => dirname(resolve(n)))].map(real);
  const hit = sources.find((d) => d === out);
  if (hit) throw new ReportError(`--out ${outDir} is ${hit === real(join(ROOT, "notebooks")) ? "the project's notebooks/ folder" : "the folder of a source notebook"}: the executed copies would replace the sources; choose another folder, or pass --into-source-folder`);
}

/** Removes `dir` and its parents up to `top` while they are empty (folders this run created). */
function removeEmpty(dir: string, top: string): void {
  for (let d = resolve(dir); d.startsWith(resolve(top)); d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** One notebook with its parameters into `outDir` (what the tests call). */
export async function report(notebook: string, given: Record<string, string>, outDir: string): Promise<ReportResult> {
  return (await runReports(prepare([notebook], given), outDir))[0];
}

async function main() {
  guardStdout("report");
  // no prototype: --param __proto__=1 is a name like any other (refused: not declared)
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const cmd = new Command("report")
    .argument("[notebooks...]", "notebooks to run (default with --all: every notebook in notebooks/)")
    .option("--param <name=value>", "override a parameter (repeatable); one level of quotes is stripped", (v: string) => {
      const i = v.indexOf("=");
      if (i < 1) throw new ReportError(`--param ${v}: expected name=value`);
      params[v.slice(0, i)] = v.slice(i + 1);
      return v;
    })
    .option("--out <dir>", "output folder", join(ROOT, "reports"))
    .option("--all", "every notebook in notebooks/")
    .option("--into-source-folder", "allow --out to be notebooks/ or a source notebook's folder (the executed copies replace the sources)")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  let prepared: { path: string; nb: Notebook }[];
  try {
    cmd.parse();
    const o = cmd.opts();
    const nbs: string[] = o.all
      ? readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(ROOT, "notebooks", f))
      : cmd.args;
    if (!nbs.length) throw new ReportError("name a notebook, or --all");
    prepared = prepare(nbs, params);
    checkOutDir(o.out as string, nbs, Boolean(o.intoSourceFolder));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.help") return;
    // one line, whatever a value or file name holds (a newline, U+2028)
    const msg = (e as Error).message;
    console.error(`report: ${code?.startsWith("commander.") ? oneLine(msg) : printable(msg)}`);
    process.exit(2);
  }
  const t0 = performance.now();
  let failed = 0;
  try {
    await runReports(prepared, resolve(cmd.opts().out), (r) => {
      if (r.ok) console.log(`${basename(r.notebook)}: ${r.ipynb}, ${r.html} (${r.seconds.toFixed(1)} s, cells ${r.compute.toFixed(1)} s)`);
      else {
        failed++;
        console.error(`report: ${printable(`${basename(r.notebook)}: ${r.error}; the executed notebook with the error: ${r.ipynb}`)}`);
      }
    });
  } catch (e) {
    console.error(`report: ${printable((e as Error).message)}`);
    process.exit((e as { exitCode?: number }).exitCode ?? 1);
  }
  if (prepared.length > 1) console.log(`${prepared.length - failed} of ${prepared.length} notebooks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) process.exit(1);
}

if (require.main === module) void main();
