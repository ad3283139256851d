/**
 * `fl` keeps dgc_demo's promises (docs/reliability.md): the error line stands alone on a terminal;
 * stdout that cannot be written ends in one line and exit 1; the result folder is checked before
 * any work with dgc_demo's rule (refused: exit 2, nothing written; --overwrite; an earlier run's
 * files replaced); divergence is one line, exit 1, nothing written; bad input (learning rates
 * beyond float32, clients beyond the training set, a victim batch beyond the victim's shard) is one
 * line and exit 2. Kept small: one or a few rounds, a few attack iterations.
 */
import { seedDefense } from "../../lib/threat/channel/registry";
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../../lib/core/errors";
import { linearModel } from "../../lib/models/linear";
import { loadMnist } from "../../lib/data/mnist";
import { Rng } from "../../lib/core/rng";
import { runFederated, type FederatedOptions } from "../../lib/threat/federated/simulation";
import { subsetSplit } from "../../lib/study/job";
import { tf, variableFrom } from "../../lib/core/tf";
import { MANIFEST } from "../../lib/io/results";
import { assertStdoutGuarded, cliRunner, inTerminal, screen, useBackend } from "../helpers";

before(useBackend);

const CLI = resolve(__dirname, "../../cli/fl.js");
const run = cliRunner(CLI);
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `fl-rel-${name}-`));
/** One client, one round, two attack iterations: the quickest attack run. */
const ATTACK = ["--clients", "1", "--rounds", "1", "--seed", "1", "--dlg_attack", "True", "--attack_epoch", "2"];
const oneLine = (stderr: string) => assert.equal(stderr.split("\n").filter(Boolean).length, 1, stderr);

