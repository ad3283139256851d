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
