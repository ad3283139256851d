/**
 * The sweep under careless or concurrent use: two processes on one --out (a lock per job, stale
 * locks of dead processes taken over), a summary of records made with different settings (rows
 * per setting, never averaged together), keys of tiny sparsities, and bad --seeds / --out.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSummary, summaryMarkdown } from "../../lib/study/summary";
import { expandGrid, type CommonSettings } from "../../lib/study/grid";
import { jobKey, parseKey } from "../../lib/study/keys";
import { lockPath, runStudy } from "../../lib/study/runner";
import { sweepTasks } from "../../lib/study/job";
import { recordPath, type JobRecord } from "../../lib/study/record";
import { tradeoffFigure, bytesFigure } from "../../lib/study/figures";
import { tryLock } from "../../lib/io/lock";
import { useBackend } from "../helpers";

before(useBackend);

const SCRIPT = resolve(__dirname, "../../scripts/sweep.js");
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `dgc-sweeprel-${name}-`));
const cli = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });
const read = (out: string, key: string) => JSON.parse(readFileSync(recordPath(out, key), "utf8")) as JobRecord;
/** Keys a sweep's stdout says it ran to the end ("[i/n] key: done in …" / "failed: …"). */
const ran = (stdout: string) => [...stdout.matchAll(/^\[\d+\/\d+\] (\S+): (?:done in|failed)/gm)].map((m) => m[1]);

test("two sweep processes on one --out never run the same job; every job ends done once", async () => {
  const out = tmp("two");
  const grid = ["--sparsity", "0,0.5,0.8,0.9", "--seeds", "1", "--attack", "dlg", "--iterations", "300", "--epochs", "0", "--backend", "wasm", "--out", out];
  const start = (jobs: string) => {
    const child = spawn(process.execPath, [SCRIPT, ...grid, "--jobs", jobs], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    return new Promise<{ code: number | null; stdout: string }>((ok) => child.once("close", (code) => ok({ code, stdout })));
  };
  const [a, b] = await Promise.all([start("1"), start("2")]);
  assert.equal(a.code, 0, a.stdout);
  assert.equal(b.code, 0, b.stdout);
  const [ranA, ranB] = [ran(a.stdout), ran(b.stdout)];
  assert.deepEqual(ranA.filter((k) => ranB.includes(k)), [], `both ran these:\nA:\n${a.stdout}\nB:\n${b.stdout}`);
  const keys = cli(["--list", ...grid]).stdout.trim().split("\n");
  assert.deepEqual([...ranA, ...ranB].sort(), [...keys].sort());
  for (const k of keys) assert.equal(read(out, k).status, "done");
  assert.deepEqual(readdirSync(out).filter((f) => f.includes(".lock")), [], "locks left behind");
});

test("a lock of a dead process is taken over; a live one leaves the job to its holder", () => {
  const out = tmp("locks");
  const grid = ["--sparsity", "0.5", "--seeds", "1", "--attack", "dlg", "--iterations", "20", "--epochs", "0", "--backend", "wasm", "--out", out];
  const key = "s0.5-dlg-seed-seed1";
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  const lock = (pid: number) => writeFileSync(lockPath(out, key), JSON.stringify({ host: hostname(), pid, startedAt: new Date().toISOString(), token: "0123" }));
  // alive: this test process holds it
  lock(process.pid);
  const held = cli(grid);
  assert.equal(held.status, 0, held.stderr);
  assert.match(held.stdout, new RegExp(`${key}: running elsewhere \\(pid ${process.pid} on `));
  assert.match(held.stdout, /1 left to other processes/);
  assert.equal(cli(["--only", key, ...grid]).status, 75, "--only: the job is another process's (EX_TEMPFAIL)");
  assert.deepEqual(readdirSync(out).sort(), [`${key}.lock`]);
  // dead: taken over, the job runs, the lock goes
  lock(dead);
  const taken = cli(grid);
  assert.equal(taken.status, 0, taken.stderr);
  assert.deepEqual(ran(taken.stdout), [key]);
  assert.deepEqual(readdirSync(out), [`${key}.json`]);
});

test("a job lock whose pid was reused (after a reboot) is taken over: the job runs", () => {
  const out = tmp("reused");
  const grid = ["--sparsity", "0.5", "--seeds", "1", "--attack", "dlg", "--iterations", "5", "--epochs", "0", "--backend", "wasm", "--out", out];
  const key = "s0.5-dlg-seed-seed1";
  writeFileSync(lockPath(out, key), JSON.stringify({ host: hostname(), pid: 1, startedAt: "2020-01-01T00:00:00Z", token: "0123" }));
  for (const jobs of ["1", "2"]) {
    const r = cli([...grid, "--jobs", jobs, "--seeds", jobs === "1" ? "1" : "1-2"]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /running elsewhere/);
    assert.equal(read(out, key).status, "done");
  }
});

test("one failing job never stops a sweep: a folder where its record goes, --jobs 1 and 2; the rest run, the count on stderr", () => {
  for (const jobs of ["1", "2"]) {
    const out = tmp(`fail${jobs}`);
    const grid = ["--sparsity", "0.5,0.8", "--seeds", "1-2", "--attack", "dlg", "--iterations", "5", "--epochs", "0", "--backend", "wasm", "--out", out, "--jobs", jobs];
    mkdirSync(join(out, "s0.5-dlg-seed-seed2.json")); // EISDIR when its record is written
    const r = cli(grid);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /s0\.5-dlg-seed-seed2: failed: .*s0\.5-dlg-seed-seed2\.json is a folder, not a record: move it away/);
    assert.equal(r.stderr, "sweep: error: 1 of 4 jobs failed (s0.5-dlg-seed-seed2); see their lines above\n");
    for (const k of ["s0.5-dlg-seed-seed1", "s0.8-dlg-seed-seed1", "s0.8-dlg-seed-seed2"]) assert.equal(read(out, k).status, "done", k);
    assert.deepEqual(readdirSync(out).filter((f) => f.includes(".lock")), [], "locks left behind");
  }
});

