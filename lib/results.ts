/**
 * Result files are staged in a hidden sibling folder and moved into the result directory only
 * when the whole run succeeded, so a failed or diverged run leaves nothing half-written. Each
 * move is a rename (atomic on one file system).
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import writeFileAtomic from "write-file-atomic";

export class ResultDirError extends Error {}

/** Throws ResultDirError (one line) unless `dir` exists as a writable folder or can be created. */
export function checkWritableDir(dir: string): void {
  let p = resolve(dir);
  for (;;) {
    if (existsSync(p)) {
      if (!statSync(p).isDirectory()) throw new ResultDirError(`result directory ${dir} cannot be created: ${p} is not a directory`);
      try {
        accessSync(p, constants.W_OK | constants.X_OK);
      } catch {
        throw new ResultDirError(`result directory ${dir} is not writable (${p})`);
      }
      return;
    }
    const up = dirname(p);
    if (up === p) throw new ResultDirError(`result directory ${dir} cannot be created`);
    p = up;
  }
}

export class StagedDir {
  readonly staging: string;
  private done = false;
  /** The outermost folder this object created for staging, removed again on abort. */
  private readonly created: string | undefined;

  constructor(readonly target: string) {
    checkWritableDir(target);
    const parent = resolve(target, "..");
    this.created = mkdirSync(parent, { recursive: true });
    this.staging = mkdtempSync(join(parent, `.${basename(resolve(target))}.partial-`));
  }

  path(name: string): string {
    return join(this.staging, name);
  }

  async write(name: string, data: Buffer | string): Promise<void> {
    await writeFileAtomic(this.path(name), data);
  }

  /** Moves every staged file into the target folder (created if needed). */
  commit(): string[] {
    if (this.done) throw new Error("already committed");
    mkdirSync(this.target, { recursive: true });
    const names = readdirSync(this.staging).sort();
    for (const n of names) renameSync(join(this.staging, n), join(this.target, n));
    this.done = true;
    rmSync(this.staging, { recursive: true, force: true });
    return names.map((n) => join(this.target, n));
  }

  /** Drops everything staged. */
  abort(): void {
    this.done = true;
    rmSync(this.created ?? this.staging, { recursive: true, force: true });
  }
}
