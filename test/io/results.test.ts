/**
 * The result-directory rule (lib/results.ts) and the demo's attack output: staging on the
 * target's own file system (a symlink into /dev/shm), a folder holding one run only, foreign files
 * refused without --overwrite, roll-forward of a commit cut by SIGKILL, no litter after signals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MANIFEST, ResultDirError, StagedDir, checkResultDir, foreignEntries, readResultDir, recoverResultDir } from "../../lib/io/results";
import { tryLock } from "../../lib/io/lock";

const CLI = resolve(__dirname, "../../cli/dgc_demo.js");
function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `dgc-results-${name}-`));
const visible = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith(".")).sort();
/** A pid that was alive a moment ago and is not now. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

/** A symlink in tmpdir() to a fresh folder in /dev/shm, if the two are on different file systems. */
function crossDeviceLink(): { link: string; real: string } | string {
  if (!existsSync("/dev/shm")) return "no /dev/shm on this machine";
  const real = mkdtempSync("/dev/shm/dgc-results-");
  const dir = tmp("link");
  if (statSync(real).dev === statSync(dir).dev) return `${tmpdir()} and /dev/shm are one file system here`;
  const link = join(dir, "att");
  symlinkSync(real, link);
  return { link, real };
}

test("staging happens on the target's file system: a symlink into /dev/shm (another device) receives every file", async (t) => {
  const x = crossDeviceLink();
  if (typeof x === "string") return t.skip(x);
  const out = new StagedDir(x.link);
  await out.write("a.png", "A");
  await out.write("b.png", "B");
  assert.deepEqual(out.commit().map((f) => f.slice(-5)), ["a.png", "b.png"]);
  assert.deepEqual(visible(x.real), ["a.png", "b.png"]);
  assert.deepEqual(readdirSync(x.real).filter((f) => f.startsWith(".") && f !== MANIFEST), [], "staging left behind");
  rmSync(x.real, { recursive: true });
});

test("a writable mount point inside a read-only parent (as `docker -v` makes) receives every file", async (t) => {
  const parent = tmp("ro");
  const target = join(parent, "res");
  const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  const mounted = sh(`mount -t tmpfs none '${parent}' && mkdir '${target}' && mount -t tmpfs none '${target}' && mount -o remount,ro '${parent}'`);
  if (mounted.status !== 0) {
    sh(`umount '${target}'; umount '${parent}'`);
    return t.skip(`cannot mount here (needs root with CAP_SYS_ADMIN): ${mounted.stderr.trim()}`);
  }
  try {
    const out = new StagedDir(target);
    await out.write("grid.png", "G");
    out.commit();
    assert.deepEqual(visible(target), ["grid.png"]);
  } finally {
    sh(`umount '${target}'; umount '${parent}'`);
  }
});

test("a folder holds one run: the next commit removes the previous run's files; foreign files need overwrite", async () => {
  const dir = join(tmp("replace"), "res");
  const first = new StagedDir(dir);
  for (const f of ["result_300_0.png", "result_1900_0.png", "grid.png"]) await first.write(f, f);
  first.commit();
  const second = new StagedDir(dir);
  await second.write("grid.png", "new");
  await second.write("result_5_0.png", "new");
  second.commit();
  assert.deepEqual(visible(dir), ["grid.png", "result_5_0.png"]);

  writeFileSync(join(dir, "notes.txt"), "mine");
  assert.throws(() => checkResultDir(dir), /holds files no earlier run wrote \(notes\.txt\).*--overwrite/);
  assert.throws(() => new StagedDir(dir), ResultDirError);
  assert.ok(existsSync(join(dir, "notes.txt")), "a refused run touched the folder");
  const forced = new StagedDir(dir, { overwrite: true });
  await forced.write("grid.png", "forced");
  forced.commit();
  assert.deepEqual(visible(dir), ["grid.png"]);

  // folders are never deleted, --overwrite or not (think `--result_dir . --overwrite` in a project)
  mkdirSync(join(dir, "lib"));
  assert.throws(() => checkResultDir(dir, { overwrite: true }), /holds folders no run wrote \(lib\)/);
  rmSync(join(dir, "lib"), { recursive: true });
  // a non-empty folder no run ever wrote is refused too; an empty one is fine
  const foreign = tmp("foreign");
  writeFileSync(join(foreign, "thesis.tex"), "x");
  assert.throws(() => checkResultDir(foreign), /thesis\.tex/);
  checkResultDir(tmp("empty"));
});

