/**
 * The multi-seed study of Examples 1 and 2 (not a test): each seed is a different victim image.
 * Per seed: PSNR, SSIM and label accuracy at the last snapshot the seed prints (iteration 1900 of
 * 2000: where the original's numbers in SPEC.md are read, not the final iteration), the true and the guessed label,
 * and the attack's seconds; medians; for both dummy-label starts; optionally LeNet. One task per
 * setting and seed on the one study runner (records in --out; resumable, --jobs, --shard).
 *   npm run study:attack -- [--seeds 10] [--label_init ones,guess] [--lenet_seeds 3] [--out study-attack] [--jobs N] [--summary]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { medianOrNaN as median } from "../lib/study/summary";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import { loadMnist, type MnistSplit } from "../lib/data/mnist";
import { makeConfig, type DemoConfig, type LabelInit } from "../lib/trial/demo_config";
import { runAttack, scheduleRecords, setupRun } from "../lib/trial/demo";
import type { StudyTask } from "../lib/study/task";

const PROG = "study_attack";
const LABEL_INITS: readonly LabelInit[] = ["ones", "guess"];

interface Setting { id: string; title: string; cfg: Partial<DemoConfig>; seeds: number[] }
interface AttackRow { seed: number; label: number; guess: number; sent: number; iteration: number; psnr: number; ssim: number; labelAcc: number; attackSeconds: number }

let train: MnistSplit | undefined;

function settingTasks(s: Setting): StudyTask<AttackRow>[] {
  return s.seeds.map((seed) => ({
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

function table(s: Setting, out: string): AttackRow[] {
  const recs = taskRecords<AttackRow>(out, settingTasks(s));
  if (!recs.length) return recs;
  console.log(`\n### ${s.title} — backend ${recs.at(-1)!.backend}, iteration ${recs[0].iteration}\n`);
  console.log("| seed | label | guess | sent | PSNR | SSIM | labels_acc | seconds |\n|---|---|---|---|---|---|---|---|");
  for (const r of recs) {
    console.log(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent} | ${r.psnr.toFixed(2)} | ${r.ssim.toFixed(4)} | ${r.labelAcc.toFixed(1)} | ${r.attackSeconds.toFixed(2)} |`);
  }
  const acc = recs.filter((r) => r.labelAcc === 1).length;
  console.log(`| median | | | | ${median(recs.map((r) => r.psnr)).toFixed(2)} | ${median(recs.map((r) => r.ssim)).toFixed(4)} | ${acc} of ${recs.length} | ${median(recs.map((r) => r.attackSeconds)).toFixed(2)} |`);
  return recs;
}

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-attack"),
    seeds: { kind: "seeds", default: "10", help: "seeds: n (1..n), a-b or a list" },
    label_init: { kind: "choices", choices: LABEL_INITS, default: "ones,guess", help: "dummy-label starts" },
    lenet_seeds: { kind: "int", min: 0, max: 100_000, default: 3, help: "seeds 1..n for LeNet (0: skip)" },
  }, process.argv.slice(2), "The multi-seed study of Examples 1 and 2 (Markdown on stdout)");
  checkStudyOut(PROG, o);
  const pairs = (o.label_init as LabelInit[]).map((label_init): [Setting, Setting] => [
    { id: `ex2-${label_init}`, title: `Example 2 (Momentum, train_lr 0.01), label_init ${label_init}`, cfg: { use_dgc: false, train_lr: 0.01, label_init }, seeds: o.seeds },
    { id: `ex1-${label_init}`, title: `Example 1 (DGC 0.8, train_lr 0.001), label_init ${label_init}`, cfg: { use_dgc: true, train_lr: 0.001, label_init }, seeds: o.seeds },
  ]);
  const lenetSeeds = Array.from({ length: o.lenet_seeds }, (_, i) => i + 1);
  const lenet: Setting[] = lenetSeeds.length ? [
    { id: "lenet-momentum", title: "LeNet, Momentum (train_lr 0.01)", cfg: { model: "lenet", use_dgc: false, train_lr: 0.01 }, seeds: lenetSeeds },
    { id: "lenet-dgc0.8", title: "LeNet, DGC 0.8 (train_lr 0.001)", cfg: { model: "lenet", use_dgc: true, train_lr: 0.001 }, seeds: lenetSeeds },
  ] : [];
  const all = [...pairs.flat(), ...lenet].flatMap(settingTasks);
  if (!o.summary) await runStudyCli(all, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  for (const [ex2, ex1] of pairs) {
    const m = table(ex2, o.out);
    const d = table(ex1, o.out);
    if (m.length && d.length) {
      const gap = median(m.map((r) => r.psnr)) - median(d.map((r) => r.psnr));
      console.log(`\nmedian PSNR gap, Momentum − DGC (label_init ${(ex2.cfg.label_init)}): ${gap.toFixed(2)} dB`);
    }
  }
  for (const s of lenet) table(s, o.out);
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
