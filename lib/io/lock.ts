/**
 * Exclusive file locks between processes, for work that must run once however many workers
 * share a folder (the sweep's jobs). A lock is a small JSON file naming its owner (host, pid, and
 * where there is a /proc the boot and the process's start time, so a pid reused later is not taken
 * for the owner);
 * it is created with link(2), which either makes the whole file appear at once or fails if
 * one is there, so no reader ever sees a half-written lock. A lock whose owner is a dead process
 * on this host is stale and is taken over; a lock from another host is always respected (its
 * liveness cannot be checked from here), so after a crash of that host remove it by hand.
 */
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";

export interface LockOwner {
  host: string;
  pid: number;
  startedAt: string;
  /** Random per acquisition, so a process can tell its own lock from an older one of the same pid. */
  token: string;
  /** /proc/sys/kernel/random/boot_id when the lock was made (absent without /proc). */
  boot?: string;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22; absent without /proc). */
  start?: number;
}

/** This boot's id, or null without /proc. */
export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux port that matters). */
const USER_HZ = 100;

/**
 * When the process `pid` started: its ticks since boot (/proc/<pid>/stat field 22) and the wall
 * time in ms (boot time from /proc/stat, so ±1 s); null without /proc or if there is no such process.
 */
export function processStart(pid: number): { ticks: number; ms: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return null;
    return { ticks, ms: btime * 1000 + (ticks * 1000) / USER_HZ };
  } catch {
    return null;
  }
}

/**
 * Whether `pid` is a live process on this host (EPERM: alive, another user's). A zombie — killed,
 * not yet reaped, as the children of a sweep killed with its process group stay where PID 1 does not
 * reap — answers signal 0 but is dead: /proc says so where there is one.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true; // no /proc: trust the signal
  }
}

/** What is known of when an owner lived, to tell it from a later process given the same pid. */
export interface OwnerEvidence {
  /** A moment (ms since the epoch) at which the owner was alive: a process that started later is another. */
  aliveAt?: number;
  /** The boot the owner ran in (boot_id) and its start time in ticks since that boot. */
  boot?: string;
  start?: number;
}

/**
 * Whether a process named by (host, pid) is known to be gone: only decidable on this host. A live
 * process with that pid is another one (the pid reused, after a reboot say) when it started after
 * the owner was known to be alive, or in another boot, or at another tick.
 */
export function ownerDead(host: string, pid: number, evidence: OwnerEvidence = {}): boolean {
  if (host !== hostname()) return false;
  const boot = bootId();
  if (evidence.boot && boot && evidence.boot !== boot) return true;
  if (pid !== process.pid && !processAlive(pid)) return true;
  const now = processStart(pid);
  if (!now) return false;
  if (evidence.start !== undefined && evidence.boot && boot === evidence.boot) return now.ticks !== evidence.start;
  // started more than 2 s (boot time is whole seconds) after a moment the owner was alive: not the owner
  return evidence.aliveAt !== undefined && Number.isFinite(evidence.aliveAt) && now.ms > evidence.aliveAt + 2000;
}

/** Whether a lock's owner is known to be gone (ownerDead with what the lock says of its owner). */
export function lockOwnerDead(o: LockOwner): boolean {
  return ownerDead(o.host, o.pid, { aliveAt: Date.parse(o.startedAt), boot: o.boot, start: o.start });
}

export function readLock(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    return typeof o.host === "string" && Number.isInteger(o.pid) && typeof o.token === "string" ? o : null;
  } catch {
    return null;
  }
}

export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** Removes the lock if it is still this one's (idempotent). */
  release(): void;
}

export type LockAttempt = { held: HeldLock } | { busy: LockOwner | null };

function linkNew(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${owner.token}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(owner)}\n`);
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Takes the lock at `path` unless a live process holds it. A stale lock (dead owner on this host —
 * a live process that has the owner's pid but started later is not the owner —
 * or a file at its place that is no lock at all and a minute old) is moved aside first; if what
 * was moved turns out to be a fresh lock someone else took meanwhile, it is put back.
 */
export function tryLock(path: string): LockAttempt {
  const boot = bootId();
  const start = processStart(process.pid)?.ticks;
  const owner: LockOwner = {
    host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), token: randomBytes(6).toString("hex"),
    ...(boot && start !== undefined ? { boot, start } : {}),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (linkNew(path, owner)) {
      return {
        held: {
          path, owner,
          release: () => {
            if (readLock(path)?.token === owner.token) rmSync(path, { force: true });
          },
        },
      };
    }
    const current = readLock(path);
    if (current && !lockOwnerDead(current)) return { busy: current };
    if (!current) {
      if (!existsSync(path)) continue; // released meanwhile
      // link(2) makes every real lock whole, so this file was not written by a sweep: stale once a minute old
      if (Date.now() - statSync(path).mtimeMs < 60_000) return { busy: null };
    }
    const aside = `${path}.stale-${owner.token}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // another worker moved it first
      throw e;
    }
    const moved = readLock(aside);
    if (current ? moved?.token !== current.token : moved !== null) {
      // we took a fresh lock from under its owner: give it back (link fails only if yet another took over)
      try {
        linkSync(aside, path);
      } catch {
        /* the newer lock stands */
      }
      rmSync(aside, { force: true });
      return { busy: moved };
    }
    rmSync(aside, { force: true });
  }
  return { busy: readLock(path) };
}

export function describeOwner(o: LockOwner | null): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.startedAt}` : "another process";
}
