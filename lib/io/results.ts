/**
 * The result-directory rule, shared by every command that writes a folder of results (dgc_demo,
 * and the newer CLIs through `StagedDir`):
 * 1. Files are staged inside the target folder itself, in `.partial-<host>-<pid>-<random>/`, so they
 *    lie on the target's own file system (a mount point, a symlink into tmpfs, a writable folder in
 *    a read-only parent) and every move into place is a rename, never a copy.
 * 2. A run's folder holds that run only: committing removes what the previous run left. A folder
 *    holding anything no earlier run wrote (no manifest `.results.json`, or files it does not list —
 *    files named like a run's included: they may be the user's own) is refused unless `overwrite` —
 *    then the files seen at the start are replaced. Folders are never deleted: a result directory
 *    holding a folder no run wrote is refused, `overwrite` or not. A commit removes only what the
 *    previous run's manifest lists and what was approved at the start: a file that appears during
 *    the run is kept (and named in `StagedDir.kept`), and one that would be replaced by a file of
 *    the run refuses the commit (ResultDirError), the user's file untouched.
 * 3. All or nothing: commit first renames the staging folder to `.commit-…` (the commit point), then
 *    removes the old files and moves the new ones in. A process killed (even with SIGKILL) in the
 *    middle leaves that `.commit-…` folder, and whoever reads the folder next — `checkResultDir`
 *    before a run's work, `readResultDir`, a new `StagedDir` — first finishes the move (roll
 *    forward); `.partial-…` folders of dead processes are deleted (the old run stands).
 *    SIGINT, SIGTERM and SIGHUP while staging delete the staging folder (and a result folder this
 *    run created) before the process dies; the commit itself is synchronous, so they cannot cut it.
 *    Commits into one folder take turns under `.results.lock`, so two runs never interleave moves.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { onExit } from "signal-exit";
import { describeOwner, ownerDead, tryLock, type HeldLock } from "./lock";
import { testPause, testPauseSync } from "./test_pause";

export class ResultDirError extends Error {}

/** The manifest a committed run leaves in its folder: the names of its files. */
export const MANIFEST = ".results.json";
const STAGING = /^\.(partial|commit)-(.+)-(\d+)-[0-9a-f]+$/;
/** Held while a run commits, so two runs into one folder never interleave their moves. */
const COMMIT_LOCK = ".results.lock";
/** Our own bookkeeping in a result folder: never a result, never foreign, never removed by a commit. */
const internal = (name: string) => STAGING.test(name) || name === MANIFEST || name.startsWith(COMMIT_LOCK);

export interface ResultDirOptions {
  /** Replace a folder's contents even if no earlier run wrote them. */
  overwrite?: boolean;
  /**
   * Names the command writes. Without a manifest such files may be an older version's run or the
   * user's own (a target_0.png of theirs): they are refused like any other file without
   * `overwrite`, and the message says they look like an older run's.
   */
  ownNames?: RegExp;
}

/** The longest name a file system takes (NAME_MAX), and the longest path (PATH_MAX, less the NUL). */
const NAME_MAX = 255;
const PATH_MAX = 4095;
/** Room a run needs below its folder: `.partial-<host>-<pid>-<8 hex>/` and a file name of its own. */
const stagingRoom = () => `/.partial-${hostname()}-4194304-00000000/`.length + 64;

/** Throws ResultDirError unless every name of `abs` fits NAME_MAX and a file staged below it fits PATH_MAX. */
function checkLength(abs: string, what: string): void {
  const long = abs.split("/").find((n) => Buffer.byteLength(n) > NAME_MAX);
  if (long !== undefined) throw new ResultDirError(`${what}: the name ${long.slice(0, 24)}… is ${Buffer.byteLength(long)} bytes long; a file system takes at most ${NAME_MAX}`);
  if (Buffer.byteLength(abs) + stagingRoom() > PATH_MAX) throw new ResultDirError(`${what}: the path is ${Buffer.byteLength(abs)} bytes long; files in it would pass the ${PATH_MAX + 1}-byte limit of a path`);
}

interface Manifest {
  files: string[];
  /** In a pending commit only: the entries it may remove or replace (the previous run's, and those approved at the start). */
  replaces?: string[];
}

/** A manifest's file names; only plain names count (a crafted "../x" must not move files outside the folder). */
function readManifestFull(file: string): Manifest {
  const plain = (f: unknown): f is string => typeof f === "string" && f !== "" && f !== "." && f !== ".." && !/[/\\]/.test(f) && !internal(f);
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as { files?: unknown; replaces?: unknown };
    return { files: Array.isArray(m.files) ? m.files.filter(plain) : [], ...(Array.isArray(m.replaces) ? { replaces: m.replaces.filter(plain) } : {}) };
  } catch {
    return { files: [] };
  }
}
const readManifest = (file: string): string[] => readManifestFull(file).files;

