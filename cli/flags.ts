/**
 * One flag parser and checker for the scripts (the studies, bench, whatever runs on the shared study
 * runner), with dgc_demo's promises: every flag typed and range-checked (integers in plain decimal
 * and below 2^53, floats in plain decimal or Python's inf/nan where allowed, choices, seed lists),
 * an unknown or mistyped flag named with a suggestion, output paths checked before any work — and
 * any problem is one line on stderr, `PROG: error: …`, exit 2, nothing written.
 *
 *   const o = parseFlagsOrExit("study_train", {
 *     seeds: { kind: "seeds", default: "1-5", help: "seeds" },
 *     epochs: { kind: "int", min: 0, default: 2, help: "training epochs" },
 *     only: { kind: "choice", choices: ["dgc", "momentum"], help: "one arm" },
 *     out: { kind: "outFile", default: "docs/study.json", help: "where the table goes" },
 *   }, process.argv.slice(2));
 *
 * Flag names are written as in the spec (`train_subset` is `--train_subset`; use `"train-subset"` as
 * the key for `--train-subset`); values come back under the same keys. Lists of numbers are `ints`
 * and `floats` (comma-separated, each checked like `int`/`float`, repeats dropped); anything else
 * (a repeatable `--defense`, `i/n`) is `custom`: its `parse(value, previous)` throws to refuse.
 * A `toggle` is a pair `--warmup`/`--no-warmup`; a `choice` with a `preset` takes an optional value.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { checkOutputDir, ResultDirError } from "../lib/io/results";
import { printable } from "../lib/io/stdio";
import { oneLine, parseBool, UsageError } from "./args";

interface Common {
  help: string;
  /** Exit 2 unless given. */
  required?: boolean;
}
export type FlagSpec = Common &
  (
    | { kind: "int"; min?: number; max?: number; default?: number }
    | { kind: "float"; min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean; default?: number }
    | { kind: "string"; default?: string; nonEmpty?: boolean }
    | { kind: "bool"; default?: boolean }
    | { kind: "switch" }
    /** `--NAME` and `--no-NAME` (the last given wins), the value under NAME */
    | { kind: "toggle"; default: boolean }
    /** with `preset`, the value may be left out (`--grid` is `--grid <preset>`) */
    | { kind: "choice"; choices: readonly string[]; default?: string; preset?: string }
    | { kind: "choices"; choices: readonly string[]; default?: string }
    | { kind: "seeds"; default?: string; max?: number }
    | { kind: "ints"; min?: number; max?: number; default?: string }
    | { kind: "floats"; min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean; default?: string }
    | { kind: "custom"; parse: (value: string, previous: any) => unknown; default?: unknown }
    | { kind: "outFile" | "outDir" | "inFile" | "inDir"; default?: string }
  );

type ValueOf<S extends FlagSpec> = S extends { kind: "custom"; parse: (...a: any[]) => infer R } ? R
  : S["kind"] extends "int" | "float" ? number
  : S["kind"] extends "bool" | "switch" | "toggle" ? boolean
  : S["kind"] extends "choices" ? string[]
  : S["kind"] extends "seeds" | "ints" | "floats" ? number[]
  : string;
export type Flags<T extends Record<string, FlagSpec>> = { [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : T[K] extends { required: true } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined };

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MAX_SEEDS = 100_000;

export function intValue(s: string, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new InvalidArgumentError(`'${s}' is not an integer`);
  const v = Number(t);
  if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(`'${t}' is beyond 2^53 − 1 = ${Number.MAX_SAFE_INTEGER}`);
  if (v < min || v > max) throw new InvalidArgumentError(`'${t}' is not an integer ${range(min, max)}`);
  return v;
}

function range(min: number, max: number): string {
  if (max >= Number.MAX_SAFE_INTEGER) return `>= ${min}`;
  if (min <= -Number.MAX_SAFE_INTEGER) return `<= ${max}`;
  return `from ${min} to ${max}`;
}

export function floatValue(s: string, spec: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean } = {}): number {
  const t = s.trim();
  if (!DECIMAL.test(t)) throw new InvalidArgumentError(`'${s}' is not a number (plain decimal, e.g. 0.5 or 1e-3)`);
  const v = Number(t);
  const lo = spec.min ?? -Infinity;
  const hi = spec.max ?? Infinity;
  if (!Number.isFinite(v) || (spec.minOpen ? v <= lo : v < lo) || (spec.maxOpen ? v >= hi : v > hi)) {
    throw new InvalidArgumentError(`'${t}' is not a number in ${spec.minOpen ? "(" : "["}${lo}, ${hi}${spec.maxOpen ? ")" : "]"}`);
  }
  return v;
}

