/**
 * The LeNet study (not a test): the DLG paper's setting — LeNet (sigmoid, U(−0.5, 0.5)), one
 * MNIST image, the victim's first step from an untrained model, L-BFGS (lr 1, torch's defaults)
 * for 300 iterations — over seeds (each seed: a different victim image, initialization and dummy
 * start), against Momentum (the raw gradient) and DGC 0.8 / 0.9 (the sparse u·mask); and, for
 * reference, the analytic attack and IG on the seed's Linear model. Per attack: PSNR, the seed's SSIM,
 * the 8-bit SSIM, the sign-aware PSNR, label accuracy, seconds, and the recovery count by the
 * project's rule ("inv": recovered only as negatives). One task per setting and seed; the tables,
 * the figure and the JSON are read back from the records.
 */
import { medianOrNaN as median } from "./summary";
import { fieldsProblem, type StudyRecord } from "./record";
import { labelledGridPng } from "../viz/labelled";
import { loadMnist, meanImage, type MnistSplit } from "../data/mnist";
import { makeConfig, type DemoConfig } from "../trial/demo_config";
import { psnr } from "../metrics/image";
import { recovery } from "../metrics/readings";
import { runAttack, setupRun } from "../trial/demo";
import type { StudyTask } from "./task";

export interface Setting {
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

export const SETTINGS: Setting[] = [
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

export const GROUPS: readonly Setting["group"][] = ["momentum", "dgc", "analytic", "sign", "extra"];
const f = (x: number | null, d = 2) => (x !== null && Number.isFinite(x) ? x.toFixed(d) : String(x));

export interface LenetRow {
  setting: string; seed: number; label: number; guess: number; sent: number; psnr: number; ssim: number; ssim8: number; signPsnr: number; signSsim8: number;
  inverted: number; labelAcc: number; baseline: number; recovery: string; attackSeconds: number; iteration: number; pixelsRecovered: number | null;
  /** The sign group's seeds 1–4 (the figure): the target and the reconstruction. */
  target?: number[]; x?: number[];
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
let data: { train: MnistSplit; mean: Float32Array } | undefined;

export function settingTasks(s: Setting, seeds: number[], steps: number): StudyTask<LenetRow>[] {
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
export function jsonRow(r: LenetRow): Record<string, unknown> {
  const { target: _t, x: _x, attackSeconds, setting, seed, label, guess, sent, psnr: p, ssim, ssim8, signPsnr, signSsim8, inverted, labelAcc, baseline, recovery: rc, iteration, pixelsRecovered } = r;
  return { setting, seed, label, guess, sent, psnr: p, ssim, ssim8, signPsnr, signSsim8, inverted, labelAcc, baseline, recovery: rc, seconds: attackSeconds, iteration, pixelsRecovered };
}


type Rec = StudyRecord & LenetRow;

/** The tables of `settings` (in their order), from the records; with the Momentum settings' band. */
export function lenetMarkdown(settings: readonly Setting[], recs: readonly Rec[]): string {
  const out: string[] = [];
  for (const s of settings) {
    const rows = recs.filter((r) => r.setting === s.name).sort((a, b) => a.seed - b.seed);
    if (!rows.length) continue;
    const its = s.group === "analytic" ? "no iterations" : `${rows[0].iteration + 1} iterations (metrics after iteration ${rows[0].iteration})`;
    out.push(`\n### ${s.name} — ${s.cfg.model === "linear" ? "Linear" : "LeNet"}, backend ${rows.at(-1)!.backend}, ${its}\n`);
    out.push("| seed | label | guess | sent | PSNR | SSIM | SSIM 8-bit | sign-aware PSNR | read inverted | label acc | recovered | seconds |");
    out.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      out.push(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent}${r.pixelsRecovered === null ? "" : ` (${r.pixelsRecovered} px)`} | ${f(r.psnr)} | ${f(r.ssim, 4)} | ${f(r.ssim8, 4)} | ${f(r.signPsnr)} | ${r.inverted ? "yes" : "no"} | ${r.labelAcc.toFixed(1)} | ${r.recovery} | ${f(r.attackSeconds)} |`);
    }
    const rec = rows.filter((r) => r.recovery === "recovered").length;
    const inv = rows.filter((r) => r.recovery === "recovered inverted").length;
    const acc = rows.filter((r) => r.labelAcc === 1).length;
    out.push(
      `| median | | | | ${f(median(rows.map((r) => r.psnr)))} | ${f(median(rows.map((r) => r.ssim)), 4)} | ${f(median(rows.map((r) => r.ssim8)), 4)} | ${f(median(rows.map((r) => r.signPsnr)))} | ${rows.filter((r) => r.inverted).length} of ${rows.length} | ${acc} of ${rows.length} | ${rec} (+${inv} inv) of ${rows.length} | ${f(median(rows.map((r) => r.attackSeconds)))} |`,
    );
    if (s.band) {
      const at30 = rows.filter((r) => r.psnr >= 30).length;
      const ok = median(rows.map((r) => r.psnr)) >= 40 && at30 >= Math.ceil(0.8 * rows.length) && acc >= Math.ceil(0.9 * rows.length);
      out.push(`\nband (median PSNR ≥ 40 dB, ≥ 8/10 at ≥ 30 dB, label acc ≥ 9/10): ${ok ? "met" : "NOT met"} — ${at30} of ${rows.length} at ≥ 30 dB`);
    }
  }
  return out.join("\n");
}

/** The sign group's figure: target, reconstruction and its negative for seeds 1–4 of the last setting shown; null without one. */
export async function lenetFigure(recs: readonly Rec[]): Promise<Buffer | null> {
  const setting = recs.filter((r) => r.x).at(-1)?.setting;
  if (!setting) return null;
  const shown = recs.filter((r) => r.setting === setting && r.x).map((r) => ({ ...r, target: Float32Array.from(r.target!), x: Float32Array.from(r.x!) }));
  return labelledGridPng({
    title: `${setting}: the reconstruction and its negative (PSNR in dB)`,
    cells: shown.map((r) => [r.target, r.x, Float32Array.from(r.x, (v) => -v)]),
    cellNotes: shown.map((r) => ["", `${r.psnr.toFixed(1)} dB`, `${psnr(Float32Array.from(r.x, (v) => -v), r.target).toFixed(1)} dB`]),
    rowLabels: shown.map((r) => `seed ${r.seed}`),
    columnLabels: ["target", "reconstruction", "its negative"],
  });
}