test("abort drops the staging folder and a result folder the run created", async () => {
  const parent = tmp("abort");
  const out = new StagedDir(join(parent, "a", "b"));
  await out.write("x.png", "x");
  out.abort();
  assert.deepEqual(readdirSync(parent), []);
});

test("recovery: a dead process's staging folder is removed, its interrupted commit finished (roll forward)", () => {
  const dir = tmp("recover");
  // the previous complete run
  writeFileSync(join(dir, "old_1.png"), "old");
  writeFileSync(join(dir, "grid.png"), "old");
  writeFileSync(join(dir, MANIFEST), JSON.stringify({ files: ["grid.png", "old_1.png"] }));
  // a run killed by SIGKILL after its commit point, with one of its two files moved already
  const pid = deadPid();
  const committed = join(dir, `.commit-${hostname()}-${pid}-0abc`);
  mkdirSync(committed);
  writeFileSync(join(committed, "new_2.png"), "new");
  writeFileSync(join(committed, MANIFEST), JSON.stringify({ files: ["grid.png", "new_2.png"] }));
  writeFileSync(join(dir, "grid.png"), "new");
  // a run killed while staging, and one still alive (this process): only the dead one goes
  mkdirSync(join(dir, `.partial-${hostname()}-${pid}-0def`));
  const live = `.partial-${hostname()}-${process.pid}-0aaa`;
  mkdirSync(join(dir, live));
  assert.deepEqual(foreignEntries(dir), [], "the pending commit's files count as a run's, not foreign");
  assert.equal(recoverResultDir(dir).length, 2);
  checkResultDir(dir);
  assert.deepEqual(visible(dir), ["grid.png", "new_2.png"]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".")).sort(), [MANIFEST, live].sort());

  // a crafted manifest naming paths outside the folder moves nothing there
  const outer = tmp("crafted");
  const inner = join(outer, "res");
  const crafted = join(inner, `.commit-${hostname()}-${pid}-0bad`);
  mkdirSync(crafted, { recursive: true });
  writeFileSync(join(outer, "victim.txt"), "keep");
  writeFileSync(join(crafted, MANIFEST), JSON.stringify({ files: ["../../victim.txt", "..", "ok.png"] }));
  writeFileSync(join(crafted, "ok.png"), "ok");
  recoverResultDir(inner);
  assert.deepEqual(readdirSync(outer).sort(), ["res", "victim.txt"]);
  assert.deepEqual(visible(inner), ["ok.png"]);
});

/** A child running `script` (CommonJS, in this folder) with DGC_TEST_PAUSE=`pause`; resolves once it announced the pause. */
function pausedChild(script: string, pause: string, args: string[] = []) {
  const child = spawn(process.execPath, script === CLI ? [CLI, ...args] : ["-e", script], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DGC_TEST_PAUSE: pause } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const paused = new Promise<void>((ok, fail) => {
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()).includes("dgc-test-pause:") && ok());
    child.once("exit", () => fail(new Error(`exited before the pause: ${stderr}`)));
  });
  const exit = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((ok) => child.once("close", (code, signal) => ok({ code, signal, stdout, stderr })));
  return { child, paused, exit };
}
const RESULTS_JS = JSON.stringify(resolve(__dirname, "../../lib/io/results.js"));
/** A script that stages `names` into `dir` and commits them. */
const stageAndCommit = (dir: string, names: string[]) => `
  const { StagedDir } = require(${RESULTS_JS});
  (async () => {
    const out = new StagedDir(${JSON.stringify(dir)});
    for (const n of ${JSON.stringify(names)}) await out.write(n, "new");
    out.commit();
    await new Promise((r) => setTimeout(r, 5000)); // (killed before)
  })();`;
async function oldRun(dir: string, n = 50): Promise<string[]> {
  const old = new StagedDir(dir);
  const names = Array.from({ length: n }, (_, i) => `old_${i}.png`);
  for (const f of names) await old.write(f, "old");
  old.commit();
  return names.sort();
}
const pendingOf = (dir: string) => readdirSync(dir).filter((f) => f.startsWith(".partial-") || f.startsWith(".commit-"));

