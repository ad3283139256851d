/**
 * The FedAvg study (docs/fedavg.md): LeNet, one client, round 0, E local steps on n images (b = n:
 * every step sees all n, so the data order does not matter) through a defense, attacked by the
 * FedAvg attacker (attack/fedavg.ts: it simulates the E steps on its dummies). A point is
 * `fl --clients 1 --rounds 1 --model lenet --dlg_attack True --attack_round 0 --local_steps E
 * --attack_batch_size n --local_batch n --defense D`; its record (a task of the one runner) holds the
 * matched PSNR of each image (optimal assignment when n > 1), how many are recovered (each against its
 * own mean-image bar + 3 dB), label accuracy (the label multiset), bytes up and the attack's seconds.
 */
import { FL_DEFAULTS, demoView, type FLConfig } from "../trial/fl_config";
import { clientDefense } from "../trial/demo_config";
import { federatedOptions, setupFL } from "../trial/fl_run";
import { initParams, loadData } from "../trial/demo";
import { meanImage } from "../data/mnist";
import { runFederated } from "../threat/federated/simulation";
import { attackWatched } from "../trial/fl_attack";
import { publicData } from "../attack/label_counts";
import { tf } from "../core/tf";
import { psnr as psnrOf } from "../metrics/image";
import { isRecovered } from "../metrics/readings";
import { fieldsProblem, type FieldType } from "./record";
import { medianOrNaN as median } from "./summary";
import type { StudyTask, TaskOutcome } from "./task";

export interface FedAvgStudy {
  steps: number[];
  n: number[];
  /** `fl --defense` names, one point each. */
  defenses: string[];
  seeds: number[];
  iterations: number;
  localLr: number;
  localMomentum: number;
  attack: FLConfig["attack_method"];
  optimizer: FLConfig["attack_optimizer"];
}

export interface FedAvgPoint {
  steps: number; n: number; defense: string; seed: number; attack: string; optimizer: string; iterations: number;
  localLr: number; localMomentum: number; knowledge: string;
  psnr: number[]; recovered: number; baseline: number; labelAcc: number; bytes: number; dense: number; attackSeconds: number;
}

/** A point's key: `lenet-dgc0.9-n4-E5-s1`. */
export const fedavgKey = (p: { defense: string; n: number; E: number; seed: number }) => `lenet-${p.defense.replace(":", "")}-n${p.n}-E${p.E}-s${p.seed}`;

let data: ReturnType<typeof loadData> | null = null;

async function runPoint(st: FedAvgStudy, p: { seed: number; defense: string; n: number; E: number }): Promise<TaskOutcome<FedAvgPoint>> {
  const dgc = p.defense.startsWith("dgc");
  const cfg: FLConfig = {
    ...FL_DEFAULTS, model: "lenet", clients: 1, rounds: 1, seed: p.seed, dlg_attack: true, attack_round: 0,
    defense: p.defense, use_dgc: dgc, sparsity: dgc ? Number(p.defense.split(":")[1]) : FL_DEFAULTS.sparsity,
    local_steps: p.E, attack_batch_size: p.n, local_batch: p.n, local_lr: st.localLr, local_momentum: st.localMomentum,
    attack_method: st.attack, attack_optimizer: st.optimizer, attack_lr: 1, attack_epoch: st.iterations, return_epoch: st.iterations, victim_loss: "ce",
  };
  data ??= loadData(demoView(cfg));
  const ctx = await setupFL(cfg);
  const mean = meanImage(data.train);
  const params = initParams(ctx);
  // E = 1 is FedSGD in the simulation (the gradient is uploaded); E > 1 the delta
  const fed = runFederated(ctx.model, params, data.train, federatedOptions(cfg), ctx.rng);
  tf.dispose(params);
  const w = fed.watched!;
  const a = attackWatched(ctx.model, w, {
    method: cfg.attack_method, optimizer: cfg.attack_optimizer, victimLoss: "ce", iterations: st.iterations, lr: cfg.attack_lr, returnEvery: st.iterations,
    windowSize: cfg.window_size, labelInit: cfg.label_init, labelRule: cfg.label_rule, rng: ctx.rng, mean, defense: clientDefense(cfg),
    publicLabelled: p.n > 1 ? publicData(data.test) : undefined, knowsOrder: false,
  });
  // labels as a multiset (the reconstructions' order is arbitrary): Σ_k min(predicted_k, true_k) / n
  const count = (ls: ArrayLike<number>) => Array.from({ length: 10 }, (_, k) => Array.from(ls).filter((l) => l === k).length);
  const pred = Array.from({ length: p.n }, (_, i) => { const row = a.y.subarray(i * 10, (i + 1) * 10); return row.indexOf(Math.max(...row)); });
  const [cp, ct] = [count(pred), count(w.target.y)];
  const labelAcc = cp.reduce((acc, c, k) => acc + Math.min(c, ct[k]), 0) / p.n;
  // per image, in target order (matched by optimal assignment when n > 1), each against its own mean-image bar
  const psnr = a.matched ? a.matched.pairs.map((q) => q.psnr) : [a.metrics.psnr];
  const px = w.target.x.length / p.n;
  const baselines = psnr.map((_, i) => psnrOf(mean, w.target.x.subarray(i * px, (i + 1) * px)));
  return {
    backend: ctx.backend,
    result: {
      steps: p.E, n: p.n, defense: p.defense, seed: p.seed, attack: st.attack, optimizer: st.optimizer, iterations: st.iterations, localLr: st.localLr, localMomentum: st.localMomentum,
      knowledge: a.fedavg?.line ?? `FedSGD: the gradient at θ_0 (E = 1), n = ${p.n}`,
      psnr, recovered: psnr.filter((x, i) => isRecovered(x, baselines[i])).length, baseline: a.baselinePsnr, labelAcc,
      bytes: fed.rounds[0].upBytes[0], dense: fed.rounds[0].totalValues, attackSeconds: a.seconds,
    },
  };
}