/** "5" → 1..5; "2-4" → 2, 3, 4; "1,3,7" → those. Seeds are integers from 0 to 2^53 − 1, at most `max` of them. */
export function seedsValue(s: string, max = MAX_SEEDS): number[] {
  const one = (x: string) => intValue(x, 0);
  const tooMany = (n: number) => {
    if (n > max) throw new InvalidArgumentError(`'${s}' asks for ${n} seeds; at most ${max}`);
  };
  const t = s.trim();
  if (t.includes(",")) {
    const xs = [...new Set(t.split(",").map(one))];
    tooMany(xs.length);
    return xs;
  }
  const r = /^(\d+)-(\d+)$/.exec(t);
  if (r) {
    const [a, b] = [one(r[1]), one(r[2])];
    if (b < a) throw new InvalidArgumentError(`empty seed range '${s}'`);
    tooMany(b - a + 1);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const n = intValue(t, 1);
  tooMany(n);
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** "1,2,4" → [1, 2, 4]: each checked by `one`, repeats dropped, order kept. */
function listValue(one: (s: string) => number) {
  return (s: string): number[] => {
    const xs = s.split(",").map((x) => x.trim());
    if (xs.every((x) => x === "")) throw new InvalidArgumentError("nothing given");
    return [...new Set(xs.map((x) => one(x)))];
  };
}

function choicesValue(choices: readonly string[]) {
  return (s: string): string[] => {
    const xs = s.split(",").map((x) => x.trim()).filter(Boolean);
    if (!xs.length) throw new InvalidArgumentError("nothing given");
    for (const x of xs) if (!choices.includes(x)) throw new InvalidArgumentError(`unknown value '${x}' (choose from ${choices.join(", ")})`);
    return [...new Set(xs)];
  };
}

/**
 * Throws ResultDirError (one line) unless `file` can be written: not a folder, its folder existing
 * or creatable, and writable. Creates nothing.
 */
export function checkOutputFile(file: string, what: string): void {
  if (file === "") throw new ResultDirError(`${what} must not be empty`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new ResultDirError(`${what} ${file} is a directory, not a file`);
  if (/\/$/.test(file)) throw new ResultDirError(`${what} ${file} names a folder, not a file`);
  checkOutputDir(dirname(file), `${what} ${file}: its folder`);
}

function checkInput(path: string, what: string, dir: boolean): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ResultDirError(`${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (dir !== st.isDirectory()) throw new ResultDirError(`${what} ${path} is ${dir ? "not a directory" : "a directory, not a file"}`);
}

function option(name: string, spec: FlagSpec): Option {
  const flag = `--${name}`;
  const o = new Option(spec.kind === "switch" || spec.kind === "toggle" ? flag : spec.kind === "choice" && spec.preset !== undefined ? `${flag} [value]` : `${flag} <value>`, spec.help);
  switch (spec.kind) {
    case "int":
      o.argParser((s: string) => intValue(s, spec.min, spec.max));
      break;
    case "float":
      o.argParser((s: string) => floatValue(s, spec));
      break;
    case "bool":
      o.argParser(parseBool);
      break;
    case "choice":
      if (spec.preset !== undefined) o.preset(spec.preset);
      o.argParser((s: string) => {
        if (!spec.choices.includes(s)) throw new InvalidArgumentError(`invalid choice: '${s}' (choose from ${spec.choices.join(", ")})`);
        return s;
      });
      break;
    case "choices":
      o.argParser(choicesValue(spec.choices));
      break;
    case "seeds":
      o.argParser((s: string) => seedsValue(s, spec.max));
      break;
    case "ints":
      o.argParser(listValue((x) => intValue(x, spec.min, spec.max)));
      break;
    case "floats":
      o.argParser(listValue((x) => floatValue(x, spec)));
      break;
    case "custom":
      o.argParser((s: string, previous: unknown) => {
        try {
          return spec.parse(s, previous);
        } catch (e) {
          throw e instanceof InvalidArgumentError || !(e instanceof Error) ? e : new InvalidArgumentError(e.message);
        }
      });
      break;
    case "string":
      if (spec.nonEmpty) o.argParser((s: string) => {
        if (s.trim() === "") throw new InvalidArgumentError("must not be empty");
        return s;
      });
      break;
    default:
      break;
  }
  return o;
}

/** The default of a spec, parsed like a given value (a default is checked as strictly as a flag). */
function defaultOf(spec: FlagSpec): unknown {
  if (!("default" in spec) || spec.default === undefined) return undefined;
  if (spec.kind === "seeds") return seedsValue(spec.default, spec.max);
  if (spec.kind === "choices") return choicesValue(spec.choices)(spec.default);
  if (spec.kind === "ints") return listValue((x) => intValue(x, spec.min, spec.max))(spec.default);
  if (spec.kind === "floats") return listValue((x) => floatValue(x, spec))(spec.default);
  return spec.default;
}

/**
 * Parses `argv` (after node and the script) against `specs`, then checks the paths: output files
 * and folders writable (nothing created), input files and folders present. Returns null when help
 * was printed. Throws UsageError with one line for anything wrong.
 */
export function parseFlags<T extends Record<string, FlagSpec>>(prog: string, specs: T, argv: readonly string[], description = ""): Flags<T> | null {
  const cmd = new Command(prog)
    .description(description)
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const [name, spec] of Object.entries(specs)) {
    cmd.addOption(option(name, spec));
    if (spec.kind === "toggle") cmd.addOption(new Option(`--no-${name}`, `not --${name}`));
  }
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return null;
      // a value holding a line end is shown escaped, not joined into the line as a space
      let msg = e.message;
      for (const a of argv) if (printable(a) !== a) msg = msg.split(a).join(printable(a));
      throw new UsageError(oneLine(msg));
    }
    throw e;
  }
  const raw = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    // commander camel-cases --train-subset to trainSubset: look both up, return under the spec's key
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = raw[key] ?? (spec.kind === "switch" ? false : defaultOf(spec));
    if (value === undefined && spec.required) throw new UsageError(`--${name} is required`);
    out[name] = value;
  }
  try {
    for (const [name, spec] of Object.entries(specs)) {
      const v = out[name];
      if (typeof v !== "string") continue;
      if (spec.kind === "outFile") checkOutputFile(v, `--${name}`);
      else if (spec.kind === "outDir") checkOutputDir(v, `--${name}`);
      else if (spec.kind === "inFile" || spec.kind === "inDir") checkInput(v, `--${name}`, spec.kind === "inDir");
    }
  } catch (e) {
    if (e instanceof ResultDirError) throw new UsageError(e.message);
    throw e;
  }
  return out as Flags<T>;
}

/** parseFlags, with any problem as one line `PROG: error: …` on stderr and exit 2; help: exit 0. */
export function parseFlagsOrExit<T extends Record<string, FlagSpec>>(prog: string, specs: T, argv: readonly string[], description = ""): Flags<T> {
  let flags: Flags<T> | null;
  try {
    flags = parseFlags(prog, specs, argv, description);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    usageExit(prog, e.message);
  }
  if (flags === null) process.exit(0);
  return flags;
}

/** One line on stderr, exit 2: for checks a script makes after parsing (a flag that needs another). */
export function usageExit(prog: string, msg: string): never {
  process.stderr.write(`${prog}: error: ${printable(msg)}\n`);
  process.exit(2);
}
