/**
 * The background worker of `runInBackground`: runs a task exported by a module (by default
 * background_tasks.js), named in the message, and posts its progress
 * reports and its result (or its error) back, tagged with the id.
 */
import { parentPort } from "node:worker_threads";

parentPort?.on("message", async (m: { id: number; name: string; args: unknown; module: string }) => {
  const post = (msg: Record<string, unknown>) => parentPort!.postMessage({ id: m.id, ...msg });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const task = (require(m.module) as Record<string, unknown>)[m.name];
    if (typeof task !== "function") throw new Error(`no task '${m.name}' in ${m.module}`);
    const result = await task(m.args, (progress: Record<string, unknown>) => post({ progress }));
    post({ result });
  } catch (e) {
    post({ error: { name: (e as Error).name ?? "Error", message: (e as Error).message ?? String(e) } });
  }
});
