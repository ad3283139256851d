/**
 * `fl` attacking a FedAvg upload: the run reconstructs and writes its files, says what the attacker
 * knows; bad FedAvg input is one line, exit 2, and nothing written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseFLArgs } from "../../cli/fl_args";
import { parseArgs } from "../../cli/args";
import { FL_DEFAULTS, resolveFLDefaults } from "../../lib/trial/fl_config";

const FL = resolve(__dirname, "../../cli/fl.js");
const runFl = (args: string[]) => spawnSync(process.execPath, [FL, ...args], { encoding: "utf8" });

test("fl --local_steps 5 --local_batch 1 --dlg_attack True: the FedAvg attacker reconstructs from Δ and writes its files", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-fedavg-"));
  const r = runFl([
    "--clients", "1", "--rounds", "1", "--local_steps", "5", "--local_batch", "1", "--dlg_attack", "True", "--attack_method", "ig",
    "--model", "linear", "--seed", "1", "--use_dgc", "False", "--attack_epoch", "4", "--return_epoch", "2", "--result_dir", join(dir, "out"),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^FedAvg attacker knows η = 0\.001, μ = 0\.9, E = 5, b = 1, n = 1, loss ce, θ_0; data order not known \(index order assumed\)$/m);
  assert.match(r.stdout, /^attack ig on client 0, round 0: data_mse_loss = .*labels_acc = 1\.0;/m);
  assert.deepEqual(readdirSync(join(dir, "out")).filter((f) => !f.startsWith(".")).sort(), ["grid.png", "result_0.png", "target_0.png"]);
});

// the issue-23 command (docs/fedavg.md)
const ISSUE = ["--clients", "1", "--rounds", "1", "--local_steps", "5", "--local_batch", "1", "--dlg_attack", "True", "--attack_method", "ig", "--model", "lenet", "--seed", "1", "--result_dir", "unused"];

test("command lines: on LeNet ig and adaptive default to L-BFGS (lr 1, 100 steps); Linear, dlg, idlg and given flags keep theirs", () => {
  const pick = (c: { attack_optimizer: string; attack_lr: number; attack_epoch: number } | null) => c && [c.attack_optimizer, c.attack_lr, c.attack_epoch];
  assert.deepEqual(pick(parseFLArgs(ISSUE)), ["lbfgs", 1, 100]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_method", "adaptive"])), ["lbfgs", 1, 100]);
  // the history attacker's inversions are adaptive's (fl_config.ts HISTORY_INVERSION)
  assert.deepEqual(pick(parseFLArgs(["--clients", "1", "--rounds", "12", "--dlg_attack", "True", "--attack_method", "history", "--model", "lenet"])), ["lbfgs", 1, 100]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_epoch", "7"])), ["lbfgs", 1, 7]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_lr", "0.5"])), ["lbfgs", 0.5, 100]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_optimizer", "adam"])), ["adam", 0.1, 2000]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--model", "linear"])), ["adam", 0.1, 2000]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_method", "dlg"])), ["gd", 0.2, 2000]);
  assert.deepEqual(pick(parseFLArgs([...ISSUE, "--attack_method", "idlg"])), ["lbfgs", 1, 2000]);
  assert.deepEqual(pick(parseArgs(["--dlg_attack", "True", "--model", "lenet", "--attack_method", "adaptive"])), ["lbfgs", 1, 100]);
  assert.deepEqual(pick(parseArgs(["--dlg_attack", "True", "--attack_method", "adaptive"])), ["adam", 0.1, 2000]);
  // the studies name their optimizers: without byModel the method's paper default stays
  const study = resolveFLDefaults({ ...FL_DEFAULTS, model: "lenet", attack_method: "ig" }, {});
  assert.deepEqual(pick(study), ["adam", 0.1, 2000]);
});

test("the issue-23 command on LeNet without DGC: the default L-BFGS recovers the image (E = 5, b = 1)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-fedavg-lenet-"));
  // 12 of the default 100 steps: L-BFGS stalls by step 10 here (docs/fedavg.md), the rest cost time only
  const r = runFl([...ISSUE.slice(0, -2), "--use_dgc", "False", "--attack_epoch", "12", "--return_epoch", "6", "--result_dir", join(dir, "out")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /attack_epoch=12, .*attack_lr=1\.0, attack_method='ig', attack_optimizer='lbfgs'/);
  const m = /^attack ig on client 0, round 0: .*data_psnr = ([-\d.e]+), .*; mean image ([-\d.e]+) dB; recovered$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[1]) >= Number(m[2]) + 3 && Number(m[1]) > 15, `PSNR ${m[1]} dB, mean image ${m[2]} dB`);
  assert.deepEqual(readdirSync(join(dir, "out")).filter((f) => !f.startsWith(".")).sort(), ["grid.png", "result_0.png", "target_0.png"]);
});

test("fl: bad FedAvg input is one line, exit 2, nothing written", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-fedavg-bad-"));
  const attack = ["--dlg_attack", "True", "--clients", "1", "--rounds", "1"];
  for (const [bad, what] of [
    [["--local_steps", "0"], /--local_steps/],
    [["--local_steps", "1001"], /--local_steps/],
    [[...attack, "--local_steps", "3", "--local_batch", "0"], /--local_batch/],
    [[...attack, "--local_steps", "3", "--local_batch", "4", "--attack_batch_size", "2"], /--local_batch 4 is more than the client's 2 images/],
    [[...attack, "--local_steps", "3", "--local_lr", "0"], /--local_lr/],
    [[...attack, "--local_steps", "3", "--local_momentum", "1"], /--local_momentum/],
    [[...attack, "--local_batch", "1"], /--local_batch and --local_lr apply to FedAvg/],
    [[...attack, "--local_steps", "3", "--attack_method", "analytic"], /analytic reads one gradient; a FedAvg delta of 3 local steps/],
    [[...attack, "--local_steps", "3", "--attack_method", "analytic", "--attack_optimizer", "none"], /analytic reads one gradient; a FedAvg delta of 3 local steps/],
    [["--local_steps", "-1"], /--local_steps must be an integer from 1 to 1000, got -1/],
    [["--local_steps", "2.5"], /--local_steps <int>' argument '2\.5' is invalid/],
    [[...attack, "--local_steps", "3", "--local_batch", "-2"], /--local_batch must be an integer >= 1/],
    [[...attack, "--local_steps", "3", "--local_batch", "2"], /--local_batch 2 is more than the client's 1 image \(/],
    [[...attack, "--local_steps", "3", "--local_lr", "inf"], /--local_lr must be a finite number > 0/],
    [[...attack, "--local_steps", "3", "--local_momentum", "-0.1"], /--local_momentum must be in \[0, 1\)/],
    [["--clients", "1", "--rounds", "1", "--local_steps", "3", "--local_batch", "1"], /need --dlg_attack True/],
    [["--clients", "1", "--rounds", "1", "--local_steps", "3", "--local_lr", "0.1"], /need --dlg_attack True/],
  ] as [string[], RegExp][]) {
    const out = join(dir, "out");
    const r = runFl([...bad, "--result_dir", out]);
    assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^fl: error: /);
    assert.match(r.stderr, what);
    assert.ok(!existsSync(out), `${bad.join(" ")}: ${out} written`);
  }
});