const FIELDS: [string, FieldType][] = [["steps", "number"], ["n", "number"], ["recovered", "number"], ["labelAcc", "number"], ["bytes", "number"], ["attackSeconds", "number"]];

/** The study's points as tasks of the one runner, seeds outermost (so a shard of the first seeds is a study of its own). */
export function fedavgTasks(st: FedAvgStudy): StudyTask<FedAvgPoint>[] {
  const points = st.seeds.flatMap((seed) => st.defenses.flatMap((defense) => st.n.flatMap((n) => st.steps.map((E) => ({ seed, defense, n, E })))));
  return points.map((p) => ({
    key: fedavgKey(p),
    config: { study: "fedavg", model: "lenet", ...p, iterations: st.iterations, localLr: st.localLr, localMomentum: st.localMomentum, attack: st.attack, optimizer: st.optimizer },
    run: () => runPoint(st, p),
    resultProblem: (r) => fieldsProblem(r, FIELDS),
    describe: (r) => {
      const x = r as FedAvgPoint;
      return `PSNR ${x.psnr.map((v) => v.toFixed(1)).join(" ")}, ${x.recovered} of ${x.n} recovered, labels ${x.labelAcc}`;
    },
  }));
}

/** The Markdown table of FedAvg records: a row per (defense, n, E), over seeds. */
export function fedavgMarkdown(recs: readonly FedAvgPoint[]): string {
  const groups = new Map<string, FedAvgPoint[]>();
  for (const r of recs) {
    const g = `${r.defense}|${r.n}|${r.steps}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const rows = [...groups.entries()].sort(([a], [b]) => {
    const [da, na, ea] = a.split("|");
    const [db, nb, eb] = b.split("|");
    return da.localeCompare(db) || Number(na) - Number(nb) || Number(ea) - Number(eb);
  });
  const lines = [
    "| defense | n | E | seeds | recovered / images | median matched PSNR (dB) | PSNR range (dB) | label counts right | bytes up | attack s (median) |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [, rs] of rows) {
    const r0 = rs[0];
    const ps = rs.flatMap((r) => r.psnr);
    lines.push(`| ${r0.defense} | ${r0.n} | ${r0.steps} | ${rs.map((r) => r.seed).sort((a, b) => a - b).join(", ")} | ${rs.reduce((a, r) => a + r.recovered, 0)} / ${rs.length * r0.n} | ${median(ps).toFixed(1)} | ${Math.min(...ps).toFixed(1)} – ${Math.max(...ps).toFixed(1)} | ${(rs.reduce((a, r) => a + r.labelAcc, 0) / rs.length).toFixed(2)} | ${Math.round(median(rs.map((r) => r.bytes)))} of ${4 * r0.dense} | ${median(rs.map((r) => r.attackSeconds)).toFixed(0)} |`);
  }
  return lines.join("\n");
}