/** Entries of a result folder that no run wrote: not staging, not listed by its or a pending commit's manifest. */
export function foreignEntries(dir: string): string[] {
  const entries = readdirSync(dir);
  const ours = new Set(readManifest(join(dir, MANIFEST)));
  for (const e of entries) if (e.startsWith(".commit-")) for (const f of readManifest(join(dir, e, MANIFEST))) ours.add(f);
  return entries.filter((e) => !internal(e) && !ours.has(e)).sort();
}

/**
 * A result folder as a reader should see it: a commit a killed run left half done is finished
 * first (roll forward; a dead run's staging folder is dropped: the old run stands), then the files
 * its manifest lists. Throws ResultDirError when the folder cannot be read.
 */
export function readResultDir(dir: string): string[] {
  requireDir(dir, "result directory");
  try {
    recoverResultDir(resolve(dir));
  } catch (e) {
    if (!(e instanceof ResultDirError) && !["EACCES", "EPERM", "EROFS"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
    // read-only: nothing can be finished here; a pending commit means the folder is mid-change
    if (readdirSync(dir).some((n) => n.startsWith(".commit-"))) throw new ResultDirError(`result directory ${dir}: a commit was cut short and the folder cannot be written to finish it (${errnoLine(e)})`);
  }
  return readManifest(join(dir, MANIFEST)).filter((f) => existsSync(join(dir, f)));
}

/**
 * Throws ResultDirError (one line) unless `dir` is, or can be created as, a writable folder that
 * a run may fill: empty, an earlier run's, or anything with `overwrite`; and unless its path is
 * short enough for the files of a run. A commit a killed run left half done is finished first
 * (roll forward), so the check sees one whole run.
 */
export function checkResultDir(dir: string, opts: ResultDirOptions = {}): void {
  if (dir === "") throw new ResultDirError("result directory must not be empty");
  const abs = resolve(dir);
  checkLength(abs, `result directory ${dir}`);
  let p = abs;
  for (;;) {
    let isLink = false;
    try {
      isLink = lstatSync(p).isSymbolicLink();
    } catch {
      /* p does not exist */
    }
    if (existsSync(p)) {
      if (!statSync(p).isDirectory()) throw new ResultDirError(`result directory ${dir} cannot be created: ${p} is not a directory`);
      try {
        accessSync(p, constants.W_OK | constants.X_OK);
        // access() says yes to root everywhere (/proc, /sys): make and remove an empty folder to be sure
        rmdirSync(mkdtempSync(join(p, ".dgc-write-probe-")));
      } catch (e) {
        throw new ResultDirError(`result directory ${dir} is not writable (${p}: ${errnoLine(e)})`);
      }
      if (p === abs) {
        recoverResultDir(abs);
        const foreign = foreignEntries(abs);
        const shown = (xs: string[]) => xs.slice(0, 3).join(", ") + (xs.length > 3 ? `, … (${xs.length} in all)` : "");
        // --overwrite replaces files, never folders: `--result_dir . --overwrite` in a project must not empty it
        const folders = foreign.filter((e) => lstatSync(join(abs, e)).isDirectory());
        if (folders.length) throw new ResultDirError(`result directory ${dir} holds folders no run wrote (${shown(folders)}); a run never deletes folders: choose another result directory`);
        if (foreign.length && !opts.overwrite) {
          const older = opts.ownNames && !existsSync(join(abs, MANIFEST)) && foreign.every((f) => opts.ownNames!.test(f)) ? " (named like a run's, but with no manifest they may be your own, or an older version's run)" : "";
          throw new ResultDirError(`result directory ${dir} holds files no earlier run wrote (${shown(foreign)})${older}; choose another folder or pass --overwrite to replace them`);
        }
      }
      return;
    }
    if (isLink) throw new ResultDirError(`result directory ${dir} cannot be created: ${p} is a symlink to a missing folder`);
    const up = dirname(p);
    if (up === p) throw new ResultDirError(`result directory ${dir} cannot be created`);
    p = up;
  }
}

/** One line for a failed file-system call: "EPERM: operation not permitted". */
function errnoLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, "").split(",")[0]}` : String(err.message ?? e);
}

/**
 * Creates `dir` (with its parents) unless it exists; throws ResultDirError (one line, naming `what`)
 * unless it then is a writable folder. For folders that collect results (the sweep's --out).
 */
export function ensureWritableDir(dir: string, what: string): void {
  if (dir === "") throw new ResultDirError(`${what} must not be empty`);
  checkLength(resolve(dir), `${what} ${dir}`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ResultDirError(`${what} ${dir} is not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ResultDirError(`${what} ${dir} cannot be created (${errnoLine(e)})`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new ResultDirError(`${what} ${dir} is not writable (${errnoLine(e)})`);
  }
}

