/**
 * The study scripts' flags (issue 26, class 10) — and bench's, paired's, study_fedavg's and bench_fedavg's — through their command lines: every bad flag and every
 * output path that cannot be written is one line `PROG: error: …` on stderr, exit 2, nothing on stdout
 * and nothing written — before any work (so these runs are fast). The parser is cli/flags.ts
 * (test/app/flags.test.ts); the valid flags' output is pinned by test/app/golden_studies.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");

/** Every path under `dir` with its size and mtime: what "nothing written" compares. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/`);
        try {
          walk(p);
        } catch {
          // an unreadable folder (the unwritable case, as a user) is listed, not entered
        }
      } else {
        const st = statSync(p);
        out.push(`${p} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** A folder no one here can write into (0555 as a user; as root, a read-only /proc/sys), or null. */
function unwritable(base: string): string | null {
  const ro = join(base, "readonly");
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  for (const p of [ro, "/proc/sys"]) {
    try {
      accessSync(p, constants.W_OK);
    } catch {
      return p;
    }
  }
  return null;
}

function refused(script: string, args: string[], cwd: string, want?: RegExp): void {
  const prog = script;
  const before = snapshot(cwd);
  const r = spawnSync(process.execPath, [join(ROOT, "dist", "scripts", `${script}.js`), ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  const what = `${script} ${args.join(" ")}`;
  assert.equal(r.status, 2, `${what}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, "", `${what}: nothing on stdout`);
  assert.match(r.stderr, new RegExp(`^${prog}: error: [^\\n]+\\n$`), `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  if (want) assert.match(r.stderr, want, what);
  assert.deepEqual(snapshot(cwd), before, `${what}: nothing written`);
}

test("study scripts: bad flags are one line, exit 2, nothing written (the issue's reproductions)", () => {
  const dir = mkdtempSync(join(tmpdir(), "study-flags-"));
  try {
    const cases: [string, string[], RegExp][] = [
      ["study_train", ["--seeds", "abc"], /'abc' is not an integer/],
      ["study_train", ["--seeds", "0"], /'0' is not an integer >= 1/],
      ["study_train", ["--seeds", "-1"], /'-1' is not an integer >= 1/],
      ["study_train", ["--backend", "gpu"], /invalid choice: 'gpu'/],
      ["study_lenet", ["--only", "bogus"], /invalid choice: 'bogus' \(choose from momentum, dgc, analytic, sign, extra\)/],
      ["study_lenet", ["--sparsity", "0.7"], /no setting has --sparsity 0\.7 \(choose from/],
      ["study_lenet", ["--iterations", "3x"], /'3x' is not an integer/],
      ["study_attack", ["--seeds", "-1"], /'-1' is not an integer >= 1/],
      ["study_attack", ["--label_init", "ones,bogus"], /unknown value 'bogus'/],
      ["study_attack", ["--lenet_seeds", "-1"], /'-1' is not an integer/],
      ["study_train", ["--bogus"], /unknown option '--bogus'/],
      ["study_attack", ["--bogus"], /unknown option '--bogus'/],
      ["study_lenet", ["--bogus"], /unknown option '--bogus'/],
      ["study_batches", ["--bogus"], /unknown option '--bogus'/],
      ["study_batches", ["--batches", "1,0"], /'0' is not an integer from 1/],
      ["study_batches", ["--iterations", "1"], /'1' is not an integer >= 2/],
      ["study_anchor", ["--seed", "3"], /unknown option '--seed' \(did you mean --seeds\?\)/],
      ["study_anchor", ["--defense", "topk:2"], /defense 'topk'/],
      ["study_federated", ["--sparsity", "1"], /'1' is not a number in \[0, 1\)/],
      ["study_federated", ["--shard", "2/2"], /'2\/2' is not i\/n/],
      ["study_federated", ["--model", "lenet", "--attacks", "analytic"], /the analytic attack needs a Linear first layer/],
      ["scaling", ["--repeats", "0"], /'0' is not an integer from 1/],
    ];
    for (const [script, args, want] of cases) refused(script, args, dir, want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("study scripts: output paths that cannot be written are refused before any work (a folder, a path under a file, an unwritable place)", () => {
  const dir = mkdtempSync(join(tmpdir(), "study-flags-"));
  try {
    writeFileSync(join(dir, "file"), "x");
    mkdirSync(join(dir, "folder"));
    const ro = unwritable(dir);
    const under = join(dir, "file", "x.json");
    const cases: [string, string[], RegExp][] = [
      ["study_anchor", ["--out", join(dir, "folder")], /--out .*folder is a directory, not a file/],
      ["study_anchor", ["--out", under], /--out .*x\.json: its folder .*file is not a directory/],
      ["study_batches", ["--json", join(dir, "folder")], /--json .*folder is a directory, not a file/],
      ["study_batches", ["--json", under], /--json .*file is not a directory/],
      ["study_lenet", ["--json", join(dir, "folder")], /--json .*folder is a directory/],
      ["study_lenet", ["--figure", under], /--figure .*file is not a directory/],
      ["study_federated", ["--out", join(dir, "file")], /--out .*file is not a directory/],
      ["study_federated", ["--out", join(dir, "file", "study")], /--out .*study cannot be created \(ENOTDIR/],
      ["study_federated", ["--summary", "--out", join(dir, "missing")], /--out .*missing cannot be read/],
      ["study_federated", ["--summary", "--out", join(dir, "folder"), "--export", join(dir, "folder")], /--export .*folder is a directory/],
      ["scaling", ["--out", join(dir, "folder")], /--out .*folder is a directory/],
      ["scaling", ["--png", under], /--png .*file is not a directory/],
    ];
    if (ro) {
      cases.push(
        ["study_anchor", ["--out", join(ro, "x.json")], /--out .* is not writable/],
        ["study_batches", ["--json", join(ro, "x.json")], /--json .* is not writable/],
        ["study_federated", ["--out", join(ro, "study")], /--out .* is not writable/],
      );
    }
    for (const [script, args, want] of cases) refused(script, args, dir, want);
    assert.ok(!existsSync(join(dir, "missing")) && !existsSync(join(dir, "docs")), "no folder created");
  } finally {
    if (existsSync(join(dir, "readonly"))) chmodSync(join(dir, "readonly"), 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("study scripts: --help prints the flags and exits 0, writing nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "study-flags-"));
  try {
    for (const script of ["study_train", "study_attack", "study_lenet", "study_batches", "study_anchor", "study_federated", "scaling"]) {
      const r = spawnSync(process.execPath, [join(ROOT, "dist", "scripts", `${script}.js`), "--help"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `${script} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${script} \\[options\\]`), script);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench, paired, study_fedavg, bench_fedavg, fedavg_n4_diag: bad flags and values are one line, exit 2, nothing written (unknown flags were ignored or commander's bare line)", () => {
  const dir = mkdtempSync(join(tmpdir(), "script-flags-"));
  try {
    const cases: [string, string[], RegExp][] = [
      ["bench", ["--bogus"], /unknown option '--bogus'/],
      ["bench", ["--pairs", "0"], /'0' is not an integer >= 1/],
      ["bench", ["--repeats", "x"], /'x' is not an integer/],
      ["bench", ["--max-pairs", "1.5"], /'1\.5' is not an integer/],
      ["bench", ["--backends", "wasm,gpu"], /unknown value 'gpu' \(choose from tensorflow, wasm, cpu\)/],
      ["bench", ["--only", "bogus"], /unknown value 'bogus' \(choose from ex3_train/],
      ["bench", ["--threads", "-1"], /'-1' is not an integer >= 0/],
      ["bench", ["--grid", "huge"], /invalid choice: 'huge' \(choose from full, tiny\)/],
      ["bench", ["--no-tiny"], /unknown option '--no-tiny'/],
      ["paired", ["--bogus"], /unknown option '--bogus'/],
      ["paired", ["--run", "nameless"], /--run wants name=command, got 'nameless'/],
      ["paired", ["--run", "a=true"], /two commands at least/],
      ["paired", ["--run", "a=true", "--run", "b=true", "--pairs", "5", "--max-pairs", "2"], /--max-pairs 2 is below --pairs 5/],
      ["paired", ["--example", "5"], /invalid choice: '5' \(choose from 3, 4\)/],
      ["paired", ["--example", "3", "--baseline", join(dir, "missing")], /--baseline .*missing cannot be read/],
      ["paired", ["--baseline", dir, "--run", "a=true", "--run", "b=true"], /--baseline goes with --example/],
      ["paired", ["--max-seconds", "-1"], /'-1' is not a number in \[0, Infinity\]/],
      ["paired", ["--warmup", "no"], /too many arguments/],
      ["study_fedavg", ["--bogus"], /unknown option '--bogus'/],
      ["study_fedavg", ["--steps", "0"], /'0' is not an integer >= 1/],
      ["study_fedavg", ["--n", "1,x"], /'x' is not an integer/],
      ["study_fedavg", ["--defense", "none,bogus"], /unknown defense 'bogus'/],
      ["study_fedavg", ["--defense", "dgc"], /defense 'dgc' needs a strength/],
      ["study_fedavg", ["--seeds", "-1"], /'-1' is not an integer >= 0/],
      ["study_fedavg", ["--attack", "analytic"], /invalid choice: 'analytic'/],
      ["study_fedavg", ["--optimizer", "sgd"], /invalid choice: 'sgd' \(choose from gd, adam, lbfgs\)/],
      ["study_fedavg", ["--local_lr", "0"], /'0' is not a number in \(0, Infinity\]/],
      ["study_fedavg", ["--local_momentum", "1"], /'1' is not a number in \[0, 1\)/],
      ["study_fedavg", ["--shard", "2/2"], /'2\/2' is not i\/n/],
      ["study_fedavg", ["--iterations", "ten"], /'ten' is not an integer/],
      ["bench_fedavg", ["--bogus"], /unknown option '--bogus'/],
      ["bench_fedavg", ["--backend", "gpu"], /invalid choice: 'gpu' \(choose from wasm, cpu, tensorflow\)/],
      ["bench_fedavg", ["--repeats", "0"], /'0' is not an integer from 1/],
      ["bench_fedavg", ["--steps", "1,0"], /'0' is not an integer from 1/],
      ["fedavg_n4_diag", ["--bogus"], /unknown option '--bogus'/],
      ["fedavg_n4_diag", ["--steps", "1"], /'1' is not an integer from 2 to 1000/],
      ["fedavg_n4_diag", ["--variant", "D"], /invalid choice: 'D' \(choose from A, B, C\)/],
      ["fedavg_n4_diag", ["--n", "11"], /'11' is not an integer from 2 to 10/],
      ["fedavg_n4_diag", ["--iterations", "0"], /'0' is not an integer >= 1/],
    ];
    for (const [script, args, want] of cases) refused(script, args, dir, want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench, paired, study_fedavg: output paths that cannot be written are refused before any work", () => {
  const dir = mkdtempSync(join(tmpdir(), "script-flags-"));
  try {
    writeFileSync(join(dir, "file"), "x");
    mkdirSync(join(dir, "folder"));
    const ro = unwritable(dir);
    const under = join(dir, "file", "x.json");
    const two = ["--run", "a=true", "--run", "b=true"];
    const cases: [string, string[], RegExp][] = [
      ["bench", ["--tiny", "--out", join(dir, "folder")], /--out .*folder is a directory, not a file/],
      ["bench", ["--tiny", "--out", under], /--out .*x\.json: its folder .*file is not a directory/],
      ["bench", ["--tiny", "--out", `${join(dir, "new")}/`], /--out .*new\/ names a folder, not a file/],
      ["paired", [...two, "--out", join(dir, "folder")], /--out .*folder is a directory, not a file/],
      ["paired", [...two, "--out", under], /--out .*file is not a directory/],
      ["study_fedavg", ["--out", join(dir, "file")], /--out .*file is not a directory/],
      ["study_fedavg", ["--out", join(dir, "file", "study")], /--out .*study cannot be created \(ENOTDIR/],
      ["study_fedavg", ["--out", ""], /--out <value>' argument '' is invalid\. must not be empty/],
      ["study_fedavg", ["--summary", "--out", join(dir, "missing")], /--out .*missing cannot be read/],
    ];
    if (ro) {
      cases.push(
        ["bench", ["--tiny", "--out", join(ro, "x.json")], /--out .* is not writable/],
        ["paired", [...two, "--out", join(ro, "x.json")], /--out .* is not writable/],
        ["study_fedavg", ["--out", join(ro, "study")], /--out .* is not writable/],
      );
    }
    for (const [script, args, want] of cases) refused(script, args, dir, want);
    assert.ok(!existsSync(join(dir, "missing")) && !existsSync(join(dir, "new")), "no folder created");
  } finally {
    if (existsSync(join(dir, "readonly"))) chmodSync(join(dir, "readonly"), 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench, paired, study_fedavg, bench_fedavg: --help prints the flags (bench's --grid [value], --no-pytorch; paired's --no-warmup) and exits 0, writing nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "script-flags-"));
  try {
    for (const [script, want] of [["bench", /--grid \[value\][\s\S]*--no-pytorch/], ["paired", /--run <value>[\s\S]*--no-warmup/], ["study_fedavg", /--summary/], ["bench_fedavg", /--steps <value>/]] as const) {
      const r = spawnSync(process.execPath, [join(ROOT, "dist", "scripts", `${script}.js`), "--help"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `${script} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${script} \\[options\\]`), script);
      assert.match(r.stdout, want, script);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cifar_train, cifar_attack, fetch_cifar10: bad flags, values and output paths are one line, exit 2, nothing written, before loading data; --help exits 0", () => {
  const dir = mkdtempSync(join(tmpdir(), "cifar-flags-"));
  try {
    writeFileSync(join(dir, "file"), "x");
    mkdirSync(join(dir, "folder"));
    const under = join(dir, "file", "x.json");
    const cases: [string, string[], RegExp][] = [
      ["cifar_train", ["--bogus"], /unknown option '--bogus'/],
      ["cifar_train", ["--seeds", "x"], /'x' is not an integer/],
      ["cifar_train", ["--seeds", "-1"], /'-1' is not an integer >= 0/],
      ["cifar_train", ["--epochs", "0"], /'0' is not an integer >= 1/],
      ["cifar_train", ["--lr", "0"], /'0' is not a number in \(0, Infinity\]/],
      ["cifar_train", ["--model", "lenet"], /invalid choice: 'lenet' \(choose from lenet-cifar, convnet\)/],
      ["cifar_train", ["--backend", "gpu"], /invalid choice: 'gpu'/],
      ["cifar_train", ["--data_dir", join(dir, "missing")], /--data_dir .*missing cannot be read/],
      ["cifar_train", ["--out", join(dir, "folder")], /--out .*folder is a directory, not a file/],
      ["cifar_train", ["--out", under], /--out .*file is not a directory/],
      ["cifar_train", ["--save_params", join(dir, "file")], /--save_params .*file is not a directory/],
      ["cifar_attack", ["--bogus"], /unknown option '--bogus'/],
      ["cifar_attack", ["--images", "a"], /'a' is not an integer/],
      ["cifar_attack", ["--split", "val"], /invalid choice: 'val' \(choose from train, test\)/],
      ["cifar_attack", ["--steps", "0"], /'0' is not an integer >= 1/],
      ["cifar_attack", ["--restarts", "-1"], /'-1' is not an integer >= 0/],
      ["cifar_attack", ["--method", "gd"], /invalid choice: 'gd' \(choose from dlg, idlg, ig\)/],
      ["cifar_attack", ["--victims", "all"], /invalid choice: 'all' \(choose from index, seed\)/],
      ["cifar_attack", ["--tv", "-1"], /'-1' is not a number/],
      ["cifar_attack", ["--tv", "0.1"], /--tv applies to --method ig, not dlg/],
      ["cifar_attack", ["--method", "idlg", "--restarts", "2"], /--restarts applies to --method dlg, not idlg/],
      ["cifar_attack", ["--params", join(dir, "missing")], /--params .*missing cannot be read/],
      ["cifar_attack", ["--result_dir", join(dir, "file")], /--result_dir .*file is not a directory/],
      ["fetch_cifar10", ["--bogus"], /unknown option '--bogus'/],
    ];
    for (const [script, args, want] of cases) refused(script, args, dir, want);
    for (const script of ["cifar_train", "cifar_attack", "fetch_cifar10"]) {
      const r = spawnSync(process.execPath, [join(ROOT, "dist", "scripts", `${script}.js`), "--help"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `${script} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${script} \\[options\\]`), script);
    }
    assert.ok(!existsSync(join(dir, "missing")), "no folder created");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
