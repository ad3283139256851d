/**
 * dgc_demo's error paths: a terminal left as it was found (cursor, line wrap) with the error on a
 * line of its own; divergence in the very last step; learning rates float32 cannot hold; input
 * checks (attack batch bound, seeds beyond 2^53, a folder or a lone .gz in place of a data file,
 * a mistyped flag) and stdout that cannot be written (a full disk, a closed pipe).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { DivergenceError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import { accuracy, train } from "../../lib/optim/train";
import { makeModel } from "../../lib/models/registry";
import { makeChannel, seedDefense } from "../../lib/threat/channel/registry";
import { tf, variableFrom } from "../../lib/core/tf";
import { type MnistSplit } from "../../lib/data/mnist";
import { assertStdoutGuarded, cliRunner, inTerminal, screen, useBackend } from "../helpers";

before(useBackend);

const CLI = resolve(__dirname, "../../cli/dgc_demo.js");
const run = cliRunner(CLI);
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `dgc-rel-${name}-`));

test("on a terminal: cursor and line wrap never switched off, the error line stands alone", (t) => {
  const r = inTerminal(t, `${process.execPath} ${CLI} --use_dgc False --train_lr 1e38 --train_epoch 1 --seed 1`);
  if (!r) return;
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /train \[/, "no progress bar was drawn: not a terminal?");
  for (const [seq, what] of [["\x1b[?25l", "hides the cursor"], ["\x1b[?7l", "turns line wrap off"]]) assert.ok(!r.stdout.includes(seq), `the bar ${what}`);
  const shown = screen(r.stdout);
  assert.ok(shown.some((l) => /^dgc_demo: error: training diverged: loss is NaN at epoch 0, batch id \d+$/.test(l)), `screen:\n${shown.join("\n")}`);
});

/** n images of random ±1 pixels, every label 0. */
function fakeSplit(n: number): MnistSplit {
  const rng = new Rng(3);
  return { split: "train", n, images: Float32Array.from({ length: n * 784 }, () => (rng.uniform() < 0.5 ? -1 : 1)), labels: new Uint8Array(n) };
}

test("divergence in the last step (finite loss, non-finite weights after it) is an error, not a result", () => {
  const model = makeModel("linear");
  // equal logits of 3.3e38: the loss is finite (0), but one step of lr 1e38 pushes b[0] past float32's range
  const params = [variableFrom(tf.zeros([784, 10]), true), variableFrom(tf.fill([10], 3.3e38), true)];
  const opt = makeChannel(seedDefense(false, 0.8), 1e38, new Rng(0));
  const data = fakeSplit(64);
  assert.throws(() => train(model, params, opt, data, { epochs: 1, batchSize: 64, rng: new Rng(1) }), (e: unknown) => e instanceof DivergenceError && /non-finite weights after the last step \(epoch 0, batch id 0\)/.test(e.message));
  // finite weights too large for float32 logits: no accuracy is made up from ±Inf
  params[0].assign(tf.fill([784, 10], 3e38));
  params[1].assign(tf.zeros([10]));
  assert.throws(() => accuracy(model, params, data), /logits are not finite/);
  tf.dispose([...params]);
  opt.dispose();
});

test("bad input: one line, exit 2, for learning rates beyond float32, attack batches beyond the training set, seeds beyond 2^53, a mistyped flag", () => {
  const cases: [string[], RegExp][] = [
    [["--train_epoch", "1", "--train_batch_size", "60000", "--train_lr", "1e39", "--use_dgc", "f"], /--train_lr must be a number > 0 within float32's range/],
    [["--train_lr", "1e-50"], /--train_lr must be a number > 0 within float32's range/],
    [["--dlg_attack", "t", "--attack_lr", "4e38"], /--attack_lr must be a number > 0 within float32's range/],
    [["--dlg_attack", "t", "--attack_batch_size", "100000"], /--attack_batch_size must be an integer from 1 to 60000/],
    [["--train_batch_size", "100000"], /--train_batch_size must be an integer from 1 to 60000 \(the training set\), got 100000/],
    [["--seed", "9007199254740993"], /beyond 2\^53 − 1/],
    [["--train_rl", "0.1"], /^dgc_demo: error: unknown option '--train_rl' \(did you mean --train_lr\?\)$/],
  ];
  const dir = tmp("bad");
  for (const [args, want] of cases) {
    const r = run([...args, "--result_dir", join(dir, "out")]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], want);
  }
  assert.equal(run(["--seed", "9007199254740991", "--help"]).code, 0, "2^53 − 1 itself is a seed");
  // a result folder access() calls writable for root but where nothing can be made (/proc): refused before any work
  const proc = run(["--dlg_attack", "True", "--attack_epoch", "2", "--result_dir", "/proc/dgc-nowhere"]);
  assert.equal(proc.code, 2, proc.stderr);
  assert.equal(proc.stdout, "", "nothing ran");
  assert.match(proc.stderr, /^dgc_demo: error: result directory \/proc\/dgc-nowhere is not writable \(\/proc: .+\)\n$/);
});

test("data files: a folder in a file's place and a lone .gz are named in the message", () => {
  const dir = tmp("data");
  mkdirSync(join(dir, "train-images-idx3-ubyte"));
  const r = run(["--data_dir", dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `dgc_demo: error: ${join(dir, "train-images-idx3-ubyte")}: is a directory, not an IDX file\n`);
  writeFileSync(join(dir, "plain"), "x");
  const r3 = run(["--data_dir", join(dir, "plain")]);
  assert.equal(r3.code, 2);
  assert.equal(r3.stderr, `dgc_demo: error: ${join(dir, "plain")}: is a file; the data folder must be a directory holding the IDX files\n`);
  const gz = tmp("gz");
  writeFileSync(join(gz, "train-images-idx3-ubyte.gz"), gzipSync(Buffer.from([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 1])));
  const r2 = run(["--data_dir", gz]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, new RegExp(`^dgc_demo: error: ${join(gz, "train-images-idx3-ubyte.gz")} \\(uncompressed\\): 17 bytes, expected 47040016 .*truncated\\n$`));
  // a FIFO named like an MNIST file: refused at once (before, the read waited for a writer for ever)
  const fifo = tmp("fifo");
  if (spawnSync("mkfifo", [join(fifo, "train-images-idx3-ubyte")]).status === 0) {
    const r4 = spawnSync(process.execPath, [CLI, "--data_dir", fifo], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r4.status, 2, "hung on the FIFO");
    assert.equal(r4.stderr, `dgc_demo: error: ${join(fifo, "train-images-idx3-ubyte")}: is not a regular file (a FIFO), not an IDX file\n`);
  }
});

test("stdout that cannot be written: one line on stderr and exit 1 (a full disk, a closed pipe)", (t) =>
  assertStdoutGuarded(t, CLI, "dgc_demo", [["--help"], ["--train_epoch", "0", "--seed", "1"]]));
