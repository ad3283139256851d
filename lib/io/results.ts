/**
 * The result-directory rule, shared by every command that writes a folder of results (dgc_demo,
 * and the newer CLIs through `StagedDir`):
 * 1. Files are staged inside the target folder itself, in `.partial-<host>-<pid>-<random>/`, so they
 *    lie on the target's own file system (a mount point, a symlink into tmpfs, a writable folder in
 *    a read-only parent) and every move into place is a rename, never a copy.
 * 2. A run's folder holds that run only: committing removes what the previous run left. A folder
 *    holding anything no earlier run wrote (no manifest `.results.json`, or files it does not list)
 *    is refused unless `overwrite` — then its files are replaced. Folders are never deleted: a
 *    result directory holding a folder no run wrote is refused, `overwrite` or not.
 * 3. All or nothing: commit first renames the staging folder to `.commit-…` (the commit point), then
 *    removes the old files and moves the new ones in. A process killed (even with SIGKILL) in the
 *    middle leaves that `.commit-…` folder and the next run into the folder finishes the move
 *    before anything else (roll forward); `.partial-…` folders of dead processes are deleted.
 *    SIGINT, SIGTERM and SIGHUP while staging delete the staging folder (and a result folder this
 *    run created) before the process dies; the commit itself is synchronous, so they cannot cut it.
 *    Commits into one folder take turns under `.results.lock`, so two runs never interleave moves.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { onExit } from "signal-exit";
import { describeOwner, ownerDead, tryLock, type HeldLock } from "./lock";

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
  /** Names the command writes: such files count as an earlier run's even without a manifest (folders from before manifests). */
  ownNames?: RegExp;
}

/** A manifest's file names; only plain names count (a crafted "../x" must not move files outside the folder). */
function readManifest(file: string): string[] {
  const plain = (f: unknown): f is string => typeof f === "string" && f !== "" && f !== "." && f !== ".." && !/[/\\]/.test(f) && !internal(f);
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as { files?: unknown };
    return Array.isArray(m.files) ? m.files.filter(plain) : [];
  } catch {
    return [];
  }
}

/** Entries of a result folder that no run wrote: not staging, not listed by its or a pending commit's manifest. */
export function foreignEntries(dir: string, ownNames?: RegExp): string[] {
  const entries = readdirSync(dir);
  const ours = new Set(readManifest(join(dir, MANIFEST)));
  for (const e of entries) if (e.startsWith(".commit-")) for (const f of readManifest(join(dir, e, MANIFEST))) ours.add(f);
  return entries.filter((e) => !internal(e) && !ours.has(e) && !ownNames?.test(e)).sort();
}

/**
 * Throws ResultDirError (one line) unless `dir` is, or can be created as, a writable folder that
 * a run may fill: empty, an earlier run's, or anything with `overwrite`. Reads only.
 */
export function checkResultDir(dir: string, opts: ResultDirOptions = {}): void {
  if (dir === "") throw new ResultDirError("result directory must not be empty");
  const abs = resolve(dir);
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
      } catch {
        throw new ResultDirError(`result directory ${dir} is not writable (${p})`);
      }
      if (p === abs) {
        const foreign = foreignEntries(abs, opts.ownNames);
        const shown = (xs: string[]) => xs.slice(0, 3).join(", ") + (xs.length > 3 ? `, … (${xs.length} in all)` : "");
        // --overwrite replaces files, never folders: `--result_dir . --overwrite` in a project must not empty it
        const folders = foreign.filter((e) => lstatSync(join(abs, e)).isDirectory());
        if (folders.length) throw new ResultDirError(`result directory ${dir} holds folders no run wrote (${shown(folders)}); a run never deletes folders: choose another result directory`);
        if (foreign.length && !opts.overwrite) {
          throw new ResultDirError(`result directory ${dir} holds files no earlier run wrote (${shown(foreign)}); choose another folder or pass --overwrite to replace them`);
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

/** Replaces `target`'s contents by the committed folder's (idempotent, so a killed commit can be redone). */
function applyCommit(target: string, committed: string): void {
  const manifest = join(committed, MANIFEST);
  if (existsSync(manifest)) {
    const files = new Set(readManifest(manifest));
    for (const e of readdirSync(target)) {
      if (!internal(e) && !files.has(e) && !lstatSync(join(target, e)).isDirectory()) rmSync(join(target, e), { force: true });
    }
    for (const f of files) if (existsSync(join(committed, f))) renameSync(join(committed, f), join(target, f));
    renameSync(manifest, join(target, MANIFEST)); // last: once it is in place, the move is complete
  }
  rmSync(committed, { recursive: true, force: true });
}

/** Finishes the commits and removes the staging folders of dead processes (this host's only). Returns what it did. */
export function recoverResultDir(target: string): string[] {
  const done: string[] = [];
  if (!existsSync(target)) return done;
  const stale = readdirSync(target).sort().map((e) => STAGING.exec(e)).filter((m): m is RegExpExecArray => m !== null && ownerDead(m[2], Number(m[3])));
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
  private done = false;
  /** The outermost folder this run created (removed again on abort, if empty). */
  private readonly created: string | undefined;
  private readonly unhook: () => void;

  constructor(target: string, opts: ResultDirOptions = {}) {
    checkResultDir(target, opts);
    this.target = resolve(target);
    this.created = mkdirSync(this.target, { recursive: true });
    this.recovered = recoverResultDir(this.target);
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
  }

  /** Makes the folder hold exactly the staged files (replacing the previous run's). Synchronous: signals wait for it. */
  commit(): string[] {
    if (this.done) throw new Error("already committed or aborted");
    const names = readdirSync(this.staging).sort();
    writeFileSync(join(this.staging, MANIFEST), `${JSON.stringify({ written: new Date().toISOString(), files: names }, null, 1)}\n`);
    const committed = this.staging.replace(/\/\.partial-([^/]+)$/, "/.commit-$1");
    const lock = waitForLock(join(this.target, COMMIT_LOCK), this.target);
    try {
      renameSync(this.staging, committed); // the commit point
      applyCommit(this.target, committed);
    } finally {
      lock.release();
    }
    this.done = true;
    this.unhook();
    return names.map((n) => join(this.target, n));
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