test("fl on a terminal: the error line stands alone, not glued to the progress bar", (t) => {
  // round 0 runs through (the bar is drawn), then the test logits overflow float32 in round 1
  const r = inTerminal(t, `${process.execPath} ${CLI} --clients 1 --rounds 4 --use_dgc False --train_lr 1e36 --seed 1`);
  if (!r) return;
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, /fl \[/, "no progress bar was drawn: not a terminal?");
  const shown = screen(r.stdout);
  assert.ok(shown.some((l) => /^fl: error: training diverged: the model's test logits are not finite \(batch id 0 of the test set\)$/.test(l)), `screen:\n${shown.join("\n")}`);
});

test("fl: stdout that cannot be written is one line on stderr and exit 1 (a full disk, a closed pipe)", (t) =>
  assertStdoutGuarded(t, CLI, "fl", [["--help"], ["--clients", "1", "--rounds", "1", "--seed", "1"]]));

test("fl's result folder: dgc_demo's rule before any work; --overwrite; an earlier run's files replaced, a manifest-less folder refused", () => {
  const dir = join(tmp("dir"), "out");
  mkdirSync(dir);
  writeFileSync(join(dir, "notes.txt"), "mine");
  const refused = run([...ATTACK, "--result_dir", dir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stdout, "", "refused before any work");
  oneLine(refused.stderr);
  assert.match(refused.stderr, /^fl: error: .*notes\.txt.*--overwrite/);
  assert.deepEqual(readdirSync(dir), ["notes.txt"]);

  const replaced = run([...ATTACK, "--result_dir", dir, "--overwrite"]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /overwrite=True/);
  assert.deepEqual(readdirSync(dir).sort(), [MANIFEST, "grid.png", "result_0.png", "target_0.png"]);

  // a folder without a manifest, its files named like a run's (the user's own, or an older version's run): refused, --overwrite replaces
  const old = join(tmp("old"), "att_results");
  mkdirSync(old);
  for (const f of ["target_0.png", "result_0_0.png", "result_100_0.png", "grid.png"]) writeFileSync(join(old, f), "");
  const own = run([...ATTACK, "--result_dir", old]);
  assert.equal(own.code, 2, own.stderr);
  assert.match(own.stderr, /^fl: error: .*named like a run's.*--overwrite/);
  const again = run([...ATTACK, "--result_dir", old, "--overwrite"]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readdirSync(old).sort(), [MANIFEST, "grid.png", "result_0.png", "target_0.png"]);
});

test("fl: divergence (in training or in the attack) is one line and exit 1, and writes nothing", () => {
  const dir = join(tmp("div"), "out");
  const r = run(["--clients", "2", "--rounds", "3", "--use_dgc", "False", "--train_lr", "1e36", "--seed", "1", "--dlg_attack", "True", "--attack_round", "2", "--attack_epoch", "2", "--result_dir", dir]);
  assert.equal(r.code, 1, r.stderr);
  oneLine(r.stderr);
  assert.match(r.stderr, /^fl: error: (federated )?training diverged: /);
  assert.ok(!existsSync(dir), "a diverged run wrote its result folder");
  // the attack itself diverging: the same
  const a = run([...ATTACK, "--attack_epoch", "20", "--attack_lr", "1e30", "--result_dir", dir]);
  assert.equal(a.code, 1, a.stderr);
  oneLine(a.stderr);
  assert.match(a.stderr, /^fl: error: DLG diverged: gradient distance is Infinity at iteration \d+\n$/);
  assert.ok(!existsSync(dir), "a diverged attack wrote its result folder");
});

test("fl: bad input is one line and exit 2 (float32 rates, clients beyond the training set, a victim batch beyond its shard)", () => {
  const dir = join(tmp("bad"), "out");
  for (const [args, msg] of [
    [["--train_lr", "1e39"], /--train_lr must be a number > 0 within float32's range/],
    [["--dlg_attack", "True", "--attack_lr", "1e-46"], /--attack_lr must be a number > 0 within float32's range/],
    [["--clients", "60001"], /--clients must be an integer from 1 to 60000 \(every client needs an image of the training set\), got 60001/],
    [["--dlg_attack", "True", "--clients", "10", "--attack_batch_size", "6001"], /--attack_batch_size must be an integer from 1 to 6000 \(a client's share of the training set with --clients 10\), got 6001/],
    // a Dirichlet shard's size is known once dealt (seed 1, α 0.1: client 1 holds 1048 images)
    [["--dlg_attack", "True", "--split", "dirichlet", "--alpha", "0.1", "--clients", "10", "--victim_client", "1", "--attack_batch_size", "2000"], /--attack_batch_size 2000 is more than client 1's 1048 images \(its shard of the dirichlet split\)/],
    [["--split", "dirichlet", "--alpha", "0.01", "--clients", "3000"], /dirichlet split: some client got no data in 100 draws \(α = 0.01, 3000 clients\); raise --alpha/],
    // one client, 938 batches of 64 an epoch: round 937 is the epoch's tail of 32 images
    [["--dlg_attack", "True", "--clients", "1", "--rounds", "938", "--attack_round", "937", "--attack_batch_size", "64"], /--attack_batch_size 64: client 0 has only 32 images left in its epoch in round 937 \(60000 images in batches of 64\)/],
    // the history attacker's rounds must all be run: never cut silently
    [["--dlg_attack", "True", "--attack_method", "history", "--history_rounds", "100", "--rounds", "3"], /--history_rounds 100 after --attack_round 0 needs 101 rounds; --rounds is 3 \(at most 2\)/],
  ] as const) {
    const r = run(["--rounds", "1", "--seed", "1", "--result_dir", dir, ...args]); // the case's flags last: they win
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", `${args.join(" ")}: the Namespace and backend lines came before the error`);
    oneLine(r.stderr);
    assert.match(r.stderr, new RegExp(`^fl: error: ${msg.source}.*\\n$`));
  }
  assert.ok(!existsSync(dir));
});

test("the victim's batch is never cut: an epoch's short tail is refused before any round, a full batch runs", () => {
  // one client, 100 images in batches of 30: rounds 0–3 take 30, 30, 30, 10 (the tail), round 5 has 70 left
  const data = subsetSplit(loadMnist("train"), 100);
  const model = linearModel();
  const opts: FederatedOptions = { clients: 1, rounds: 6, localSteps: 1, split: "iid", alpha: 1, batchSize: 30, lr: 0.01, defense: seedDefense(false, 0) };
  const attempt = (round: number, batchSize: number) => {
    const params = tf.tidy(() => model.init(new Rng(1).fork("init"))).map((t) => variableFrom(t, true));
    try {
      const rounds: number[] = [];
      const fed = runFederated(model, params, data, { ...opts, watch: { client: 0, round, batchSize, loss: "ce", historyRounds: 0 } }, new Rng(1), (r) => rounds.push(r.round));
      return { size: fed.watched!.target.size, rounds };
    } finally {
      tf.dispose(params);
    }
  };
  assert.deepEqual(attempt(3, 10), { size: 10, rounds: [0, 1, 2, 3, 4, 5] });
  assert.throws(() => attempt(3, 11), (e: Error) => e instanceof ConfigError && /only 10 images left in its epoch in round 3 \(100 images in batches of 30\)/.test(e.message));
  assert.equal(attempt(5, 70).size, 70);
  assert.throws(() => attempt(5, 71), /only 70 images left in its epoch in round 5/);
  assert.throws(() => attempt(0, 101), /attackBatchSize 101 is more than client 0's 100 images \(its shard of the iid split\)/); // the library's words; fl says --attack_batch_size
});