// The kill lands inside the commit (DGC_TEST_PAUSE holds the process after the commit point and the
// first file moved): the folder is a mix of old and new until someone reads it, and any reader
// (readResultDir, the check before the next run's work) first rolls the commit forward.
test("SIGKILL inside a commit: a .commit- folder is pending, the folder a mix; the next reader finds the new run whole", async () => {
  const dir = tmp("kill9");
  const oldNames = await oldRun(dir);
  const names = Array.from({ length: 200 }, (_, i) => `new_${i}.png`).sort();
  const run = pausedChild(stageAndCommit(dir, names), "commit");
  await run.paused;
  run.child.kill("SIGKILL");
  await run.exit;
  const pending = pendingOf(dir);
  assert.equal(pending.length, 1);
  assert.match(pending[0], /^\.commit-/, "the kill came before the commit point");
  const mixed = visible(dir);
  assert.ok(mixed.some((f) => f.startsWith("new_")) && mixed.length !== names.length, `not a mix: ${mixed.length} files`);
  assert.deepEqual(readResultDir(dir).sort(), names);
  assert.deepEqual(visible(dir), names);
  assert.deepEqual(pendingOf(dir), []);
  // the same through the check a run makes before its work (another kill, another folder)
  const dir2 = tmp("kill9b");
  await oldRun(dir2, 5);
  const run2 = pausedChild(stageAndCommit(dir2, names), "commit");
  await run2.paused;
  run2.child.kill("SIGKILL");
  await run2.exit;
  checkResultDir(dir2);
  assert.deepEqual(visible(dir2), names);
  assert.ok(!oldNames.some((f) => existsSync(join(dir2, f))));
});

test("SIGTERM inside a commit waits for it: the new run stands whole, then the process dies by the signal", async () => {
  const dir = tmp("term-commit");
  await oldRun(dir);
  const names = Array.from({ length: 20 }, (_, i) => `new_${i}.png`).sort();
  const run = pausedChild(stageAndCommit(dir, names), "commit:1500");
  await run.paused;
  run.child.kill("SIGTERM");
  const r = await run.exit;
  assert.equal(r.signal, "SIGTERM", r.stderr);
  assert.deepEqual(pendingOf(dir), []);
  assert.deepEqual(visible(dir), names);
});

for (const sig of ["SIGHUP", "SIGINT"] as const) {
  test(`${sig} while files are staged: the process dies by it, the old run stands, no staging left`, async () => {
    const dir = tmp(`stage-${sig}`);
    const oldNames = await oldRun(dir, 5);
    const run = pausedChild(stageAndCommit(dir, ["a.png", "b.png"]), "write");
    await run.paused;
    run.child.kill(sig);
    const r = await run.exit;
    assert.equal(r.signal, sig, r.stderr);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".")), [MANIFEST]);
    assert.deepEqual(visible(dir), oldNames);
  });
}

test("dgc_demo: SIGTERM during its write phase leaves the earlier run whole and no staging", async () => {
  const dir = join(tmp("cli-write"), "res");
  const base = ["--dlg_attack", "True", "--attack_epoch", "10", "--seed", "1", "--result_dir", dir];
  assert.equal(runCli([...base, "--return_epoch", "5"]).code, 0);
  const before = visible(dir);
  const run = pausedChild(CLI, "write", [...base, "--return_epoch", "2"]);
  await run.paused;
  run.child.kill("SIGTERM");
  const r = await run.exit;
  assert.equal(r.signal, "SIGTERM", r.stderr);
  assert.deepEqual(visible(dir), before);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".")), [MANIFEST]);
});

test("a file that appears in the folder during a run is never deleted: kept and named, or the commit refused", async () => {
  const dir = tmp("appears");
  await oldRun(dir, 3);
  const run = new StagedDir(dir);
  await run.write("grid.png", "new");
  writeFileSync(join(dir, "notes.txt"), "mine"); // while the run is staged
  run.commit();
  assert.deepEqual(run.kept, ["notes.txt"]);
  assert.deepEqual(visible(dir), ["grid.png", "notes.txt"]);
  // one with a name of the run's: nothing committed, the user's file as it was
  const next = new StagedDir(dir, { overwrite: true }); // approves notes.txt (seen at the start)
  await next.write("grid.png", "newer");
  await next.write("target_0.png", "newer");
  writeFileSync(join(dir, "target_0.png"), "mine");
  assert.throws(() => next.commit(), /target_0\.png appeared during the run .*nothing was committed/);
  next.abort();
  assert.equal(readFileSync(join(dir, "target_0.png"), "utf8"), "mine");
  assert.equal(readFileSync(join(dir, "grid.png"), "utf8"), "new");
  assert.deepEqual(pendingOf(dir), []);
  // through the CLI: notes.txt written while dgc_demo stages its files
  const cdir = join(tmp("appears-cli"), "R");
  const args = ["--dlg_attack", "True", "--attack_epoch", "10", "--return_epoch", "5", "--seed", "2", "--result_dir", cdir];
  assert.equal(runCli(args).code, 0);
  const c = pausedChild(CLI, "write:300", args);
  await c.paused;
  writeFileSync(join(cdir, "notes.txt"), "x");
  const r = await c.exit;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /R: kept notes\.txt, which appeared during the run/);
  assert.equal(readFileSync(join(cdir, "notes.txt"), "utf8"), "x");
});

