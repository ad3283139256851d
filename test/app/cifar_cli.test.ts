/**
 * dgc_demo on CIFAR-10 (the subset in ../shared/data, or $DGC_CIFAR10_DIR): the DLG paper's LeNet for
 * 3 × 32 × 32 attacked through the same trial as MNIST's, colour PNGs written; bad choices one line, exit 2.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { findCifar10Dir } from "../../lib/data/cifar10";
import { cliRunner } from "../helpers";

const runCli = cliRunner(join(__dirname, "../..", "cli", "dgc_demo.js"));

const dir = findCifar10Dir();

test("dgc_demo --dataset cifar10: L-BFGS DLG on LeNet-CIFAR, colour target and snapshots", { skip: dir ? false : "no CIFAR-10 folder found (../shared/data/cifar-10-subset or $DGC_CIFAR10_DIR)" }, async () => {
  const out = mkdtempSync(join(tmpdir(), "cifar-cli-"));
  try {
    const r = runCli(["--dataset", "cifar10", "--model", "lenet", "--dlg_attack", "True", "--use_dgc", "False", "--attack_optimizer", "lbfgs", "--attack_epoch", "3", "--return_epoch", "1", "--victim_loss", "ce", "--seed", "1", "--result_dir", join(out, "r"), "--data_dir", dir!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dataset='cifar10'/);
    assert.match(r.stdout, /sent 15826 of 15826 gradient entries/);
    assert.equal(r.stdout.match(/^Attack Iteration \d+: /gm)?.length, 3);
    const files = readdirSync(join(out, "r")).filter((f) => f.endsWith(".png")).sort();
    assert.deepEqual(files, ["grid.png", "result_0_0.png", "result_1_0.png", "result_2_0.png", "target_0.png"]);
    const meta = await sharp(readFileSync(join(out, "r", "target_0.png"))).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("dgc_demo --dataset: bad choices are one line, exit 2", () => {
  for (const [args, msg] of [
    [["--dataset", "svhn"], /--dataset.*invalid choice: 'svhn'/],
    [["--dataset", "cifar10", "--model", "linear"], /--model on cifar10 must be lenet .* or convnet .*, got linear/],
  ] as const) {
    const r = runCli([...args, "--dlg_attack", "True", "--result_dir", join(tmpdir(), "never-written")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
});
