/**
 * The seed's four examples over seeds (not tests): Examples 3 and 4's training (running accuracy at
 * epoch 1, batch id 900 — where SPEC.md reads the original — test accuracy, seconds) and Examples 1
 * and 2's attack (PSNR, SSIM and label accuracy at the last snapshot the seed prints, iteration 1900 of
 * 2000, for both dummy-label starts; optionally on LeNet). Each seed is a different victim image and
 * initialization. One task per setting and seed; the tables are read back from the records.
 */
import { medianOrNaN as median } from "./summary";
import { fieldsProblem, type StudyRecord } from "./record";
import { loadData, runAttack, runTraining, scheduleRecords, setupRun } from "../trial/demo";
import { makeConfig, type DemoConfig, type LabelInit } from "../trial/demo_config";
import { loadMnist, type MnistSplit } from "../data/mnist";
import { tf } from "../core/tf";
import type { BackendChoice } from "../core/backend";
import type { StudyTask } from "./task";

export const TRAIN_EXAMPLES: { id: string; name: string; cfg: Partial<DemoConfig>; band: [number, number] }[] = [
  { id: "ex3", name: "Example 3 (Momentum, lr 0.01)", cfg: { use_dgc: false, train_lr: 0.01 }, band: [0.88, 0.93] },
  { id: "ex4", name: "Example 4 (DGC 0.8, lr 0.001)", cfg: { use_dgc: true, train_lr: 0.001, sparsity: 0.8 }, band: [0.8, 0.92] },
];

export interface TrainRow { seed: number; acc: number; test: number; trainSeconds: number }
type Rec<R> = StudyRecord & R & { config: { setting: string } };

let data: ReturnType<typeof loadData> | undefined;

export function trainTasks(seeds: readonly number[], backend: BackendChoice): StudyTask<TrainRow>[] {
  return TRAIN_EXAMPLES.flatMap((ex) => seeds.map((seed): StudyTask<TrainRow> => ({
    key: `train-${ex.id}-seed${seed}`,
    config: { study: "train", setting: ex.id, ...ex.cfg, seed, backend },
    run: async () => {
      data ??= loadData(makeConfig());
      const ctx = await setupRun(makeConfig({ ...ex.cfg, seed, backend }));
      const run = runTraining(ctx, data);
      tf.dispose(run.params);
      const r = run.history.find((h) => h.epoch === 1 && h.batch === 900)!;
      return { backend: ctx.backend, result: { seed, acc: r.acc, test: run.testAccuracy!, trainSeconds: run.seconds } };
    },
    resultProblem: (r) => fieldsProblem(r, [["acc", "number"], ["test", "number"], ["trainSeconds", "number"]]),
    describe: (r) => `acc at epoch 1, batch 900: ${(r as TrainRow).acc.toFixed(4)}`,
  })));
}

/** Examples 3 and 4's tables (per example: a row per seed, the medians, the band). */
export function trainMarkdown(recs: readonly Rec<TrainRow>[]): string {
  const out: string[] = [];
  for (const ex of TRAIN_EXAMPLES) {
    const rs = recs.filter((r) => r.config.setting === ex.id).sort((a, b) => a.seed - b.seed);
    if (!rs.length) continue;
    const m = median(rs.map((r) => r.acc));
    out.push(`\n### ${ex.name} — backend ${rs.at(-1)!.backend}\n`);
    out.push("| seed | acc at epoch 1, batch 900 | test acc | seconds (2 epochs + test) |\n|---|---|---|---|");
    for (const r of rs) out.push(`| ${r.seed} | ${r.acc.toFixed(4)} | ${r.test.toFixed(4)} | ${r.trainSeconds.toFixed(2)} |`);
    out.push(`| median | ${m.toFixed(4)} | ${median(rs.map((r) => r.test)).toFixed(4)} | ${median(rs.map((r) => r.trainSeconds)).toFixed(2)} |`);
    out.push(`\nband [${ex.band[0]}, ${ex.band[1]}]: median ${m >= ex.band[0] && m <= ex.band[1] ? "inside" : "OUTSIDE"}`);
  }
  return out.join("\n");
}

export const LABEL_INITS: readonly LabelInit[] = ["ones", "guess"];

