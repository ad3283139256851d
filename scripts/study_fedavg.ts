#!/usr/bin/env node
/**
 * A small FedAvg study (docs/fedavg.md), in one process (MNIST loaded once), resumable:
 *   node dist/scripts/study_fedavg.js [--out dir] [--steps 1,2,5] [--n 1,4] [--defense none,dgc:0.9]
 *        [--seeds 1,2] [--iterations 10] [--local_lr 0.1] [--local_momentum 0] [--attack adaptive] [--optimizer lbfgs]
 *        [--shard i/k]
 *   node dist/scripts/study_fedavg.js --summary --out dir      the Markdown table of what is there
 * Each point is `fl --clients 1 --rounds 1 --model lenet --dlg_attack True --attack_round 0
 * --local_steps E --attack_batch_size n --local_batch n` (b = n: every step sees all n images, so the
 * data order does not matter) through the defense, attacked by the FedAvg attacker; one JSON record per
 * point in <out>/<key>.json: matched PSNR per image, recovered count, label accuracy, bytes, seconds.
 * This is a stand-alone script beside lib/study's federated machinery, to be folded into `runTrial`'s
 * grid at merge.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FL_DEFAULTS, flDefense, type FLConfig } from "../lib/trial/fl_config";
import { federatedOptions, setupFL } from "../lib/trial/fl_run";
import { initParams, loadData } from "../lib/trial/demo";
import { demoView } from "../lib/trial/fl_config";
import { meanImage } from "../lib/data/mnist";
import { runFederated } from "../lib/threat/federated/simulation";
import { attackWatched } from "../lib/trial/fl_attack";
import { publicData } from "../lib/attack/label_counts";
import { tf } from "../lib/core/tf";
import { psnr as psnrOf } from "../lib/metrics/image";
import { RECOVERY_MARGIN_DB } from "../lib/metrics/readings";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);

interface PointRecord {
  key: string; steps: number; n: number; defense: string; seed: number; attack: string; optimizer: string; iterations: number;
  localLr: number; localMomentum: number; knowledge: string;
  psnr: number[]; recovered: number; baseline: number; labelAcc: number; bytes: number; dense: number; seconds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function summary(out: string): string {
  const recs: PointRecord[] = readdirSync(out).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(out, f), "utf8")));
  const groups = new Map<string, PointRecord[]>();
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
    lines.push(`| ${r0.defense} | ${r0.n} | ${r0.steps} | ${rs.map((r) => r.seed).sort().join(", ")} | ${rs.reduce((a, r) => a + r.recovered, 0)} / ${rs.length * r0.n} | ${median(ps).toFixed(1)} | ${Math.min(...ps).toFixed(1)} – ${Math.max(...ps).toFixed(1)} | ${(rs.reduce((a, r) => a + r.labelAcc, 0) / rs.length).toFixed(2)} | ${Math.round(median(rs.map((r) => r.bytes)))} of ${4 * r0.dense} | ${median(rs.map((r) => r.seconds)).toFixed(0)} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const out = arg("out", "study-fedavg");
  if (process.argv.includes("--summary")) {
    console.log(summary(out));
    return;
  }
  mkdirSync(out, { recursive: true });
  const steps = list(arg("steps", "1,2,5")).map(Number);
  const ns = list(arg("n", "1,4")).map(Number);
  const defenses = list(arg("defense", "none,dgc:0.9"));
  const seeds = list(arg("seeds", "1,2")).map(Number);
  const iterations = Number(arg("iterations", "10"));
  const localLr = Number(arg("local_lr", "0.1"));
  const localMomentum = Number(arg("local_momentum", "0"));
  const attack = arg("attack", "adaptive") as FLConfig["attack_method"];
  const optimizer = arg("optimizer", "lbfgs") as FLConfig["attack_optimizer"];
  const [shardI, shardK] = arg("shard", "0/1").split("/").map(Number);
  const points = seeds.flatMap((seed) => defenses.flatMap((defense) => ns.flatMap((n) => steps.map((E) => ({ seed, defense, n, E })))));
  let data: ReturnType<typeof loadData> | null = null;
  for (const [i, p] of points.entries()) {
    if (i % shardK !== shardI) continue;
    const key = `lenet-${p.defense.replace(":", "")}-n${p.n}-E${p.E}-s${p.seed}`;
    const file = join(out, `${key}.json`);
    if (existsSync(file)) continue;
    const cfg: FLConfig = {
      ...FL_DEFAULTS, model: "lenet", clients: 1, rounds: 1, seed: p.seed, dlg_attack: true, attack_round: 0,
      defense: p.defense, use_dgc: p.defense.startsWith("dgc"), sparsity: p.defense.startsWith("dgc") ? Number(p.defense.split(":")[1]) : FL_DEFAULTS.sparsity,
      local_steps: p.E, attack_batch_size: p.n, local_batch: p.n, local_lr: localLr, local_momentum: localMomentum,
      attack_method: attack, attack_optimizer: optimizer, attack_lr: 1, attack_epoch: iterations, return_epoch: iterations, victim_loss: "ce",
    };
    data ??= loadData(demoView(cfg));
    const ctx = await setupFL(cfg);
    const mean = meanImage(data.train);
    const params = initParams(ctx);
    // E = 1 is FedSGD in the simulation (the gradient is uploaded); E > 1 the delta
    const fed = runFederated(ctx.model, params, data.train, federatedOptions(cfg), ctx.rng);
    const a = attackWatched(ctx.model, fed.watched!, {
      method: cfg.attack_method, optimizer: cfg.attack_optimizer, victimLoss: "ce", iterations, lr: cfg.attack_lr, returnEvery: iterations,
      windowSize: cfg.window_size, labelInit: cfg.label_init, labelRule: cfg.label_rule, rng: ctx.rng, mean, defense: flDefense(cfg),
      publicLabelled: p.n > 1 ? publicData(data.test) : undefined, knowsOrder: false,
    });
    tf.dispose(params);
    // labels as a multiset (the reconstructions' order is arbitrary): Σ_k min(predicted_k, true_k) / n
    const count = (ls: ArrayLike<number>) => Array.from({ length: 10 }, (_, k) => Array.from(ls).filter((l) => l === k).length);
    const pred = Array.from({ length: p.n }, (_, i) => { const row = a.y.subarray(i * 10, (i + 1) * 10); return row.indexOf(Math.max(...row)); });
    const [cp, ct] = [count(pred), count(fed.watched!.target.y)];
    const labelAcc = cp.reduce((acc, c, k) => acc + Math.min(c, ct[k]), 0) / p.n;
    // per image, in target order (matched by optimal assignment when n > 1), each against its own mean-image bar
    const psnr = a.matched ? a.matched.pairs.map((q) => q.psnr) : [a.metrics.psnr];
    const tx = fed.watched!.target.x;
    const bars = psnr.map((_, i) => psnrOf(mean, tx.subarray(i * 784, (i + 1) * 784)) + RECOVERY_MARGIN_DB);
    const rec: PointRecord = {
      key, steps: p.E, n: p.n, defense: p.defense, seed: p.seed, attack, optimizer, iterations, localLr, localMomentum,
      knowledge: a.fedavg?.line ?? `FedSGD: the gradient at θ_0 (E = 1), n = ${p.n}`,
      psnr, recovered: psnr.filter((x, i) => x >= bars[i]).length, baseline: a.baselinePsnr, labelAcc,
      bytes: fed.rounds[0].upBytes[0], dense: fed.rounds[0].totalValues, seconds: a.seconds,
    };
    writeFileSync(file, JSON.stringify(rec) + "\n");
    console.log(`${key}: psnr ${psnr.map((x) => x.toFixed(1)).join(" ")} (bars ${bars.map((x) => x.toFixed(1)).join(" ")}), labels ${labelAcc}, ${a.seconds.toFixed(0)} s`);
  }
}

main().catch((e) => {
  console.error(`study_fedavg: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
