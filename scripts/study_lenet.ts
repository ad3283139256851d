/**
 * The LeNet study (not a test): the DLG paper's setting — LeNet (sigmoid, U(−0.5, 0.5)), one
 * MNIST image, the victim's first step from an untrained model, L-BFGS (lr 1, torch's defaults)
 * for 300 iterations — over seeds (each seed: a different victim image, initialization and dummy
 * start), against Momentum (the raw gradient) and DGC 0.8 / 0.9 (the sparse u·mask).
 * Per attack: PSNR, the seed's SSIM, the 8-bit SSIM, the sign-aware PSNR, label accuracy, seconds,
 * and the recovery count by the project's rule (PSNR ≥ the mean image's + 3 dB; "inv" counts the
 * reconstructions recovered only as negatives). Markdown on stdout, every row as JSON to --json.
 * One task per setting and seed on the one study runner (records in --out; resumable, --jobs, --shard).
 *   npm run study:lenet -- [--seeds 10] [--iterations 300] [--only momentum|dgc|analytic|sign|extra] [--sparsity 0.8]
 *                          [--json out.json] [--figure out.png] [--out study-lenet] [--jobs N] [--summary]
 */
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import type { StudyTask } from "../lib/study/task";
import type { MnistSplit } from "../lib/data/mnist";
import { medianOrNaN as median } from "../lib/study/summary";
import writeFileAtomic from "write-file-atomic";
import { labelledGridPng } from "../lib/viz/labelled";
import { loadMnist, meanImage } from "../lib/data/mnist";
import { makeConfig, type DemoConfig } from "../lib/trial/demo_config";
import { psnr } from "../lib/metrics/image";
import { recovery } from "../lib/metrics/readings";
import { runAttack, setupRun } from "../lib/trial/demo";

interface Setting {
  group: "momentum" | "dgc" | "analytic" | "extra" | "sign";
  name: string;
  cfg: Partial<DemoConfig>;
  /** The issue's band, checked and reported for the Momentum settings. */
  band?: boolean;
}

const ATTACKS: { name: string; cfg: Partial<DemoConfig> }[] = [
  { name: "DLG, L-BFGS, victim loss sse (the seed's)", cfg: { attack_method: "dlg", attack_optimizer: "lbfgs", victim_loss: "sse" } },
  { name: "DLG, L-BFGS, victim loss ce (the DLG paper's)", cfg: { attack_method: "dlg", attack_optimizer: "lbfgs", victim_loss: "ce" } },
  { name: "iDLG, L-BFGS, victim loss ce", cfg: { attack_method: "idlg", attack_optimizer: "lbfgs", victim_loss: "ce" } },
];
const ADAPTIVE = { name: "adaptive, L-BFGS, victim loss ce", cfg: { attack_method: "adaptive", attack_optimizer: "lbfgs", victim_loss: "ce" } as Partial<DemoConfig> };

const SETTINGS: Setting[] = [
  ...[ATTACKS[0], ATTACKS[2]].map((a) => ({ group: "momentum" as const, name: `Momentum — ${a.name}`, cfg: { ...a.cfg, use_dgc: false, train_lr: 0.01 }, band: true })),
  { group: "extra" as const, name: `Momentum — ${ATTACKS[1].name}`, cfg: { ...ATTACKS[1].cfg, use_dgc: false, train_lr: 0.01 }, band: true },
  // against DGC: the seed's DLG, iDLG, and the DGC-aware attacker (DLG-ce is an "extra": CPU time)
  ...[0.8, 0.9].flatMap((sparsity) =>
    [ATTACKS[0], ATTACKS[2], ADAPTIVE].map((a) => ({ group: "dgc" as const, name: `DGC ${sparsity} — ${a.name}`, cfg: { ...a.cfg, use_dgc: true, train_lr: 0.001, sparsity } })),
  ),
  // the baseline on the seed's Linear model: no optimization at all
  ...([["Momentum", { use_dgc: false, train_lr: 0.01 }], ...[0.5, 0.8, 0.9].map((sparsity) => [`DGC ${sparsity}`, { use_dgc: true, train_lr: 0.001, sparsity }])] as [string, Partial<DemoConfig>][]).map(
    ([name, cfg]) => ({ group: "analytic" as const, name: `Linear, ${name} — analytic`, cfg: { ...cfg, model: "linear" as const, attack_method: "analytic" as const } }),
  ),
  // where the sign-aware reading matters: Inverting Gradients (Adam, 2000 iterations) on the Linear model
  ...[0.8, 0.9].map((sparsity) => ({
    group: "sign" as const, name: `Linear, DGC ${sparsity} — IG, Adam, victim loss ce`,
    cfg: { model: "linear" as const, attack_method: "ig" as const, victim_loss: "ce" as const, use_dgc: true, train_lr: 0.001, sparsity, attack_epoch: 2000 },
  })),
];

