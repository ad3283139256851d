/**
 * The sweep's --defense axis at tiny sizes: keys naming the defense and its strength, parsed back;
 * the issue's --list; a tiny grid of every defense (one attack, 20 iterations, 1 epoch on 640 images)
 * with each one's bytes per step, resume, determinism with the seed, and the summary's rows.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CHROMIUM } from "../../lib/viz/figure_png";
import { anchorFigure, anchorMarkdown } from "../../lib/study/anchor";
import { buildSummary, type SummaryRow } from "../../lib/study/summary";
import { expandGrid, jobConfig, type CommonSettings } from "../../lib/study/grid";
import { frontierFigure, frontierMarkdown, frontierPoints, markPareto, privacyNote } from "../../lib/study/frontier";
import { gaussianGuarantee } from "../../lib/optim/rdp";
import { GridError, jobKey, parseKey } from "../../lib/study/keys";
import { recordPath, type JobRecord } from "../../lib/study/record";
import { runStudy } from "../../lib/study/runner";
import { sweepTasks } from "../../lib/study/job";
import { type DefenseSpec } from "../../lib/threat/channel/defenses";
import { useBackend } from "../helpers";

before(useBackend);

const SCRIPT = resolve(__dirname, "../../scripts/sweep.js");
const TINY: CommonSettings = { iterations: 20, epochs: 1, backend: "wasm", trainSubset: 640 };
const cli = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });
const read = (out: string, key: string) => JSON.parse(readFileSync(recordPath(out, key), "utf8")) as JobRecord;

const EVERY: DefenseSpec[] = [
  { name: "none", strength: null }, { name: "dgc", strength: 0.9 }, { name: "topk", strength: 0.9 }, { name: "randk", strength: 0.9 },
  { name: "gaussian", strength: 0.01 }, { name: "gaussvar", strength: 1e-4 }, { name: "laplace", strength: 0.01 },
  { name: "fp16", strength: null }, { name: "int8", strength: null }, { name: "signsgd", strength: null },
];

test("--defense: a job per defense and strength, keys naming both, parsed back; bad input exits 2", () => {
  const r = cli(["--list", "--defense", "topk:0.5", "--defense", "gaussian:0.01", "--defense", "int8", "--defense", "signsgd", "--defense", "dgc:0.9", "--seeds", "1", "--attack", "dlg"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["s0.9-dlg-seed-seed1", "topk0.5-dlg-seed1", "gaussian0.01-dlg-seed1", "int8-dlg-seed1", "signsgd-dlg-seed1"]);
  const two = cli(["--list", "--defense", "gaussvar:1e-4,0.1", "--defense", "none", "--seeds", "2", "--attack", "adaptive"]).stdout.trim().split("\n");
  assert.deepEqual(two, ["s0-adaptive-dense-seed1", "s0-adaptive-dense-seed2", "gaussvar0.0001-adaptive-seed1", "gaussvar0.0001-adaptive-seed2", "gaussvar0.1-adaptive-seed1", "gaussvar0.1-adaptive-seed2"]);
  for (const k of ["topk0.5-dlg-seed1", "gaussvar0.0001-ig-seed2", "int8-adaptive-seed3", "laplace10-dlg-seed1", "gaussian0.0000001-dlg-seed1"]) {
    const p = parseKey(k);
    assert.equal(jobKey(p), k);
    assert.deepEqual(jobConfig(p, TINY).defense, p.defense);
  }
  assert.equal(parseKey("laplace10-dlg-seed1").defense!.strength, 10);
  for (const bad of ["gaussian1e-7-dlg-seed1", "topk1.5-dlg-seed1", "topk-dlg-seed1", "int88-dlg-seed1", "gaussian0-dlg-seed1", "gaussian0.010-dlg-seed1", "xyz0.5-dlg-seed1", "topk0.5-xyz-seed1"])
    assert.throws(() => parseKey(bad), GridError, bad);
  for (const bad of [["--defense", "topk"], ["--defense", "int8:0.5"], ["--defense", "gaussian:-1"], ["--defense", "nope:1"], ["--defense", "topk:0.5,"]]) {
    const b = cli(["--list", ...bad]);
    assert.equal(b.status, 2, bad.join(" "));
    assert.equal(b.stdout, "");
    assert.match(b.stderr, /^sweep: error: .+\n$/);
  }
});

test("a tiny grid of every defense runs: records with each defense's bytes; resume skips; the same seed gives the same record", async () => {
  const out = mkdtempSync(join(tmpdir(), "dgc-defense-"));
  const jobs = expandGrid({ sparsities: [], seeds: [1], attacks: ["dlg"], variants: ["seed"], defenses: EVERY }, TINY);
  assert.equal(jobs.length, EVERY.length);
  const first = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(first.failed, []);
  const bytes: Record<string, number | null> = Object.fromEntries(jobs.map((j) => [j.key, read(out, j.key).training!.bytesPerStep]));
  const n = 7850;
  assert.deepEqual(bytes, {
    "s0-dlg-dense-seed1": 4 * n,
    "s0.9-dlg-seed-seed1": bytes["s0.9-dlg-seed-seed1"], // DGC's count varies with ties (checked below)
    "topk0.9-dlg-seed1": (4 * 784 + 980) + (4 * 1 + 2), // bitmaps: 784 of 7840, 1 of 10
    "randk0.9-dlg-seed1": 4 * (784 + 1) + 4,
    "gaussian0.01-dlg-seed1": 4 * n,
    "gaussvar0.0001-dlg-seed1": 4 * n,
    "laplace0.01-dlg-seed1": 4 * n,
    "fp16-dlg-seed1": 2 * n,
    "int8-dlg-seed1": n + 2 * 4,
    "signsgd-dlg-seed1": 980 + 2 + 2 * 4,
  });
  // DGC: a bitmap for the weight (≥ 245 of 7840 sent) and at most 2 B of bitmap for the bias
  const dgcRecord = read(out, "s0.9-dlg-seed-seed1");
  assert.ok(bytes["s0.9-dlg-seed-seed1"]! <= 4 * dgcRecord.training!.valuesPerStep! + 980 + 2 + 1e-9);
  assert.ok(bytes["s0.9-dlg-seed-seed1"]! >= 4 * dgcRecord.training!.valuesPerStep! + 980 - 1e-9);
  const sentValues = dgcRecord.attack!.sentValues;
  assert.ok(sentValues >= 245 && Math.abs(dgcRecord.attack!.sentBytes! - (4 * sentValues + 980)) <= 2, `${sentValues} values, ${dgcRecord.attack!.sentBytes} B`);
  for (const j of jobs) if (!j.key.startsWith("s0.9")) assert.equal(read(out, j.key).attack!.sentBytes, (bytes as Record<string, number | null>)[j.key], j.key);
  const again = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.equal(again.skipped.length, jobs.length);
  // noise from the run's seeded "defense" stream: a second run of a noisy job gives the same record
  const other = mkdtempSync(join(tmpdir(), "dgc-defense-"));
  const noisy = jobs.filter((j) => /^(gaussian|laplace|randk|int8)/.test(j.key));
  await runStudy(sweepTasks(noisy), { out: other, jobs: 1 });
  for (const j of noisy) {
    const [a, b] = [read(out, j.key), read(other, j.key)];
    assert.deepEqual([a.attack!.psnr, a.training!.testAccuracy], [b.attack!.psnr, b.training!.testAccuracy], j.key);
  }
  const s = buildSummary(out);
  assert.deepEqual(s.rows.map((r) => r.defense), ["none", "dgc:0.9", "topk:0.9", "randk:0.9", "gaussian:0.01", "gaussvar:0.0001", "laplace:0.01", "fp16", "int8", "signsgd"]);
  assert.deepEqual(s.stopsRecovering.map((x) => x.variant), ["seed"], "defense rows stay out of the DGC line");
  // the frontier drawn: --png with --frontier only, a .png in an existing folder; one line and exit 2 otherwise
  for (const [args, msg] of [
    [["--png", join(out, "f.png")], /--png goes with --frontier/],
    [["--frontier", "--png", join(out, "f.svg")], /must end in \.png/],
    [["--frontier", "--png", join(out, "no", "f.png")], /no folder/],
  ] as const) {
    const b = cli(["--out", out, ...args]);
    assert.equal(b.status, 2, args.join(" "));
    assert.match(b.stderr, msg);
    assert.equal(b.stdout, "");
  }
  // the table again from the summary.json it wrote; --from alone, or an unreadable one: one line, exit 2
  const table = cli(["--frontier", "--out", out]);
  assert.equal(cli(["--frontier", "--from", join(out, "summary.json")]).stdout, table.stdout);
  assert.equal(cli(["--from", join(out, "summary.json")]).status, 2);
  const junk = cli(["--frontier", "--from", SCRIPT]);
  assert.equal(junk.status, 2);
  assert.match(junk.stderr, /^sweep: error: --from .*: not a sweep summary/);
  if (existsSync(CHROMIUM)) {
    const drawn = cli(["--frontier", "--out", out, "--png", join(out, "frontier.png")]);
    assert.equal(drawn.status, 0, drawn.stderr);
    assert.match(drawn.stderr, /drew the frontier in .*frontier\.png/);
    assert.equal((await sharp(join(out, "frontier.png")).metadata()).width, 2000);
  }
});

test("frontier: the Pareto front over (PSNR ↓, accuracy ↑, bytes ↓) by hand; accuracy and bytes joined from the job that trained", () => {
  const row = (defense: string, attack: "dlg" | "ig", psnr: number | null, acc: number | null, bytes: number | null) =>
    ({ defense, attack, variant: defense.startsWith("dgc") ? "seed" : "dense", sparsity: 0, n: 5, recovered: 1, psnr, baselinePsnr: 6, testAccuracy: acc, bytesPerStep: bytes, attackedStepValues: 10 }) as unknown as SummaryRow;
  const rows = [
    row("a", "dlg", 10, 0.9, 100), row("b", "dlg", 5, 0.9, 100), row("c", "dlg", 20, 0.95, 1000), row("d", "dlg", 5, 0.8, 50), row("e", "dlg", null, 0.99, 1),
    row("b", "ig", 30, null, null), row("a", "ig", 12, null, null),
  ];
  const pts = frontierPoints(rows);
  const on = (attack: string) => pts.filter((p) => p.attack === attack && p.pareto).map((p) => p.defense).sort();
  assert.deepEqual(on("dlg"), ["b", "c", "d"]);
  const igB = pts.find((p) => p.attack === "ig" && p.defense === "b")!;
  assert.deepEqual([igB.testAccuracy, igB.bytesPerStep], [0.9, 100], "joined from b's DLG row");
  assert.deepEqual(on("ig"), ["a"], "a: lower PSNR, same accuracy and bytes as b");
  const md = frontierMarkdown(pts);
  assert.match(md, /\| b \| 100 B \| 0\.900 \| 10 \| 5\.0 \(1\/5\) ★ \| 30\.0 \(1\/5\) \| 30\.0 \(1\/5\) ig \|  \|/);
  // per defense, the strongest attack (most recovered, then PSNR) is a frontier of its own
  assert.deepEqual(on("strongest"), ["a", "c", "d"]);
  assert.equal(pts.find((p) => p.attack === "strongest" && p.defense === "b")!.via, "ig");
  // recovering nothing ties, whatever the PSNR below the threshold; recovering more leaks more
  const z = (psnr: number, recovered: number, acc: number) => ({ ...pts[0], psnr, privacyPsnr: Math.max(psnr, 6), recovered, testAccuracy: acc, bytesPerStep: 100, pareto: false });
  const tie = [z(-3, 0, 0.9), z(5.9, 0, 0.9), z(40, 1, 0.95), z(8, 1, 0.95)];
  markPareto(tie);
  assert.deepEqual(tie.map((p) => p.pareto), [true, true, false, true]);
  assert.equal(privacyNote("gaussian:1", 1876, 1e-5), `ε ${gaussianGuarantee(1, 1, 1e-5).epsilon.toPrecision(3)} / ${gaussianGuarantee(1, 1876, 1e-5).epsilon.toPrecision(3)}`);
  assert.equal(privacyNote("laplace:0.01"), "");
  const anchorRows = [
    { defense: "none", psnr: null, recovered: 2, n: 2, runs: [{ psnr: null, baseline: 6 }, { psnr: 70, baseline: 7 }] },
    { defense: "gaussvar:0.01", psnr: -3, recovered: 0, n: 2, runs: [{ psnr: -3, baseline: 6 }, { psnr: -3, baseline: 7 }] },
    { defense: "topk:0.5", psnr: 9.05, recovered: 1, n: 2, runs: [{ psnr: 12, baseline: 6 }, { psnr: 6.1, baseline: 7 }] },
  ];
  assert.equal(anchorMarkdown({ seeds: 2, steps: 30, backend: "wasm", rows: anchorRows }).split("\n").slice(-3).join("\n"), "| none | ∞ | 2/2 |\n| gaussvar:0.01 | -3.0 | 0/2 |\n| topk:0.5 | 9.1 | 1/2 |");
  const af = anchorFigure(anchorRows);
  assert.deepEqual(af.data.map((t) => (t as { x: number[] }).x), [[0.01], [], [0.5]], "noise against its variance, pruning against its fraction");
  const fig = frontierFigure(pts, "dlg");
  assert.equal((fig.data.at(-1) as { x: number[] }).x.length, 3, "the front joins its three points");
});