interface AttackSetting { id: string; title: string; cfg: Partial<DemoConfig> }
/** Example 2 then Example 1 for a dummy-label start; the LeNet pair. */
const examplePair = (li: LabelInit): [AttackSetting, AttackSetting] => [
  { id: `ex2-${li}`, title: `Example 2 (Momentum, train_lr 0.01), label_init ${li}`, cfg: { use_dgc: false, train_lr: 0.01, label_init: li } },
  { id: `ex1-${li}`, title: `Example 1 (DGC 0.8, train_lr 0.001), label_init ${li}`, cfg: { use_dgc: true, train_lr: 0.001, label_init: li } },
];
const LENET_PAIR: AttackSetting[] = [
  { id: "lenet-momentum", title: "LeNet, Momentum (train_lr 0.01)", cfg: { model: "lenet", use_dgc: false, train_lr: 0.01 } },
  { id: "lenet-dgc0.8", title: "LeNet, DGC 0.8 (train_lr 0.001)", cfg: { model: "lenet", use_dgc: true, train_lr: 0.001 } },
];

export interface AttackRow { seed: number; label: number; guess: number; sent: number; iteration: number; psnr: number; ssim: number; labelAcc: number; attackSeconds: number }

let train: MnistSplit | undefined;

function attackSettingTasks(s: AttackSetting, seeds: readonly number[]): StudyTask<AttackRow>[] {
  return seeds.map((seed) => ({
    key: `attack-${s.id}-seed${seed}`,
    config: { study: "attack", setting: s.id, ...s.cfg, seed },
    run: async () => {
      train ??= loadMnist("train");
      const ctx = await setupRun(makeConfig({ ...s.cfg, dlg_attack: true, seed }));
      const run = runAttack(ctx, train);
      // the seed's last printed line (the final iteration, off its schedule, is not in the original's numbers)
      const last = scheduleRecords(run.records).at(-1)!;
      return {
        backend: ctx.backend,
        result: { seed, label: run.target.y[0], guess: run.guess, sent: run.sent.sent.reduce((a, b) => a + b, 0), iteration: last.iteration, psnr: last.psnr, ssim: last.ssim, labelAcc: last.labelAcc, attackSeconds: run.seconds },
      };
    },
    resultProblem: (r) => fieldsProblem(r, [["psnr", "number"], ["ssim", "number"], ["labelAcc", "number"], ["iteration", "number"]]),
    describe: (r) => `PSNR ${(r as AttackRow).psnr.toFixed(2)} dB at iteration ${(r as AttackRow).iteration}`,
  }));
}

/** Examples 2 and 1 for each dummy-label start over `seeds`, then LeNet's pair over 1..lenetSeeds. */
export function attackTasks(labelInits: readonly LabelInit[], seeds: readonly number[], lenetSeeds: number): StudyTask<AttackRow>[] {
  const ls = Array.from({ length: lenetSeeds }, (_, i) => i + 1);
  return [...labelInits.flatMap((li) => examplePair(li).flatMap((s) => attackSettingTasks(s, seeds))), ...(ls.length ? LENET_PAIR.flatMap((s) => attackSettingTasks(s, ls)) : [])];
}

function attackTable(s: AttackSetting, recs: readonly Rec<AttackRow>[], out: string[]): Rec<AttackRow>[] {
  const rs = recs.filter((r) => r.config.setting === s.id).sort((a, b) => a.seed - b.seed);
  if (!rs.length) return rs;
  out.push(`\n### ${s.title} — backend ${rs.at(-1)!.backend}, iteration ${rs[0].iteration}\n`);
  out.push("| seed | label | guess | sent | PSNR | SSIM | labels_acc | seconds |\n|---|---|---|---|---|---|---|---|");
  for (const r of rs) out.push(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent} | ${r.psnr.toFixed(2)} | ${r.ssim.toFixed(4)} | ${r.labelAcc.toFixed(1)} | ${r.attackSeconds.toFixed(2)} |`);
  const acc = rs.filter((r) => r.labelAcc === 1).length;
  out.push(`| median | | | | ${median(rs.map((r) => r.psnr)).toFixed(2)} | ${median(rs.map((r) => r.ssim)).toFixed(4)} | ${acc} of ${rs.length} | ${median(rs.map((r) => r.attackSeconds)).toFixed(2)} |`);
  return rs;
}

/** Examples 2 and 1's tables per dummy-label start with the median PSNR gap, then LeNet's. */
export function attackMarkdown(recs: readonly Rec<AttackRow>[]): string {
  const out: string[] = [];
  for (const li of LABEL_INITS) {
    const [ex2, ex1] = examplePair(li);
    const m = attackTable(ex2, recs, out);
    const d = attackTable(ex1, recs, out);
    if (m.length && d.length) out.push(`\nmedian PSNR gap, Momentum − DGC (label_init ${li}): ${(median(m.map((r) => r.psnr)) - median(d.map((r) => r.psnr))).toFixed(2)} dB`);
  }
  for (const s of LENET_PAIR) attackTable(s, recs, out);
  return out.join("\n");
}