/**
 * Throws ResultDirError (one line, naming `what`) unless `dir` is a writable folder or could be
 * created as one: its nearest existing ancestor a folder this process may write in (a read-only
 * file system, a file in the way, no permission are all said here, before any work). Creates nothing.
 */
export function checkOutputDir(dir: string, what: string): void {
  if (dir === "") throw new ResultDirError(`${what} must not be empty`);
  const abs = resolve(dir);
  checkLength(abs, `${what} ${dir}`);
  for (let p = abs; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") throw new ResultDirError(`${what} ${dir} cannot be created (${errnoLine(e)})`);
      if (lstatExists(p)) throw new ResultDirError(`${what} ${dir} cannot be created: ${p} is a symlink to a missing folder`);
      if (dirname(p) === p) throw new ResultDirError(`${what} ${dir} cannot be created`);
      continue;
    }
    if (!st.isDirectory()) throw new ResultDirError(p === abs ? `${what} ${dir} is not a directory` : `${what} ${dir} cannot be created: ${p} is not a directory`);
    try {
      accessSync(p, constants.W_OK | constants.X_OK);
      // access() says yes to root everywhere (/proc, /sys): make and remove an empty folder to be sure
      rmdirSync(mkdtempSync(join(p, ".dgc-write-probe-")));
    } catch (e) {
      throw new ResultDirError(`${what} ${dir} is not writable (${p}: ${errnoLine(e)})`);
    }
    return;
  }
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Throws ResultDirError (one line) unless `dir` is an existing folder (to read results from). */
export function requireDir(dir: string, what: string): void {
  if (dir === "") throw new ResultDirError(`${what} must not be empty`);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new ResultDirError(`${what} ${dir} cannot be read (${errnoLine(e)})`);
  }
  if (!st.isDirectory()) throw new ResultDirError(`${what} ${dir} is not a directory`);
}

/**
 * Replaces `target`'s contents by the committed folder's (idempotent, so a killed commit can be
 * redone). Removes or replaces only what the commit may (its `replaces`: the previous run's files
 * and those approved at the start; a commit from before that list: the previous manifest's files).
 * A file of someone else's that took a name of the run's after the commit point stays, and the run's
 * file of that name is dropped. Returns the entries it left alone that no run wrote.
 */
function applyCommit(target: string, committed: string, pause = false): string[] {
  const manifest = join(committed, MANIFEST);
  const kept: string[] = [];
  if (existsSync(manifest)) {
    const m = readManifestFull(manifest);
    const files = new Set(m.files);
    const replaces = new Set(m.replaces ?? readManifest(join(target, MANIFEST)));
    for (const e of readdirSync(target).sort()) {
      if (internal(e) || files.has(e)) continue;
      if (replaces.has(e) && !lstatSync(join(target, e)).isDirectory()) rmSync(join(target, e), { force: true });
      else kept.push(e);
    }
    let moved = 0;
    for (const f of m.files) {
      if (!existsSync(join(committed, f))) continue; // moved before a kill
      if (existsSync(join(target, f)) && !replaces.has(f)) {
        files.delete(f); // appeared after the commit point: the user's, kept
        kept.push(f);
        continue;
      }
      renameSync(join(committed, f), join(target, f));
      if (pause && ++moved === 1) testPauseSync("commit");
    }
    // last: once it is in place, the move is complete
    writeFileSync(join(committed, `${MANIFEST}.tmp`), manifestText([...files]));
    renameSync(join(committed, `${MANIFEST}.tmp`), join(target, MANIFEST));
  }
  rmSync(committed, { recursive: true, force: true });
  return kept.sort();
}

function manifestText(files: string[], replaces?: string[]): string {
  return `${JSON.stringify({ written: new Date().toISOString(), files, ...(replaces ? { replaces } : {}) }, null, 1)}\n`;
}

