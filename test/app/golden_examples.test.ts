/**
 * Golden tests, part 1 (issue 21): SPEC.md's four examples under --seed 1, their full stdout to the
 * digit and the files they write; the 12 flags' defaults against SPEC.md's own table; --help.
 * Only the command line is used (test/golden_helpers.ts says what is masked and why);
 * scripts/regold.sh regenerates the fixtures on purpose.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { filesDigest, firstLine, goldenJson, goldenText, maskCostTime, run, runOk, tmp } from "../golden_helpers";

const DEMO = "cli/dgc_demo.js";

/** Runs an example in a fresh folder (so `--result_dir out` prints the same everywhere), pins stdout and the files. */
async function example(name: string, args: string[], writes: boolean): Promise<void> {
  const t = tmp(name);
  try {
    const r = runOk(DEMO, [...args, ...(writes ? ["--result_dir", "out"] : [])], t.dir);
    assert.equal(r.stderr, "", "stderr (no progress bar when stderr is not a terminal)");
    goldenText(`${name}.stdout.txt`, maskCostTime(r.stdout));
    if (writes) goldenJson(`${name}.files.json`, await filesDigest(join(t.dir, "out")));
  } finally {
    t.done();
  }
}

test("golden: Example 1 log under --seed 1 (DLG vs DGC 0.8), and its 22 PNGs", async () => {
  await example("ex1", ["--dlg_attack", "True", "--use_dgc", "True", "--train_lr", "0.001", "--seed", "1"], true);
});

test("golden: Example 2 log under --seed 1 (DLG vs Momentum), and its 22 PNGs", async () => {
  await example("ex2", ["--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--seed", "1"], true);
});

test("golden: Example 3 log under --seed 1 (training, Momentum, lr 0.01)", async () => {
  await example("ex3", ["--use_dgc", "False", "--train_lr", "0.01", "--seed", "1"], false);
});

test("golden: Example 4 log under --seed 1 (training, DGC 0.8, lr 0.001)", async () => {
  await example("ex4", ["--use_dgc", "True", "--train_lr", "0.001", "--sparsity", "0.8", "--seed", "1"], false);
});

/**
 * SPEC.md, "Command-line flags (names, types and defaults exactly)", copied literally: the expected
 * table is the specification's, not the library's DEFAULTS constant.
 */
const SPEC_FLAGS = `\`--train_epoch 2\`, \`--train_batch_size 64\`,
\`--train_lr 0.001\`, \`--sparsity 0.8\`, \`--use_dgc True\`, \`--dlg_attack False\`, \`--attack_batch_size 1\`,
\`--attack_epoch 2000\`, \`--attack_lr 0.2\`, \`--result_dir ./att_results\`, \`--return_epoch 100\`,
\`--window_size 200\`.`;

const SPEC_TABLE: [string, string][] = [...SPEC_FLAGS.matchAll(/`--(\w+) ([^`]+)`/g)].map((m) => [m[1], m[2]]);

/** Our own flags, beside the original's 12, as the Namespace line shows them with no flags given. */
const OWN_FLAGS: Record<string, string> = {
  attack_method: "'dlg'", attack_optimizer: "'gd'", backend: "'auto'", data_dir: "None", label_init: "'ones'", label_rule: "'gram'",
  model: "'linear'", overwrite: "False", seed: "None", victim_loss: "'sse'",
};

/** `Namespace(a=1, b='x', …)` → { a: "1", b: "'x'" } (values as printed; none of them holds ", "). */
function namespace(line: string): Record<string, string> {
  const m = /^Namespace\((.*)\)$/.exec(line);
  assert.ok(m, `not a Namespace line: ${line}`);
  return Object.fromEntries(m[1].split(", ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

test("golden: the 12 defaults are SPEC.md's table (the Namespace line of a run with no flags)", async () => {
  assert.equal(SPEC_TABLE.length, 12);
  const t = tmp("defaults");
  try {
    // the run trains (Example 4); its first line is all this needs, so it is stopped there
    const ns = namespace(await firstLine(DEMO, [], t.dir));
    for (const [flag, value] of SPEC_TABLE) {
      // Python's repr: strings quoted, numbers and booleans bare
      const expected = flag === "result_dir" ? `'${value}'` : value;
      assert.equal(ns[flag], expected, `--${flag}: SPEC.md says ${value}, the program prints ${flag}=${ns[flag]}`);
    }
    const own = Object.fromEntries(Object.entries(ns).filter(([k]) => !SPEC_TABLE.some(([f]) => f === k)));
    assert.deepEqual(own, OWN_FLAGS, "the flags beyond the original's 12 and their defaults");
    assert.deepEqual(Object.keys(ns), Object.keys(ns).slice().sort(), "argparse prints the flags sorted");
  } finally {
    t.done();
  }
});

test("golden: --help lists the 12 flags with SPEC.md's defaults; dgc_demo's and fl's help pinned", () => {
  const t = tmp("help");
  try {
    const r = runOk(DEMO, ["--help"], t.dir);
    const help = r.stdout.replace(/\n\s+/g, " "); // commander wraps the descriptions at 80 columns
    for (const [flag, value] of SPEC_TABLE) {
      const m = new RegExp(`--${flag} <\\w+> [^\\n]*?\\(default: ([^)]+)\\)`).exec(help);
      assert.ok(m, `--help does not list --${flag} with a default`);
      // commander prints JavaScript values: true/false, and strings in double quotes
      const shown = m[1].replace(/^"(.*)"$/, "$1");
      assert.equal(shown.toLowerCase(), value.toLowerCase(), `--${flag}: --help says ${m[1]}, SPEC.md ${value}`);
    }
    goldenText("help.dgc_demo.txt", r.stdout);
    goldenText("help.fl.txt", runOk("cli/fl.js", ["--help"], t.dir).stdout);
    // and --help writes nothing else
    assert.equal(run(DEMO, ["--help"], t.dir).stderr, "");
  } finally {
    t.done();
  }
});
