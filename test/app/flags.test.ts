/**
 * cli/flags.ts, the flag parser the scripts share (issue 26, class 10): the study scripts' 18 bad
 * inputs as cases — seeds that are not seeds, unknown choices, unknown flags, output paths that
 * cannot be written — each one line, exit 2, nothing written, before any work.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseFlags, type FlagSpec } from "../../cli/flags";
import { UsageError } from "../../cli/args";

const SPECS = {
  seeds: { kind: "seeds", default: "1-3", help: "seeds" },
  epochs: { kind: "int", min: 0, max: 100, default: 2, help: "epochs" },
  sparsity: { kind: "float", min: 0, max: 1, maxOpen: true, default: 0.9, help: "sparsity" },
  only: { kind: "choice", choices: ["dgc", "momentum"], help: "one arm" },
  attacks: { kind: "choices", choices: ["dlg", "ig"], default: "dlg,ig", help: "attacks" },
  "train-subset": { kind: "int", min: 1, max: 60000, help: "subset" },
  quick: { kind: "switch", help: "quick" },
  out: { kind: "outFile", default: join(tmpdir(), "flags-test-default.json"), help: "table" },
  dir: { kind: "outDir", help: "folder" },
} satisfies Record<string, FlagSpec>;

test("flags: typed values, defaults checked like values, --train-subset under its own key", () => {
  const f = parseFlags("t", SPECS, ["--seeds", "2,5", "--train-subset", "640", "--quick", "--attacks", "ig"])!;
  assert.deepEqual(f.seeds, [2, 5]);
  assert.equal(f.epochs, 2);
  assert.equal(f["train-subset"], 640);
  assert.equal(f.quick, true);
  assert.deepEqual(f.attacks, ["ig"]);
  assert.equal(f.only, undefined);
  assert.deepEqual(parseFlags("t", SPECS, [])!.seeds, [1, 2, 3]);
  assert.equal(parseFlags("t", SPECS, ["--help"]), null);
});

test("flags: lists of numbers (ints, floats) and custom values (a repeatable flag, i/n)", () => {
  const specs = {
    batches: { kind: "ints", min: 1, max: 64, default: "1,2,4", help: "batch sizes" },
    sparsity: { kind: "floats", min: 0, max: 1, maxOpen: true, help: "sparsities" },
    tag: { kind: "custom", parse: (s: string, prev: string[] = []) => [...prev, s.toUpperCase()], help: "repeatable" },
    shard: {
      kind: "custom",
      parse: (s: string): [number, number] => {
        const m = /^(\d+)\/(\d+)$/.exec(s);
        if (!m) throw new Error(`'${s}' is not i/n`);
        return [Number(m[1]), Number(m[2])];
      },
      help: "i/n",
    },
  } satisfies Record<string, FlagSpec>;
  const f = parseFlags("t", specs, ["--batches", "8, 2,8", "--sparsity", "0.9,0", "--tag", "a", "--tag", "b", "--shard", "1/4"])!;
  assert.deepEqual(f.batches, [8, 2]);
  assert.deepEqual(f.sparsity, [0.9, 0]);
  assert.deepEqual(f.tag, ["A", "B"]);
  assert.deepEqual(f.shard, [1, 4]);
  const d = parseFlags("t", specs, [])!;
  assert.deepEqual([d.batches, d.sparsity, d.tag, d.shard], [[1, 2, 4], undefined, undefined, undefined]);
  for (const [args, want] of [
    [["--batches", "1,0"], /'0' is not an integer from 1 to 64/],
    [["--batches", ","], /nothing given/],
    [["--batches", "1,,2"], /'' is not an integer/],
    [["--sparsity", "0.5,1"], /'1' is not a number in \[0, 1\)/],
    [["--sparsity", "0x1"], /'0x1' is not a number \(plain decimal/],
    [["--shard", "x"], /^option '--shard <value>' argument 'x' is invalid\. 'x' is not i\/n$/],
  ] as [string[], RegExp][]) {
    assert.throws(() => parseFlags("t", specs, args), (e: Error) => e instanceof UsageError && want.test(e.message), args.join(" "));
  }
});

test("flags: a toggle is --NAME / --no-NAME (the last wins), a choice with a preset may leave its value out", () => {
  const specs = {
    warmup: { kind: "toggle", default: true, help: "an untimed round first" },
    grid: { kind: "choice", choices: ["full", "tiny"], preset: "full", help: "the study grid" },
    tiny: { kind: "switch", help: "smoke sizes" },
  } satisfies Record<string, FlagSpec>;
  const f = (...args: string[]) => parseFlags("t", specs, args)!;
  assert.deepEqual([f().warmup, f().grid], [true, undefined]);
  assert.equal(f("--no-warmup").warmup, false);
  assert.equal(f("--no-warmup", "--warmup").warmup, true);
  assert.equal(f("--grid").grid, "full");
  assert.equal(f("--grid", "--tiny").grid, "full");
  assert.equal(f("--grid", "tiny").grid, "tiny");
  assert.throws(() => f("--grid", "huge"), (e: Error) => e instanceof UsageError && /invalid choice: 'huge' \(choose from full, tiny\)/.test(e.message));
  assert.throws(() => f("--no-tiny"), (e: Error) => e instanceof UsageError && /unknown option '--no-tiny'/.test(e.message));
});

test("flags: every bad input is one UsageError line, output paths checked before any work", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-flags-"));
  writeFileSync(join(dir, "file"), "x");
  mkdirSync(join(dir, "folder"));
  const cases: [string[], RegExp][] = [
    [["--seeds", "abc"], /^option '--seeds <value>' argument 'abc' is invalid\. 'abc' is not an integer$/],
    [["--seeds", "0"], /'0' is not an integer >= 1/],
    [["--seeds", "-1"], /'-1' is not an integer >= 0|'-1' is not an integer >= 1/],
    [["--seeds", "1-99999999"], /at most 100000/],
    [["--seeds", "99999999999999999999"], /beyond 2\^53 − 1/],
    [["--epochs", "1.5"], /'1\.5' is not an integer/],
    [["--epochs", "101"], /'101' is not an integer from 0 to 100/],
    [["--sparsity", "0x0"], /'0x0' is not a number \(plain decimal/],
    [["--sparsity", "1"], /'1' is not a number in \[0, 1\)/],
    [["--only", "bogus"], /invalid choice: 'bogus' \(choose from dgc, momentum\)/],
    [["--attacks", "dlg,bogus"], /unknown value 'bogus' \(choose from dlg, ig\)/],
    [["--train-subset", "60001"], /'60001' is not an integer from 1 to 60000/],
    [["--bogus"], /^unknown option '--bogus'$/],
    [["--epoch", "3"], /^unknown option '--epoch' \(did you mean --epochs\?\)$/],
    [["extra"], /too many arguments/],
    [["--out", join(dir, "folder")], /--out .*folder is a directory, not a file/],
    [["--out", join(dir, "file", "x.json")], /--out .*x\.json: its folder .*file is not a directory/],
    [["--dir", join(dir, "file")], /--dir .*file is not a directory/],
    [["--dir", join(dir, "x".repeat(300))], /is 300 bytes long/],
  ];
  for (const [args, want] of cases) {
    assert.throws(() => parseFlags("t", SPECS, args), (e: Error) => {
      assert.ok(e instanceof UsageError, `${args.join(" ")}: ${e.message}`);
      assert.ok(!e.message.includes("\n"), e.message);
      assert.match(e.message, want, args.join(" "));
      return true;
    });
  }
  assert.deepEqual(readdirSync(dir).sort(), ["file", "folder"]);
});

test("parseFlagsOrExit: `PROG: error: …` on one line, exit 2, nothing on stdout; --help exits 0", () => {
  const script = `require(${JSON.stringify(resolve(__dirname, "../../cli/flags.js"))}).parseFlagsOrExit("study_x", { seeds: { kind: "seeds", default: "1", help: "s" } }, process.argv.slice(1)); console.log("work");`;
  const bad = spawnSync(process.execPath, ["-e", script, "--", "--seeds", "abc\nx"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr, "study_x: error: option '--seeds <value>' argument 'abc\\nx' is invalid. 'abc\\nx' is not an integer\n");
  const help = spawnSync(process.execPath, ["-e", script, "--", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--seeds <value>/);
});