test("a folder without a manifest holding the user's own target_0.png and grid.png is not replaced without --overwrite", () => {
  const dir = tmp("own");
  writeFileSync(join(dir, "target_0.png"), "mine");
  writeFileSync(join(dir, "grid.png"), "mine");
  const r = runCli(["--dlg_attack", "True", "--attack_epoch", "5", "--seed", "1", "--result_dir", dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^dgc_demo: error: result directory .* holds files no earlier run wrote \(grid\.png, target_0\.png\) \(named like a run's.*--overwrite.*\n$/);
  assert.deepEqual(readdirSync(dir).sort(), ["grid.png", "target_0.png"]);
  assert.equal(readFileSync(join(dir, "grid.png"), "utf8"), "mine");
});

test("a pending commit from before the replace list, and a file that took one of its names: the user's file stays", () => {
  const dir = tmp("rollfwd-user");
  writeFileSync(join(dir, "old.png"), "old");
  writeFileSync(join(dir, "mine.txt"), "mine"); // not the old run's: never removed
  writeFileSync(join(dir, MANIFEST), JSON.stringify({ files: ["old.png"] }));
  const committed = join(dir, `.commit-${hostname()}-${deadPid()}-0abc`);
  mkdirSync(committed);
  writeFileSync(join(committed, "a.png"), "new");
  writeFileSync(join(committed, "b.png"), "new");
  writeFileSync(join(committed, MANIFEST), JSON.stringify({ files: ["a.png", "b.png"], replaces: ["old.png"] }));
  writeFileSync(join(dir, "b.png"), "users"); // appeared after the commit point
  recoverResultDir(dir);
  assert.deepEqual(visible(dir), ["a.png", "b.png", "mine.txt"]);
  assert.equal(readFileSync(join(dir, "b.png"), "utf8"), "users");
  assert.deepEqual(readResultDir(dir), ["a.png"]);
});

test("pid reuse: a staging folder whose pid now names a process that started later is recovered", () => {
  const dir = tmp("reuse");
  writeFileSync(join(dir, MANIFEST), JSON.stringify({ files: [] }));
  // pid 1 is alive, but started long after this folder was last changed (a reboot since)
  const committed = join(dir, `.commit-${hostname()}-1-0abc`);
  mkdirSync(committed);
  writeFileSync(join(committed, "a.png"), "new");
  writeFileSync(join(committed, MANIFEST), JSON.stringify({ files: ["a.png"] }));
  utimesSync(committed, new Date("2020-01-01"), new Date("2020-01-01"));
  assert.equal(recoverResultDir(dir).length, 1);
  assert.deepEqual(visible(dir), ["a.png"]);
});

test("pid reuse: a commit lock naming pid 1 from before a reboot is taken over at once, not waited on for a minute", async () => {
  const dir = tmp("reuse-lock");
  writeFileSync(join(dir, ".results.lock"), JSON.stringify({ host: hostname(), pid: 1, startedAt: "2026-01-01T00:00:00Z", token: "ab" }));
  const out = new StagedDir(dir);
  await out.write("a.png", "a");
  const t0 = Date.now();
  out.commit();
  assert.ok(Date.now() - t0 < 5000, `the commit waited ${Date.now() - t0} ms`);
  assert.deepEqual(visible(dir), ["a.png"]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".results.lock")), []);
});

test("a result directory whose name is too long for the file system is refused before the work", () => {
  const parent = tmp("long");
  const dir = join(parent, "x".repeat(300));
  assert.throws(() => checkResultDir(dir), /the name x{24}… is 300 bytes long; a file system takes at most 255/);
  const deep = join(parent, ...Array.from({ length: 20 }, () => "y".repeat(200)));
  assert.throws(() => checkResultDir(deep), /files in it would pass the 4096-byte limit of a path/);
  const r = runCli(["--dlg_attack", "True", "--attack_epoch", "5", "--result_dir", dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "", "refused after the work began");
  assert.match(r.stderr, /^dgc_demo: error: result directory .* is 300 bytes long; a file system takes at most 255\n$/);
});

test("two runs committing into one folder take turns: a commit waits for the other's to end", async () => {
  const dir = tmp("turns");
  const held = tryLock(join(dir, ".results.lock")); // as a run in the middle of its commit holds it
  assert.ok("held" in held);
  const script = `
    const { StagedDir } = require(${RESULTS_JS});
    (async () => {
      const out = new StagedDir(${JSON.stringify(dir)});
      await out.write("mine.png", "x");
      process.stdout.write("staged\\n");
      out.commit();
      process.stdout.write(String(Date.now()));
    })();`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  const staged = new Promise<void>((ok) => child.stdout.on("data", (d: Buffer) => (stdout += d.toString()).includes("staged") && ok()));
  await staged;
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(visible(dir), [], "committed while another commit held the folder");
  const released = Date.now();
  held.held.release();
  assert.equal(await new Promise((ok) => child.once("close", ok)), 0);
  assert.ok(Number(stdout.split("\n")[1]) >= released, "the commit did not wait for the lock");
  assert.deepEqual(visible(dir), ["mine.png"]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".results.lock")), []);
});