test("no child outlives its sweep: the parent killed with SIGKILL, its children stop and write no record", async () => {
  const out = tmp("orphan");
  const grid = ["--sparsity", "0.5,0.8", "--seeds", "1", "--attack", "dlg", "--iterations", "100000", "--epochs", "0", "--backend", "wasm", "--out", out, "--jobs", "2"];
  const parent = spawn(process.execPath, [SCRIPT, ...grid], { stdio: "ignore" });
  const locks = () => readdirSync(out).filter((f) => f.endsWith(".lock"));
  for (let t0 = Date.now(); locks().length < 2; await new Promise((r) => setTimeout(r, 50))) assert.ok(Date.now() - t0 < 30_000, "the children never took their jobs");
  const pids = locks().map((f) => JSON.parse(readFileSync(join(out, f), "utf8")).pid as number);
  parent.kill("SIGKILL");
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  // the children's jobs are 100,000 iterations: they notice within their next check (each iteration yields rarely; give them 60 s)
  for (let t0 = Date.now(); pids.some(alive); await new Promise((r) => setTimeout(r, 100))) assert.ok(Date.now() - t0 < 60_000, `children still running: ${pids.filter(alive)}`);
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith(".json")), [], "an orphan wrote a record");
});

test("tryLock: one holder at a time; dead owners, and non-lock files a minute old, are taken over; other hosts respected", () => {
  const dir = tmp("trylock");
  const path = join(dir, "job.lock");
  const first = tryLock(path);
  assert.ok("held" in first);
  const second = tryLock(path);
  assert.ok("busy" in second && second.busy?.token === first.held.owner.token, "a held lock was taken twice");
  first.held.release();
  assert.deepEqual(readdirSync(dir), []);
  const put = (o: object) => writeFileSync(path, JSON.stringify({ startedAt: "2026-01-01T00:00:00Z", token: "feed", ...o }));
  put({ host: hostname(), pid: spawnSync(process.execPath, ["-e", ""]).pid! });
  const taken = tryLock(path);
  assert.ok("held" in taken, "a dead owner's lock was not taken over");
  taken.held.release();
  put({ host: `not-${hostname()}`, pid: 1 << 22 });
  assert.ok("busy" in tryLock(path), "another host's lock was taken");
  // pid reuse: pid 1 is alive but is not the lock's owner (it started after the lock was made: a reboot since)
  put({ host: hostname(), pid: 1, startedAt: "2020-01-01T00:00:00Z" });
  const reused = tryLock(path);
  assert.ok("held" in reused, "a lock whose pid now names a later process was kept");
  reused.held.release();
  // this very process's pid, in a lock from another boot, or with another start time
  put({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), boot: "another-boot", start: 1 });
  assert.ok("held" in tryLock(path), "a lock from another boot was kept");
  rmSync(path);
  const mine = tryLock(path);
  assert.ok("held" in mine && typeof mine.held.owner.start === "number" && typeof mine.held.owner.boot === "string", "a new lock records its owner's start");
  assert.ok("busy" in tryLock(path), "a live owner's lock (the same start) was taken");
  mine.held.release();
  writeFileSync(path, "");
  assert.deepEqual(tryLock(path), { busy: null }, "a fresh non-lock file may be someone's in the making");
  utimesSync(path, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  assert.ok("held" in tryLock(path), "an old non-lock file blocks the job forever");
});

