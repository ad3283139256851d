/**
 * fl on CIFAR-10 (the subset in ../shared/data, or $DGC_CIFAR10_DIR): clients deal the colour training set,
 * the server attacks a colour upload, the PNGs are RGB, the classes are named; IG's box is the data's
 * [0, 1], not MNIST's [−1, 1]; bad choices one line, exit 2, nothing written.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { findCifar10Dir, loadCifar10 } from "../../lib/data/cifar10";
import { splitMean } from "../../lib/data/dataset";
import { FL_DEFAULTS, validateFLConfig, type FLConfig } from "../../lib/trial/fl_config";
import { runFL, setupFL } from "../../lib/trial/fl_run";
import type { MnistSplit } from "../../lib/data/mnist";
import { ssim8, ssim8Rgb } from "../../lib/metrics/readings";
import { cliRunner } from "../helpers";

const runCli = cliRunner(join(__dirname, "../..", "cli", "fl.js"));
const dir = findCifar10Dir();
const skip = dir ? false : "no CIFAR-10 folder found (../shared/data/cifar-10-subset or $DGC_CIFAR10_DIR)";

test("fl --dataset cifar10: a ConvNet federation, IG on a colour upload, RGB PNGs, class names", { skip }, async () => {
  const out = mkdtempSync(join(tmpdir(), "fl-cifar-"));
  try {
    const r = runCli(["--dataset", "cifar10", "--model", "convnet", "--clients", "4", "--rounds", "2", "--dlg_attack", "True", "--attack_method", "ig",
      "--attack_batch_size", "2", "--attack_epoch", "4", "--return_epoch", "2", "--seed", "1", "--data_dir", dir!, "--result_dir", join(out, "r")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dataset='cifar10'/);
    // two rounds, test accuracy on the subset's 846 test images (a multiple of 1/846)
    const accs = [...r.stdout.matchAll(/^round \d, training loss [\d.]+, test acc ([\d.]+)/gm)].map((m) => Number(m[1]));
    assert.equal(accs.length, 2);
    // ConvNet: 3·16·9 + 16 + 16·32·9 + 32 + 32·32·9 + 32 + 2048·10 + 10 parameters, DGC 0.8 sends about a fifth
    assert.match(r.stdout, /of 34826 values\)/);
    const names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"].join("|");
    assert.match(r.stdout, new RegExp(`^classes: victim (${names}), (${names}); the attack's labels (${names}), (${names})$`, "m"));
    assert.match(r.stdout, new RegExp(`^Matched sample 0 \\(label \\d (${names})\\) <- reconstruction \\d: `, "m"));
    const files = readdirSync(join(out, "r")).filter((f) => f.endsWith(".png")).sort();
    assert.deepEqual(files, ["grid.png", "result_0.png", "result_1.png", "target_0.png", "target_1.png"]);
    for (const f of ["target_0.png", "result_1.png"]) {
      const meta = await sharp(readFileSync(join(out, "r", f))).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3], f);
    }
    // the target is a photograph: its channels differ (a grey PNG would have them equal)
    const { data } = await sharp(readFileSync(join(out, "r", "target_0.png"))).raw().toBuffer({ resolveWithObject: true });
    let differ = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) differ++;
    assert.ok(differ > 500, `only ${differ} of 1024 pixels are coloured`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("fl on CIFAR-10: IG's box is the data's [0, 1] (the split's range), not MNIST's [−1, 1]", { skip }, async () => {
  const train = loadCifar10("train", { dataDir: dir });
  const test_ = loadCifar10("test", { dataDir: dir });
  const cfg = validateFLConfig({ ...FL_DEFAULTS, dataset: "cifar10", model: "convnet", clients: 2, rounds: 1, dlg_attack: true, attack_method: "ig", attack_optimizer: "adam", attack_lr: 0.1, victim_loss: "ce", attack_epoch: 5, return_epoch: 5, seed: 3, backend: "cpu" } as FLConfig);
  const ctx = await setupFL(cfg);
  const run = runFL(ctx, { train: train as unknown as MnistSplit, test: test_ as unknown as MnistSplit }, splitMean(train));
  const x = run.attack!.x;
  assert.equal(x.length, 3072);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  // an N(0, 1) start clamped to [0, 1]: both ends are reached, nothing beyond them
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // the records' 8-bit SSIM is the colour one (RGB planes at round(255·x)), not MNIST's ⌊(x + 1)·127.5⌋ grey
  const last = run.attack!.records[run.attack!.records.length - 1];
  const target = run.fed.watched!.target.x;
  assert.equal(last.ssim8, ssim8Rgb(x, target, { batch: 1, height: 32, width: 32 }));
  assert.notEqual(last.ssim8, ssim8(x, target, { batch: 3, height: 32, width: 32 }));
});

test("fl --dataset cifar10: bad choices are one line, exit 2, nothing written", { skip }, () => {
  const never = join(tmpdir(), `fl-cifar-never-${process.pid}`);
  for (const [args, msg] of [
    [["--model", "linear"], /--model on cifar10 must be lenet .* or convnet .*, got linear/],
    // the ReLU ConvNet takes colour images only; MNIST keeps linear and the seed's LeNet
    [["--model", "convnet", "--dataset", "mnist"], /--model must be linear or lenet, got convnet/],
    // the subset has 4,660 training images (the release's 50,000 pass the first check)
    [["--model", "lenet", "--clients", "5000"], /--clients must be an integer from 1 to 4660 .*got 5000/],
    [["--model", "lenet", "--clients", "4", "--attack_batch_size", "2000"], /--attack_batch_size must be an integer from 1 to 1165 .*got 2000/],
    [["--model", "convnet", "--attack_method", "analytic"], /analytic needs a first layer that is Linear with a bias; convnet's is a convolution/],
    [["--model", "lenet", "--data_dir", join(never, "nowhere")], /the data folder does not exist/],
  ] as const) {
    const r = runCli(["--dataset", "cifar10", "--data_dir", dir!, ...args, "--dlg_attack", "True", "--rounds", "1", "--result_dir", never]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.equal(r.stdout, "");
    assert.equal(existsSync(never), false);
  }
});
