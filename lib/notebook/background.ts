/**
 * Long notebook cells run off the kernel's thread, in a worker thread, so the kernel stays
 * responsive while they compute.
 *
 * Why: tslab (1.0.22) runs a cell on the thread that also speaks to Jupyter over ZeroMQ. A cell
 * that computes synchronously for 30 s blocks that thread: the "busy" status, progress updates and
 * images are queued until it returns (JupyterLab shows the kernel Idle meanwhile), and SIGINT —
 * how Jupyter interrupts — is only seen once the thread is free. tslab's own SIGINT handler then
 * merely stops *awaiting* the cell ("Interrupted asynchronously") while the computation goes on.
 * With the work in a worker the kernel thread only awaits: status and displays flow at once, and
 * an interrupt terminates the worker — the computation really stops, the cell fails with one
 * line, and the kernel stays usable.
 *
 * A task is a function exported by a module (default: background_tasks.ts) taking plain data and a
 * `progress` callback and returning plain data (structured-clonable: numbers, strings, typed
 * arrays). Task modules need not load the drawing code (sharp): images are drawn on the cell's side.
 * The worker is kept between cells (the library, the backend and MNIST load once per kernel).
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";

/** What a task reports while it runs (any structured-clonable fields). */
export type TaskProgress = Record<string, unknown>;
export type Task<A, R> = (args: A, progress: (p: TaskProgress) => void) => R | Promise<R>;

/** Raised in the cell when the user interrupts a background task. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Interrupted";
    this.stack = `Interrupted: ${message}`; // tslab prints the stack: keep it to one line
  }
}

let worker: Worker | null = null;
let nextId = 0;

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(join(__dirname, "worker.js"));
    worker.unref(); // never keeps a process alive
    worker.on("exit", () => (worker = null));
  }
  return worker;
}

/** Stops the background worker (the next task starts a fresh one). */
export async function stopBackground(): Promise<void> {
  const w = worker;
  worker = null;
  await w?.terminate();
}

/**
 * Runs the library's task `name` in the background worker. `onProgress` sees each report;
 * while the task runs, SIGINT (Jupyter's Interrupt) terminates the worker and rejects with
 * InterruptedError, whose message `describeStop()` may make specific ("at iteration 340 of 2000").
 */
export async function runInBackground<A, R>(
  name: string,
  args: A,
  onProgress?: (p: TaskProgress) => void,
  describeStop: () => string = () => "stopped",
  /** The module exporting the task (an absolute path, or relative to this folder). */
  module = "./background_tasks",
): Promise<R> {
  // Leave the cell's synchronous part first: tslab runs it with vm's breakOnSigint, whose watchdog
  // resets SIGINT to the default action when it ends, so a listener added before then is dead and
  // the next Interrupt kills the kernel (seen with Node 20: the process exits on SIGINT).
  await new Promise((r) => setImmediate(r));
  const w = getWorker();
  const id = ++nextId;
  // tslab's SIGINT listener would only stop awaiting; while we run, ours stops the work itself
  const saved = process.listeners("SIGINT");
  return new Promise<R>((resolve, reject) => {
    const done = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
      process.off("SIGINT", onSigint);
      for (const l of saved) if (!process.listeners("SIGINT").includes(l)) process.on("SIGINT", l as NodeJS.SignalsListener);
    };
    const onMessage = (m: { id: number; progress?: TaskProgress; result?: R; error?: { name: string; message: string } }) => {
      if (m.id !== id) return;
      if (m.progress) onProgress?.(m.progress);
      else if (m.error) {
        done();
        reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      } else {
        done();
        resolve(m.result as R);
      }
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const onExit = (code: number) => {
      done();
      reject(new Error(`the background worker exited (code ${code})`));
    };
    const onSigint = () => {
      done();
      void stopBackground();
      reject(new InterruptedError(`${describeStop()}; the background computation was stopped, the kernel is ready`));
    };
    for (const l of saved) process.off("SIGINT", l as NodeJS.SignalsListener);
    process.on("SIGINT", onSigint);
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
    w.postMessage({ id, name, args, module: module.startsWith(".") ? join(__dirname, module) : module });
  });
}