const GROUPS: readonly Setting["group"][] = ["momentum", "dgc", "analytic", "sign", "extra"];
const f = (x: number | null, d = 2) => (x !== null && Number.isFinite(x) ? x.toFixed(d) : String(x));
const PROG = "study_lenet";

interface LenetRow {
  setting: string; seed: number; label: number; guess: number; sent: number; psnr: number; ssim: number; ssim8: number; signPsnr: number; signSsim8: number;
  inverted: number; labelAcc: number; baseline: number; recovery: string; attackSeconds: number; iteration: number; pixelsRecovered: number | null;
  /** The sign group's seeds 1–4 (the figure): the target and the reconstruction. */
  target?: number[]; x?: number[];
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
let data: { train: MnistSplit; mean: Float32Array } | undefined;

function settingTasks(s: Setting, seeds: number[], steps: number): StudyTask<LenetRow>[] {
  const iterations = s.cfg.attack_epoch ?? steps;
  return seeds.map((seed) => ({
    key: `lenet-${slug(s.name)}-seed${seed}`,
    config: { study: "lenet", setting: s.name, model: "lenet", ...s.cfg, seed, attack_epoch: iterations },
    run: async () => {
      if (!data) {
        const train = loadMnist("train");
        data = { train, mean: meanImage(train) };
      }
      const cfg = makeConfig({ model: "lenet", ...s.cfg, dlg_attack: true, seed, attack_epoch: iterations, return_epoch: Math.max(1, iterations - 1) });
      const ctx = await setupRun(cfg);
      const run = runAttack(ctx, data.train, {}, {}, data.mean);
      const last = run.records[run.records.length - 1];
      const baseline = psnr(data.mean, run.target.x);
      const figure = s.group === "sign" && seed <= 4 ? { target: Array.from(run.target.x), x: Array.from(run.snapshots[run.snapshots.length - 1].x) } : {};
      return {
        backend: ctx.backend,
        result: {
          setting: s.name, seed, label: run.target.y[0], guess: run.guess, sent: run.sent.sent.reduce((a, b) => a + b, 0),
          psnr: last.psnr, ssim: last.ssim, ssim8: last.ssim8, signPsnr: last.signAware.psnr, signSsim8: last.signAware.ssim8,
          inverted: last.signAware.inverted, labelAcc: last.labelAcc, baseline, recovery: recovery(last.psnr, last.signAware.psnr, baseline),
          attackSeconds: run.seconds, iteration: last.iteration, pixelsRecovered: run.analytic?.recoveredCount ?? null, ...figure,
        },
      };
    },
    resultProblem: (r) => fieldsProblem(r, [["labelAcc", "number"], ["baseline", "number"], ["recovery", "string"], ["iteration", "number"]]),
    describe: (r) => `PSNR ${f((r as LenetRow).psnr)} dB, ${(r as LenetRow).recovery}`,
  }));
}

/** A row as the study's JSON has always had it (seconds; no figure arrays). */
function jsonRow(r: LenetRow): Record<string, unknown> {
  const { target: _t, x: _x, attackSeconds, setting, seed, label, guess, sent, psnr: p, ssim, ssim8, signPsnr, signSsim8, inverted, labelAcc, baseline, recovery: rc, iteration, pixelsRecovered } = r;
  return { setting, seed, label, guess, sent, psnr: p, ssim, ssim8, signPsnr, signSsim8, inverted, labelAcc, baseline, recovery: rc, seconds: attackSeconds, iteration, pixelsRecovered };
}

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-lenet"),
    seeds: { kind: "seeds", default: "10", help: "seeds: n (1..n), a-b or a list" },
    iterations: { kind: "int", min: 1, default: 300, help: "L-BFGS steps" },
    only: { kind: "choice", choices: GROUPS, help: "momentum, dgc, analytic, sign (IG on Linear vs DGC) or extra (DLG with the ce loss vs Momentum); default: all but extra" },
    figure: { kind: "outFile", help: "with --only sign: target, reconstruction and its negative for seeds 1-4 at the last sparsity (PNG)" },
    sparsity: { kind: "float", min: 0, max: 1, maxOpen: true, help: "only the DGC settings of this sparsity" },
    json: { kind: "outFile", help: "write every row here" },
  }, process.argv.slice(2), "The LeNet study (Markdown on stdout)");
  const seeds = o.seeds;
  const settings = SETTINGS.filter((x) => (o.only ? x.group === o.only : x.group !== "extra") && (o.sparsity === undefined || x.cfg.sparsity === o.sparsity));
  if (!settings.length) {
    const have = [...new Set(SETTINGS.filter((x) => (o.only ? x.group === o.only : x.group !== "extra")).map((x) => x.cfg.sparsity).filter((v) => v !== undefined))];
    usageExit(PROG, `no setting${o.only ? ` of --only ${o.only}` : ""} has --sparsity ${o.sparsity} (${have.length ? `choose from ${have.join(", ")}` : "its settings have no sparsity"})`);
  }
  checkStudyOut(PROG, o);
  const all = settings.flatMap((s) => settingTasks(s, seeds, o.iterations));
  if (!o.summary) await runStudyCli(all, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const every: LenetRow[] = [];
  for (const s of settings) {
    const rows = taskRecords<LenetRow>(o.out, settingTasks(s, seeds, o.iterations));
    if (!rows.length) continue;
    every.push(...rows);
    const its = s.group === "analytic" ? "no iterations" : `${rows[0].iteration + 1} iterations (metrics after iteration ${rows[0].iteration})`;
    console.log(`\n### ${s.name} — ${s.cfg.model === "linear" ? "Linear" : "LeNet"}, backend ${rows.at(-1)!.backend}, ${its}\n`);
    console.log("| seed | label | guess | sent | PSNR | SSIM | SSIM 8-bit | sign-aware PSNR | read inverted | label acc | recovered | seconds |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent}${r.pixelsRecovered === null ? "" : ` (${r.pixelsRecovered} px)`} | ${f(r.psnr)} | ${f(r.ssim, 4)} | ${f(r.ssim8, 4)} | ${f(r.signPsnr)} | ${r.inverted ? "yes" : "no"} | ${r.labelAcc.toFixed(1)} | ${r.recovery} | ${f(r.attackSeconds)} |`);
    }
    const rec = rows.filter((r) => r.recovery === "recovered").length;
    const inv = rows.filter((r) => r.recovery === "recovered inverted").length;
    const acc = rows.filter((r) => r.labelAcc === 1).length;
    console.log(
      `| median | | | | ${f(median(rows.map((r) => r.psnr)))} | ${f(median(rows.map((r) => r.ssim)), 4)} | ${f(median(rows.map((r) => r.ssim8)), 4)} | ${f(median(rows.map((r) => r.signPsnr)))} | ${rows.filter((r) => r.inverted).length} of ${rows.length} | ${acc} of ${rows.length} | ${rec} (+${inv} inv) of ${rows.length} | ${f(median(rows.map((r) => r.attackSeconds)))} |`,
    );
    if (s.band) {
      const at30 = rows.filter((r) => r.psnr >= 30).length;
      const ok = median(rows.map((r) => r.psnr)) >= 40 && at30 >= Math.ceil(0.8 * rows.length) && acc >= Math.ceil(0.9 * rows.length);
      console.log(`\nband (median PSNR ≥ 40 dB, ≥ 8/10 at ≥ 30 dB, label acc ≥ 9/10): ${ok ? "met" : "NOT met"} — ${at30} of ${rows.length} at ≥ 30 dB`);
    }
  }
  const shownSetting = every.filter((r) => r.x).at(-1)?.setting;
  if (o.figure && shownSetting) {
    const shown = every.filter((r) => r.setting === shownSetting && r.x).map((r) => ({ ...r, target: Float32Array.from(r.target!), x: Float32Array.from(r.x!) }));
    const png = await labelledGridPng({
      title: `${shownSetting}: the reconstruction and its negative (PSNR in dB)`,
      cells: shown.map((r) => [r.target, r.x, Float32Array.from(r.x, (v) => -v)]),
      cellNotes: shown.map((r) => ["", `${r.psnr.toFixed(1)} dB`, `${psnr(Float32Array.from(r.x, (v) => -v), r.target).toFixed(1)} dB`]),
      rowLabels: shown.map((r) => `seed ${r.seed}`),
      columnLabels: ["target", "reconstruction", "its negative"],
    });
    await writeFileAtomic(o.figure, png);
  }
  if (o.json) await writeFileAtomic(o.json, JSON.stringify({ iterations: o.iterations, seeds, rows: every.map(jsonRow) }, null, 1) + "\n");
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
