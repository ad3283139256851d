/**
 * One summary command for every study (lib/study/tables.ts, scripts/study_summary.ts): three studies
 * written into one folder by their own scripts on the one runner; `study_summary` finds each by its
 * records and prints the tables each script printed — from the records alone. Bad input: exit 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const SCRIPTS = resolve(__dirname, "../../scripts");
const run = (script: string, args: string[], cwd: string) => spawnSync(process.execPath, [join(SCRIPTS, `${script}.js`), ...args], { cwd, encoding: "utf8" });
const noWall = (s: string) => s.replace(/wall \d+ s/, "wall <s> s");

test("study_summary: the tables of every study in a folder, equal to what each study's script printed", () => {
  const dir = mkdtempSync(join(tmpdir(), "study-summary-"));
  const batches = run("study_batches", ["--model", "linear", "--seeds", "1", "--iterations", "20", "--batches", "1", "--attacks", "dlg", "--defenses", "dgc0.9", "--out", "r"], dir);
  assert.equal(batches.status, 0, batches.stderr);
  const fedavg = run("study_fedavg", ["--steps", "1", "--n", "1", "--defense", "none", "--seeds", "1", "--iterations", "2", "--out", "r"], dir);
  assert.equal(fedavg.status, 0, fedavg.stderr);
  const anchor = run("study_anchor", ["--seeds", "1", "--steps", "3", "--defense", "none", "--out", "a.json", "--records", "r"], dir);
  assert.equal(anchor.status, 0, anchor.stderr);
  // every record in the one envelope, each naming its study
  const studies = readdirSync(join(dir, "r")).map((f) => JSON.parse(readFileSync(join(dir, "r", f), "utf8"))).map((r) => [r.schema, r.status, r.config.study]);
  assert.deepEqual(studies.sort(), [[1, "done", "anchor"], [1, "done", "batches"], [1, "done", "fedavg"]]);

  const all = run("study_summary", ["--out", "r"], dir);
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(all.stdout.match(/^## \w+$/gm), ["## fedavg", "## anchor", "## batches"]);
  const section = (s: string) => run("study_summary", ["--out", "r", "--study", s], dir).stdout;
  assert.equal(section("anchor"), `## anchor\n\n${anchor.stdout}\n`);
  assert.equal(noWall(section("batches")), noWall(`## batches\n\n${batches.stdout}\n`));
  assert.equal(section("fedavg"), `## fedavg\n\n${run("study_fedavg", ["--summary", "--out", "r"], dir).stdout}\n`);
  assert.match(section("fedavg"), /\| none \| 1 \| 1 \| 1 \| 1 \/ 1 \|/);

  // bad input: one line, exit 2
  mkdirSync(join(dir, "empty"));
  for (const [args, msg] of [
    [["--out", "empty"], /^study_summary: error: empty holds no record of any study/],
    [["--out", "r", "--study", "lenet"], /holds no record of the lenet study/],
    [["--out", "missing"], /^study_summary: error: --out .*missing/],
    [["--out", "r", "--study", "nope"], /invalid choice: 'nope'/],
  ] as [string[], RegExp][]) {
    const r = run("study_summary", args, dir);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
