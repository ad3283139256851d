/**
 * Golden tests, part 3 (issue 21): one small record of each study, run through its script in dist/scripts
 * with the smallest settings its flags allow; the printed tables and the records (timings, time stamps,
 * writer and versions dropped) compared to the digit. Only the command line is used (see
 * test/golden_helpers.ts); scripts/regold.sh regenerates the fixtures on purpose.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { goldenJson, goldenText, maskTableColumns, runOk, tmp } from "../golden_helpers";

/** The records a study wrote in `dir`, by file name. */
function records(dir: string, skip: string[] = []): Record<string, unknown> {
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith(".json") && !skip.includes(f)).sort().map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8"))]));
}

const SECONDS_COLUMN = /^(seconds|median s)\b/;

test("golden: sweep, one seed of none / dgc:0.9 / topk:0.9 × dlg, adaptive (50 iterations, 1 epoch on 256 images): records, frontier, summary", () => {
  const t = tmp("sweep");
  try {
    const r = runOk("scripts/sweep.js", ["--defense", "none", "--defense", "dgc:0.9", "--defense", "topk:0.9", "--seeds", "1", "--attack", "dlg,adaptive", "--iterations", "50", "--epochs", "1", "--train-subset", "256", "--out", "out"], t.dir);
    goldenText("sweep.stdout.txt", r.stdout.replace(/done in [\d.]+ s/g, "done in <seconds> s").replace(/; [\d.]+ s$/m, "; <seconds> s"));
    goldenJson("sweep.records.json", records(join(t.dir, "out")));
    goldenText("sweep.frontier.md", runOk("scripts/sweep.js", ["--frontier", "--out", "out"], t.dir).stdout);
    goldenText("sweep.summary.md", runOk("scripts/sweep.js", ["--summary", "--out", "out"], t.dir).stdout);
  } finally {
    t.done();
  }
});

test("golden: study:federated, DGC 0.9, rounds 0 and 1, dlg and adaptive (50 iterations), 2 clients, 2 training rounds: records and summary", () => {
  const t = tmp("federated");
  try {
    const r = runOk("scripts/study_federated.js", ["--out", "out", "--sparsity", "0.9", "--rounds", "0,1", "--attacks", "dlg,adaptive", "--seeds", "1", "--iterations", "50", "--train_rounds", "2", "--clients", "2"], t.dir);
    goldenText("federated.stdout.txt", r.stdout.replace(/done in [\d.]+ s/g, "done in <seconds> s").replace(/; [\d.]+ s$/m, "; <seconds> s"));
    goldenJson("federated.records.json", records(join(t.dir, "out")));
    goldenText("federated.summary.md", runOk("scripts/study_federated.js", ["--summary", "--out", "out"], t.dir).stdout);
  } finally {
    t.done();
  }
});

test("golden: study:batches, Linear, B 1 and 2, dlg and adaptive vs DGC 0.9, 20 iterations, seed 1: table and JSON", () => {
  const t = tmp("batches");
  try {
    const r = runOk("scripts/study_batches.js", ["--model", "linear", "--seeds", "1", "--iterations", "20", "--batches", "1,2", "--attacks", "dlg,adaptive", "--defenses", "dgc0.9", "--json", "out.json"], t.dir);
    goldenText("batches.md", maskTableColumns(r.stdout.replace(/wall \d+ s/, "wall <seconds> s"), SECONDS_COLUMN));
    goldenJson("batches.json", JSON.parse(readFileSync(join(t.dir, "out.json"), "utf8")));
  } finally {
    t.done();
  }
});

test("golden: study:lenet, DGC 0.9 (DLG, iDLG, adaptive by L-BFGS), 3 steps, seed 1: table and JSON", () => {
  const t = tmp("lenet-study");
  try {
    const r = runOk("scripts/study_lenet.js", ["--seeds", "1", "--iterations", "3", "--only", "dgc", "--sparsity", "0.9", "--json", "out.json"], t.dir);
    goldenText("lenet.md", maskTableColumns(r.stdout, SECONDS_COLUMN));
    goldenJson("lenet.json", JSON.parse(readFileSync(join(t.dir, "out.json"), "utf8")));
  } finally {
    t.done();
  }
});

test("golden: study:anchor, LeNet, L-BFGS 3 steps vs none / topk:0.9 / gaussvar:0.01, seed 1: table and JSON", () => {
  const t = tmp("anchor");
  try {
    const r = runOk("scripts/study_anchor.js", ["--seeds", "1", "--steps", "3", "--defense", "none", "--defense", "topk:0.9", "--defense", "gaussvar:0.01", "--out", "out.json"], t.dir);
    goldenText("anchor.md", r.stdout);
    goldenJson("anchor.json", JSON.parse(readFileSync(join(t.dir, "out.json"), "utf8")));
  } finally {
    t.done();
  }
});

test("golden: study:train, Examples 3 and 4 over seed 1 (no flag makes it smaller: 2 full epochs each)", () => {
  const t = tmp("train");
  try {
    const r = runOk("scripts/study_train.js", ["--seeds", "1"], t.dir);
    goldenText("train.md", maskTableColumns(r.stdout, /^seconds/));
  } finally {
    t.done();
  }
});

test("golden: study:attack, Examples 1 and 2 over seed 1, both label starts, no LeNet", () => {
  const t = tmp("attack");
  try {
    const r = runOk("scripts/study_attack.js", ["--seeds", "1", "--label_init", "ones,guess", "--lenet_seeds", "0"], t.dir);
    const out = maskTableColumns(r.stdout, SECONDS_COLUMN);
    assert.match(out, /\| 1 \| 8 \| 0 \| 7850 \| 32\.44 \|/, "Example 2's seed 1 row agrees with dgc_demo's log (32.44 dB)");
    goldenText("attack.md", out);
  } finally {
    t.done();
  }
});
