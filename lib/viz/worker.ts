/**
 * The background worker of `runInBackground`: runs a task exported by the library, named in the
 * message, and posts its progress reports and its result (or its error) back, tagged with the id.
 */
import { parentPort } from "node:worker_threads";

type Lib = Record<string, unknown>;
let lib: Lib | undefined;

parentPort?.on("message", async (m: { id: number; name: string; args: unknown }) => {
  const post = (msg: Record<string, unknown>) => parentPort!.postMessage({ id: m.id, ...msg });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib ??= require("../index") as Lib;
    const task = lib[m.name];
    if (typeof task !== "function") throw new Error(`no task '${m.name}' in the library`);
    const result = await task(m.args, (progress: Record<string, unknown>) => post({ progress }));
    post({ result });
  } catch (e) {
    post({ error: { name: (e as Error).name ?? "Error", message: (e as Error).message ?? String(e) } });
  }
});
