/**
 * The result-directory rule (lib/results.ts) and the demo's attack output: staging on the
 * target's own file system (a symlink into /dev/shm), a folder holding one run only, foreign files
 * refused without --overwrite, roll-forward of a commit cut by SIGKILL, no litter after signals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MANIFEST, ResultDirError, StagedDir, checkResultDir, recoverResultDir } from "../lib/io/results";
import { tryLock } from "../lib/io/lock";

const CLI = resolve(__dirname, "../cli/dgc_demo.js");
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
  checkResultDir(dir); // the pending commit's files count as a run's, not foreign
  assert.equal(recoverResultDir(dir).length, 2);
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

// The kill lands just before the commit point (a .partial- folder: the old run stands) or within the
// move (a .commit- folder, the folder a mix of old and new): either way recovery must leave one whole run.
test("SIGKILL during the commit of 4000 files: the next run into the folder finds one whole run, never a mix", async () => {
  const dir = tmp("kill9");
  const old = new StagedDir(dir);
  for (let i = 0; i < 50; i++) await old.write(`old_${i}.png`, "old");
  old.commit();
  const names = Array.from({ length: 4000 }, (_, i) => `new_${i}.png`);
  const script = `
    const { StagedDir } = require(${JSON.stringify(resolve(__dirname, "../lib/results.js"))});
    (async () => {
      const out = new StagedDir(${JSON.stringify(dir)});
      const names = ${JSON.stringify(names)};
      for (let i = 0; i < names.length; i += 500) await Promise.all(names.slice(i, i + 500).map((n) => out.write(n, "new")));
      process.stdout.write("commit\\n");
      out.commit();
      await new Promise((r) => setTimeout(r, 5000)); // (killed before)
    })();`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((ok) => child.stdout.on("data", () => ok()));
  child.kill("SIGKILL");
  await new Promise((ok) => child.once("exit", ok));
  const pending = readdirSync(dir).filter((f) => f.startsWith(".partial-") || f.startsWith(".commit-"));
  const mixed = visible(dir);
  recoverResultDir(dir);
  const after = visible(dir);
  const oldNames = Array.from({ length: 50 }, (_, i) => `old_${i}.png`).sort();
  assert.ok(
    JSON.stringify(after) === JSON.stringify([...names].sort()) || JSON.stringify(after) === JSON.stringify(oldNames),
    `after recovery: ${after.length} files (${after.slice(0, 3).join(", ")} …); before it: ${mixed.length}, pending ${pending.join(", ")}`,
  );
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".partial-") || f.startsWith(".commit-")), []);
});

test("two runs committing into one folder take turns: a commit waits for the other's to end", async () => {
  const dir = tmp("turns");
  const held = tryLock(join(dir, ".results.lock")); // as a run in the middle of its commit holds it
  assert.ok("held" in held);
  const script = `
    const { StagedDir } = require(${JSON.stringify(resolve(__dirname, "../lib/results.js"))});
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
    const { StagedDir } = require(${JSON.stringify(resolve(__dirname, "../lib/results.js"))});
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
  // a folder an older version filled (its files, no manifest) is an earlier run's, replaced without a flag
  rmSync(join(x.real, MANIFEST));
  writeFileSync(join(x.real, "result_1900_0.png"), "old");
  assert.equal(runCli(base).code, 0);
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
