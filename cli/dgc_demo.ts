#!/usr/bin/env node
/**
 * dgc_demo: the original dgc_demo.py's command line. Prints its arguments, then either trains
 * (Examples 3, 4) or runs the DLG attack on the first batch of an untrained model (Examples 1, 2).
 * Bad input: one line on stderr, exit 2, nothing written. Divergence: one line, exit 1.
 */
import { ResultDirError, checkWritableDir } from "../lib/results";
import { DataError } from "../lib/data/idx";
import { DivergenceError } from "../lib/train";
import { argumentsLine, loadData, runTraining, setupRun } from "../lib/demo";
import { parseArgs, UsageError } from "./args";
import { makeProgress } from "./progress";
import { pyFloat } from "../lib/pyfmt";
import type { DemoConfig } from "../lib/config";

function fail(code: number, msg: string): never {
  process.stderr.write(`dgc_demo: error: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let cfg: DemoConfig | null;
  try {
    cfg = parseArgs(process.argv.slice(2));
    if (cfg === null) return;
    if (cfg.dlg_attack) checkWritableDir(cfg.result_dir);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ResultDirError) fail(2, e.message);
    throw e;
  }
  let data;
  try {
    data = loadData(cfg);
  } catch (e) {
    if (e instanceof DataError) fail(2, e.message);
    throw e;
  }
  const epochs = cfg.train_epoch;
  console.log(argumentsLine(cfg));
  const ctx = await setupRun(cfg);
  console.log(`backend: ${ctx.backend}, seed: ${ctx.seed}`);
  if (cfg.dlg_attack) {
    fail(2, "--dlg_attack True is not available yet in this version (the DLG attack is being ported)");
  }
  const bar = makeProgress("train");
  const run = runTraining(ctx, data, {
    log: (line) => console.log(line),
    onBatch: (r, perEpoch) => bar.update(r.epoch * perEpoch + r.batch + 1, epochs * perEpoch, `epoch ${r.epoch} loss ${r.loss.toFixed(3)} acc ${r.acc.toFixed(4)}`),
  });
  bar.stop();
  if (run.testAccuracy !== undefined) console.log(`test accuracy ${pyFloat(run.testAccuracy)}`);
  console.log(`Training cost time in seconds: ${pyFloat(run.seconds)}`);
}

main().catch((e: unknown) => {
  if (e instanceof DivergenceError) fail(1, e.message);
  fail(1, e instanceof Error ? e.message : String(e));
});
