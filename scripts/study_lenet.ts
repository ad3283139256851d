/**
 * The LeNet study (not a test): the DLG paper's setting — LeNet (sigmoid, U(−0.5, 0.5)), one
 * MNIST image, the victim's first step from an untrained model, L-BFGS (lr 1, torch's defaults)
 * for 300 iterations — over seeds (each seed: a different victim image, initialization and dummy
 * start), against Momentum (the raw gradient) and DGC 0.8 / 0.9 (the sparse u·mask).
 * Per attack: PSNR, the seed's SSIM, the 8-bit SSIM, the sign-aware PSNR, label accuracy, seconds,
 * and the recovery count by the project's rule (PSNR ≥ the mean image's + 3 dB; "inv" counts the
 * reconstructions recovered only as negatives). Markdown on stdout, every row as JSON to --json.
 *   npm run study:lenet -- [--seeds 10] [--iterations 300] [--only momentum|dgc|analytic|sign|extra] [--sparsity 0.8]
 *                          [--json out.json] [--figure out.png]
 */
import { parseFlagsOrExit, usageExit } from "../cli/flags";
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
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

async function main() {
  const o = parseFlagsOrExit("study_lenet", {
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
    usageExit("study_lenet", `no setting${o.only ? ` of --only ${o.only}` : ""} has --sparsity ${o.sparsity} (${have.length ? `choose from ${have.join(", ")}` : "its settings have no sparsity"})`);
  }
  const train = loadMnist("train");
  const mean = meanImage(train);
  const all: Record<string, unknown>[] = [];
  const figureRows: { setting: string; seed: number; target: Float32Array; x: Float32Array; psnr: number }[] = [];
  for (const s of settings) {
    const rows = [];
    let backend = "";
    for (const seed of seeds) {
      const iterations = s.cfg.attack_epoch ?? o.iterations;
      const cfg = makeConfig({ model: "lenet", ...s.cfg, dlg_attack: true, seed, attack_epoch: iterations, return_epoch: Math.max(1, iterations - 1) });
      const ctx = await setupRun(cfg);
      backend = ctx.backend;
      const run = runAttack(ctx, train, {}, {}, mean);
      const last = run.records[run.records.length - 1];
      const baseline = psnr(mean, run.target.x);
      const row = {
        setting: s.name, seed, label: run.target.y[0], guess: run.guess, sent: run.sent.sent.reduce((a, b) => a + b, 0),
        psnr: last.psnr, ssim: last.ssim, ssim8: last.ssim8, signPsnr: last.signAware.psnr, signSsim8: last.signAware.ssim8,
        inverted: last.signAware.inverted, labelAcc: last.labelAcc, baseline, recovery: recovery(last.psnr, last.signAware.psnr, baseline),
        seconds: run.seconds, iteration: last.iteration, pixelsRecovered: run.analytic?.recoveredCount ?? null,
      };
      rows.push(row);
      all.push(row);
      if (s.group === "sign" && seed <= 4) figureRows.push({ setting: s.name, seed, target: run.target.x, x: run.snapshots[run.snapshots.length - 1].x, psnr: last.psnr });
    }
    const its = s.group === "analytic" ? "no iterations" : `${rows[0].iteration + 1} iterations (metrics after iteration ${rows[0].iteration})`;
    console.log(`\n### ${s.name} — ${s.cfg.model === "linear" ? "Linear" : "LeNet"}, backend ${backend}, ${its}\n`);
    console.log("| seed | label | guess | sent | PSNR | SSIM | SSIM 8-bit | sign-aware PSNR | read inverted | label acc | recovered | seconds |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent}${r.pixelsRecovered === null ? "" : ` (${r.pixelsRecovered} px)`} | ${f(r.psnr)} | ${f(r.ssim, 4)} | ${f(r.ssim8, 4)} | ${f(r.signPsnr)} | ${r.inverted ? "yes" : "no"} | ${r.labelAcc.toFixed(1)} | ${r.recovery} | ${f(r.seconds)} |`);
    }
    const rec = rows.filter((r) => r.recovery === "recovered").length;
    const inv = rows.filter((r) => r.recovery === "recovered inverted").length;
    const acc = rows.filter((r) => r.labelAcc === 1).length;
    console.log(
      `| median | | | | ${f(median(rows.map((r) => r.psnr)))} | ${f(median(rows.map((r) => r.ssim)), 4)} | ${f(median(rows.map((r) => r.ssim8)), 4)} | ${f(median(rows.map((r) => r.signPsnr)))} | ${rows.filter((r) => r.inverted).length} of ${rows.length} | ${acc} of ${rows.length} | ${rec} (+${inv} inv) of ${rows.length} | ${f(median(rows.map((r) => r.seconds)))} |`,
    );
    if (s.band) {
      const at30 = rows.filter((r) => r.psnr >= 30).length;
      const ok = median(rows.map((r) => r.psnr)) >= 40 && at30 >= Math.ceil(0.8 * rows.length) && acc >= Math.ceil(0.9 * rows.length);
      console.log(`\nband (median PSNR ≥ 40 dB, ≥ 8/10 at ≥ 30 dB, label acc ≥ 9/10): ${ok ? "met" : "NOT met"} — ${at30} of ${rows.length} at ≥ 30 dB`);
    }
  }
  if (o.figure && figureRows.length) {
    const setting = figureRows[figureRows.length - 1].setting;
    const shown = figureRows.filter((r) => r.setting === setting);
    const png = await labelledGridPng({
      title: `${setting}: the reconstruction and its negative (PSNR in dB)`,
      cells: shown.map((r) => [r.target, r.x, Float32Array.from(r.x, (v) => -v)]),
      cellNotes: shown.map((r) => ["", `${r.psnr.toFixed(1)} dB`, `${psnr(Float32Array.from(r.x, (v) => -v), r.target).toFixed(1)} dB`]),
      rowLabels: shown.map((r) => `seed ${r.seed}`),
      columnLabels: ["target", "reconstruction", "its negative"],
    });
    await writeFileAtomic(o.figure, png);
  }
  if (o.json) await writeFileAtomic(o.json, JSON.stringify({ iterations: o.iterations, seeds, rows: all }, null, 1) + "\n");
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
