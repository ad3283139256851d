import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, rmSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "../../cli/args";
import { bundledDataDir, loadMnist } from "../../lib/data/mnist";
import { DEFAULTS } from "../../lib/trial/demo_config";
import { gzipSync } from "node:zlib";

const CLI = resolve(__dirname, "../../cli/dgc_demo.js");

export function runCli(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd, env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("defaults and types are the original's; booleans take any prefix of True/False", () => {
  assert.deepEqual(parseArgs([]), DEFAULTS);
  const c = parseArgs(["--use_dgc", "f", "--dlg_attack", "TRUE", "--train_lr", "1e-2", "--train_epoch", "3", "--seed", "5"])!;
  assert.equal(c.use_dgc, false);
  assert.equal(c.dlg_attack, true);
  assert.equal(c.train_lr, 0.01);
  assert.equal(c.train_epoch, 3);
  assert.equal(c.seed, 5);
  assert.equal(parseArgs(["--use_dgc", "Tr"])!.use_dgc, true);
  assert.equal(parseArgs(["--use_dgc=FaLs"])!.use_dgc, false);
});

test("attack flags: the optimizer defaults by method, the learning rate by optimizer, unless given", () => {
  const pick = (args: string[]) => {
    const c = parseArgs(args)!;
    return [c.attack_method, c.attack_optimizer, c.attack_lr, c.victim_loss];
  };
  assert.deepEqual(pick([]), ["dlg", "gd", 0.2, "sse"]);
  assert.deepEqual(pick(["--attack_optimizer", "lbfgs"]), ["dlg", "lbfgs", 1, "sse"]);
  assert.deepEqual(pick(["--attack_optimizer", "lbfgs", "--attack_lr", "0.5"]), ["dlg", "lbfgs", 0.5, "sse"]);
  assert.deepEqual(pick(["--attack_method", "idlg", "--victim_loss", "ce"]), ["idlg", "lbfgs", 1, "ce"]);
  assert.deepEqual(pick(["--attack_method", "ig"]), ["ig", "adam", 0.1, "sse"]);
  assert.deepEqual(pick(["--attack_method", "adaptive", "--attack_optimizer", "gd"]), ["adaptive", "gd", 0.2, "sse"]);
  assert.deepEqual(pick(["--attack_method", "analytic"]), ["analytic", "none", 0.2, "sse"]);
});

test("--attack_method analytic on Example 2: exact reconstruction (PSNR inf), the pixel count, the seed's files", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-analytic-"));
  const r = runCli(["--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--seed", "1", "--attack_method", "analytic", "--result_dir", join(dir, "out")]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /attack_method='analytic', attack_optimizer='none', /);
  assert.match(r.stdout, /^Attack Iteration 0: data_mse_loss = 0\.0, data_psnr = inf, data_ssim = 1\.0, labels_acc = 1\.0$/m);
  assert.match(r.stdout, /^analytic: recovered 784 of 784 pixels exactly \(class column \d\)$/m);
  assert.deepEqual(readdirSync(join(dir, "out")).filter((f) => f.endsWith(".png")).sort(), ["grid.png", "result_0_0.png", "target_0.png"]);
});

test("bad input: one error line on stderr, exit 2, nothing on stdout, nothing created", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-cli-"));
  const bad: string[][] = [
    ["--unknown_flag", "1"],
    ["--train_epoch", "two"],
    ["--train_epoch", "-1"],
    ["--train_batch_size", "0"],
    ["--sparsity", "1"],
    ["--sparsity", "-0.1"],
    ["--train_lr", "0"],
    ["--train_lr", "inf"],
    ["--use_dgc", "yes"],
    ["--attack_batch_size", "0"],
    ["--attack_epoch", "-5"],
    ["--return_epoch", "0"],
    ["--window_size", "0"],
    ["--attack_lr", "-0.2"],
    ["--model", "resnet"],
    ["--dlg_attack", "True", "--result_dir", join(dir, "file.txt", "sub")],
    ["--data_dir", join(dir, "nope")],
    ["--attack_method", "gip"],
    ["--attack_optimizer", "sgd"],
    ["--victim_loss", "mse"],
    ["--dlg_attack", "True", "--attack_method", "analytic", "--model", "lenet"],
    ["--dlg_attack", "True", "--attack_method", "analytic", "--attack_batch_size", "2"],
    ["--dlg_attack", "True", "--attack_method", "analytic", "--attack_optimizer", "lbfgs"],
    ["--dlg_attack", "True", "--attack_method", "idlg", "--attack_optimizer", "none"],
  ];
  writeFileSync(join(dir, "file.txt"), "x");
  for (const args of bad) {
    const r = runCli(["--result_dir", join(dir, "out"), ...args], dir);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    assert.equal(r.stdout, "", `${args.join(" ")}: stdout`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], /^dgc_demo: error: /);
    assert.ok(!existsSync(join(dir, "out")), `${args.join(" ")} created the result dir`);
  }
});

test("corrupt and truncated data files are reported by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-data-"));
  mkdirSync(join(dir, "d"));
  writeFileSync(join(dir, "d", "train-images-idx3-ubyte"), Buffer.from([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]));
  const r = runCli(["--data_dir", join(dir, "d")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /train-images-idx3-ubyte: \d+ bytes, expected 47040016 .*truncated/);
  rmSync(join(dir, "d", "train-images-idx3-ubyte"));
  writeFileSync(join(dir, "d", "train-images-idx3-ubyte.gz"), "not gzip");
  const r2 = runCli(["--data_dir", join(dir, "d")]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /train-images-idx3-ubyte.gz: not a valid gzip file/);
});

test("--help prints usage and exits 0", () => {
  const r = runCli(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--train_epoch <int>/);
  assert.match(r.stdout, /--sparsity <float>/);
});

test("a training run whose loss becomes NaN stops with one clear line and exit 1", () => {
  const r = runCli(["--use_dgc", "False", "--train_lr", "1e38", "--train_epoch", "1", "--seed", "1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^dgc_demo: error: training diverged: loss is NaN at epoch 0, batch id \d+$/);
  assert.doesNotMatch(r.stdout, /cost time/);
});

test("--data_dir reads the user's own IDX files, raw or gzipped", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-gz-"));
  const src = bundledDataDir();
  for (const f of ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) writeFileSync(join(dir, `${f}.gz`), gzipSync(readFileSync(join(src, f))));
  const ours = loadMnist("test", { dataDir: dir });
  const bundled = loadMnist("test");
  assert.deepEqual(ours.labels, bundled.labels);
  assert.deepEqual(ours.images, bundled.images);
  assert.equal(ours.images[0], -1);
});