/** Finishes the commits and removes the staging folders of dead processes (this host's only). Returns what it did. */
export function recoverResultDir(target: string): string[] {
  const done: string[] = [];
  if (!existsSync(target)) return done;
  // a live process with the owner's pid that started after the folder last changed is not its owner (pid reused)
  const aliveAt = (e: string) => {
    try {
      return lstatSync(join(target, e)).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const stale = readdirSync(target).sort().map((e) => STAGING.exec(e)).filter((m): m is RegExpExecArray => m !== null && ownerDead(m[2], Number(m[3]), { aliveAt: aliveAt(m[0]) }));
  if (!stale.length) return done;
  const lock = waitForLock(join(target, COMMIT_LOCK), target); // a live run's commit is not to be interleaved with
  try {
    for (const [e, kind] of stale) {
      if (kind === "commit") {
        applyCommit(target, join(target, e));
        done.push(`finished the interrupted commit ${e}`);
      } else {
        rmSync(join(target, e), { recursive: true, force: true });
        done.push(`removed the stale staging folder ${e}`);
      }
    }
  } finally {
    lock.release();
  }
  return done;
}

/** Takes `path`'s lock, waiting (synchronously: a commit must not yield to signals) up to a minute for another run's commit. */
function waitForLock(path: string, target: string): HeldLock {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (const t0 = Date.now(); ; Atomics.wait(sleeper, 0, 0, 20)) {
    const attempt = tryLock(path);
    if ("held" in attempt) return attempt.held;
    if (Date.now() - t0 > 60_000) throw new ResultDirError(`result directory ${target}: another run has been committing into it for a minute (${describeOwner(attempt.busy)})`);
  }
}

export class StagedDir {
  readonly target: string;
  readonly staging: string;
  /** What recovery did to the folder before staging (interrupted runs). */
  readonly recovered: string[];
  /** After commit: entries that appeared in the folder during the run, kept (not this run's, not replaced). */
  kept: string[] = [];
  /** Foreign files seen (and so approved, with `overwrite`) at the start: the only ones a commit may replace besides the previous run's. */
  private readonly approved: string[];
  private writes = 0;
  private done = false;
  /** The outermost folder this run created (removed again on abort, if empty). */
  private readonly created: string | undefined;
  private readonly unhook: () => void;

  constructor(target: string, opts: ResultDirOptions = {}) {
    checkResultDir(target, opts);
    this.target = resolve(target);
    this.created = mkdirSync(this.target, { recursive: true });
    this.recovered = recoverResultDir(this.target);
    this.approved = opts.overwrite ? foreignEntries(this.target).filter((e) => !lstatSync(join(this.target, e)).isDirectory()) : [];
    this.staging = join(this.target, `.partial-${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(this.staging);
    // Ctrl-C, SIGTERM, SIGHUP or an exit before commit: drop what was staged (signal-exit re-raises the signal)
    this.unhook = onExit(() => this.drop());
  }

  path(name: string): string {
    return join(this.staging, name);
  }

  async write(name: string, data: Buffer | string): Promise<void> {
    if (name.includes("/") || internal(name)) throw new Error(`not a result file name: ${name}`);
    await writeFile(this.path(name), data);
    if (++this.writes === 1) await testPause("write");
  }

  /**
   * Makes the folder hold exactly the staged files (replacing the previous run's), leaving any file
   * that appeared during the run (named in `kept`). Throws ResultDirError, committing nothing, if
   * such a file has the name of one of the run's. Synchronous: signals wait for it.
   */
  commit(): string[] {
    if (this.done) throw new Error("already committed or aborted");
    const names = readdirSync(this.staging).sort();
    const committed = this.staging.replace(/\/\.partial-([^/]+)$/, "/.commit-$1");
    const lock = waitForLock(join(this.target, COMMIT_LOCK), this.target);
    try {
      // what this commit may replace: the previous run's files (another run may have committed since) and those approved at the start
      const replaces = new Set([...readManifest(join(this.target, MANIFEST)), ...this.approved]);
      const clash = names.filter((n) => existsSync(join(this.target, n)) && !replaces.has(n));
      if (clash.length) {
        throw new ResultDirError(`result directory ${this.target}: ${clash.slice(0, 3).join(", ")}${clash.length > 3 ? `, … (${clash.length} in all)` : ""} appeared during the run and would be replaced by this run's files; nothing was committed and they are as they were`);
      }
      writeFileSync(join(this.staging, MANIFEST), manifestText(names, [...replaces].sort()));
      renameSync(this.staging, committed); // the commit point
      this.kept = applyCommit(this.target, committed, true);
    } finally {
      lock.release();
    }
    this.done = true;
    // the exit hook stays (drop() is a no-op now): a signal that came during the synchronous commit
    // is delivered later, and with no listener left Node would drop it; this way the process dies by it
    return names.filter((n) => !this.kept.includes(n)).map((n) => join(this.target, n));
  }

  /** Drops everything staged, and the result folder itself if this run created it and it is empty. */
  abort(): void {
    this.unhook();
    this.drop();
  }

  /** abort() without unhooking (signal-exit's listener list must not change while it runs them). */
  private drop(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.staging, { recursive: true, force: true });
    if (this.created === undefined) return;
    for (let p = this.target; p.startsWith(this.created); p = dirname(p)) {
      try {
        rmdirSync(p);
      } catch {
        return; // not empty: someone else's files are there now
      }
      if (p === this.created) return;
    }
  }
}