test("SIGTERM while staging: the process dies by the signal and leaves nothing", async () => {
  const parent = tmp("sigterm");
  const script = `
    const { StagedDir } = require(${RESULTS_JS});
    (async () => {
      const out = new StagedDir(${JSON.stringify(join(parent, "res"))});
      await out.write("a.png", "a");
      process.kill(process.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 5000));
      await out.write("b.png", "b");
      out.commit();
    })();`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(r.signal, "SIGTERM", r.stderr);
  assert.deepEqual(readdirSync(parent), [], "litter after SIGTERM");
});

test("dgc_demo --result_dir <symlink into /dev/shm> exits 0 with its files there; a second run leaves only its own", (t) => {
  const x = crossDeviceLink();
  if (typeof x === "string") return t.skip(x);
  const base = ["--dlg_attack", "True", "--attack_epoch", "20", "--seed", "1", "--result_dir", x.link];
  const r = runCli([...base, "--return_epoch", "5"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(visible(x.real), ["grid.png", "result_0_0.png", "result_10_0.png", "result_15_0.png", "result_19_0.png", "result_5_0.png", "target_0.png"]);
  const again = runCli(base);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(visible(x.real), ["grid.png", "result_0_0.png", "result_19_0.png", "target_0.png"]);
  writeFileSync(join(x.real, "notes.txt"), "mine");
  const refused = runCli(base);
  assert.equal(refused.code, 2);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^dgc_demo: error: result directory .* holds files no earlier run wrote \(notes\.txt\).*\n$/);
  assert.equal(runCli([...base, "--overwrite"]).code, 0);
  assert.deepEqual(visible(x.real), ["grid.png", "result_0_0.png", "result_19_0.png", "target_0.png"]);
  // a folder without a manifest holding files named like a run's (the user's own target_0.png, grid.png,
  // or an older version's run) is refused without --overwrite: they may be the user's
  rmSync(join(x.real, MANIFEST));
  writeFileSync(join(x.real, "result_1900_0.png"), "old");
  const own = runCli(base);
  assert.equal(own.code, 2);
  assert.match(own.stderr, /^dgc_demo: error: result directory .* holds files no earlier run wrote \(grid\.png, result_0_0\.png, result_1900_0\.png, … \(5 in all\)\) \(named like a run's, but with no manifest they may be your own, or an older version's run\); .*--overwrite/);
  assert.equal(runCli([...base, "--overwrite"]).code, 0);
  assert.deepEqual(visible(x.real), ["grid.png", "result_0_0.png", "result_19_0.png", "target_0.png"]);
  rmSync(x.real, { recursive: true });
});

test("Ctrl-C (SIGINT) during the attack leaves no result folder and no staging litter", async () => {
  const parent = tmp("sigint");
  const child = spawn(process.execPath, [CLI, "--dlg_attack", "True", "--attack_epoch", "200000", "--seed", "1", "--result_dir", join(parent, "res")], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((ok) => child.stdout.on("data", (d: Buffer) => d.toString().includes("Attack Iteration 0") && ok()));
  child.kill("SIGINT");
  const [code, signal] = await new Promise<[number | null, string | null]>((ok) => child.once("exit", (c, s) => ok([c, s])));
  assert.ok(signal === "SIGINT" || code !== 0, `exit ${code} ${signal}`);
  assert.deepEqual(readdirSync(parent), []);
});