test("the summary never averages records of different settings: a row per setting, labelled", async () => {
  const out = tmp("mixed");
  const common: CommonSettings = { iterations: 10, epochs: 0, backend: "wasm", trainSubset: 640 };
  const spec = { sparsities: [0.5], attacks: ["dlg" as const], variants: ["seed" as const] };
  await runStudy(sweepTasks(expandGrid({ ...spec, seeds: [1, 2] }, common)), { out, jobs: 1 });
  await runStudy(sweepTasks(expandGrid({ ...spec, seeds: [3] }, { ...common, iterations: 30 })), { out, jobs: 1 });
  const s = buildSummary(out);
  assert.deepEqual(s.rows.map((r) => [r.settings, r.iterations, r.n]), [["10 it, 0 ep, subset 640, wasm", [10], 2], ["30 it, 0 ep, subset 640, wasm", [30], 1]]);
  assert.deepEqual(s.settings, ["10 it, 0 ep, subset 640, wasm", "30 it, 0 ep, subset 640, wasm"]);
  assert.equal(s.stopsRecovering.length, 2);
  const md = summaryMarkdown(s);
  assert.match(md, /^\| sparsity \| attack \| variant \| settings \| seeds \|/);
  assert.match(md, /made with 2 different settings/);
  assert.throws(() => tradeoffFigure(s.rows), /2 settings/);
  assert.throws(() => bytesFigure(s.rows), /2 settings/);
  tradeoffFigure(s.rows.filter((r) => r.settings === s.settings[0]));
  // one setting: no column, said once
  const only = tmp("single");
  await runStudy(sweepTasks(expandGrid({ ...spec, seeds: [1] }, common)), { out: only, jobs: 1 });
  const one = summaryMarkdown(buildSummary(only));
  assert.match(one, /^\| sparsity \| attack \| variant \| seeds \|/);
  assert.match(one, /Settings: 10 it, 0 ep, subset 640, wasm/);
});

test("keys of tiny sparsities are plain decimals that --list, --only and parseKey accept", () => {
  const key = jobKey({ sparsity: 1e-7, attack: "dlg", variant: "seed", seed: 1 });
  assert.equal(key, "s0.0000001-dlg-seed-seed1");
  assert.equal(parseKey(key).sparsity, 1e-7);
  assert.equal(jobKey(parseKey("s0.00000000015-ig-paper-seed2")), "s0.00000000015-ig-paper-seed2");
  const out = tmp("tiny");
  const listed = cli(["--list", "--sparsity", "0.0000001", "--seeds", "1", "--attack", "dlg"]);
  assert.equal(listed.stdout, `${key}\n`);
  const one = cli(["--only", key, "--iterations", "5", "--epochs", "0", "--backend", "wasm", "--out", out]);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(read(out, key).status, "done");
});

test("bad --seeds and --out: one line on stderr, exit 2, nothing created", () => {
  const dir = tmp("bad");
  writeFileSync(join(dir, "file"), "x");
  const cases: [string[], RegExp][] = [
    [["--list", "--seeds", "99999999999999999999"], /beyond 2\^53 − 1/],
    [["--list", "--seeds", "1-999999999"], /999999999 seeds; at most 100000/],
    [["--seeds", "1", "--attack", "dlg", "--sparsity", "0.5", "--out", join(dir, "file")], /--out .*file is not a directory/],
    [["--seeds", "1", "--attack", "dlg", "--sparsity", "0.5", "--out", join(dir, "file", "sub")], /--out .*cannot be created \(ENOTDIR/],
    [["--seeds", "1", "--attack", "dlg", "--sparsity", "0.5", "--out", ""], /--out must not be empty/],
    [["--summary", "--out", join(dir, "nope")], /--out .*nope cannot be read \(ENOENT/],
    [["--sparsty", "0.5"], /^sweep: error: unknown option '--sparsty' \(did you mean --sparsity\?\)$/],
    [["--list", "--train-subset", "60001"], /'60001' is more than 60000, the training set's size/],
    [["--list", "--sparsity", "0x0"], /sparsity '0x0' is not a number in \[0, 1\)/],
  ];
  for (const [args, want] of cases) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^sweep: error: /);
    assert.match(lines[0], want);
  }
  assert.deepEqual(readdirSync(dir), ["file"]);
});
