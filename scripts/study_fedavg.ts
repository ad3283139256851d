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
import { FL_DEFAULTS, type FLConfig } from "../lib/trial/fl_config";
import { clientDefense } from "../lib/trial/demo_config";
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
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { checkOutputDir, requireDir, ResultDirError } from "../lib/io/results";
import { ATTACK_METHODS, ATTACK_OPTIMIZERS } from "../lib/attack/spec";
import { parseDefenseArg } from "../lib/threat/channel/defenses";
import { medianOrNaN as median } from "../lib/study/summary";

const PROG = "study_fedavg";

/** --defense none,dgc:0.9: each NAME[:v] one defense point (checked by the registry, as fl checks --defense; dgc needs its sparsity), repeats dropped. */
const defenseList = (s: string): string[] => {
  const xs = s.split(",").map((x) => x.trim());
  if (xs.every((x) => x === "")) throw new Error("nothing given");
  for (const x of xs) {
    if (parseDefenseArg(x).length !== 1) throw new Error(`'${x}' is not one defense NAME[:v]`);
  }
  return [...new Set(xs)];
};
const shard = (s: string): [number, number] => {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || !Number.isSafeInteger(Number(m[2]))) throw new Error(`'${s}' is not i/n with 0 <= i < n`);
  return [Number(m[1]), Number(m[2])];
};

interface PointRecord {
  key: string; steps: number; n: number; defense: string; seed: number; attack: string; optimizer: string; iterations: number;
  localLr: number; localMomentum: number; knowledge: string;
  psnr: number[]; recovered: number; baseline: number; labelAcc: number; bytes: number; dense: number; seconds: number;
}

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
  const o = parseFlagsOrExit(PROG, {
    out: { kind: "string", nonEmpty: true, default: "study-fedavg", help: "the study's folder (its records; with --summary: read from)" },
    steps: { kind: "ints", min: 1, default: "1,2,5", help: "local steps E" },
    n: { kind: "ints", min: 1, default: "1,4", help: "images per client (the attacked batch; b = n)" },
    defense: { kind: "custom", parse: defenseList, default: ["none", "dgc:0.9"], help: "defenses, NAME[:v],… (default none,dgc:0.9)" },
    seeds: { kind: "ints", min: 0, default: "1,2", help: "seeds, a list" },
    iterations: { kind: "int", min: 1, default: 10, help: "attack iterations" },
    local_lr: { kind: "float", min: 0, minOpen: true, default: 0.1, help: "local learning rate" },
    local_momentum: { kind: "float", min: 0, max: 1, maxOpen: true, default: 0, help: "local momentum" },
    attack: { kind: "choice", choices: ATTACK_METHODS.filter((m) => m !== "analytic"), default: "adaptive", help: "the attack (analytic needs a Linear first layer; this study is LeNet's)" },
    optimizer: { kind: "choice", choices: ATTACK_OPTIMIZERS, default: "lbfgs", help: "the attack's optimizer" },
    shard: { kind: "custom", parse: shard, default: [0, 1] as [number, number], help: "i/n: run only points i, i + n, i + 2n, …" },
    summary: { kind: "switch", help: "print the Markdown table of --out's records" },
  }, process.argv.slice(2), "A small FedAvg study (docs/fedavg.md), resumable");
  const out = o.out;
  try {
    if (o.summary) requireDir(out, "--out");
    else checkOutputDir(out, "--out");
  } catch (e) {
    if (e instanceof ResultDirError) usageExit(PROG, e.message);
    throw e;
  }
  if (o.summary) {
    console.log(summary(out));
    return;
  }
  mkdirSync(out, { recursive: true });
  const steps = o.steps;
  const ns = o.n;
  const defenses = o.defense;
  const seeds = o.seeds;
  const iterations = o.iterations;
  const localLr = o.local_lr;
  const localMomentum = o.local_momentum;
  const attack = o.attack as FLConfig["attack_method"];
  const optimizer = o.optimizer as FLConfig["attack_optimizer"];
  const [shardI, shardK] = o.shard;
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
      windowSize: cfg.window_size, labelInit: cfg.label_init, labelRule: cfg.label_rule, rng: ctx.rng, mean, defense: clientDefense(cfg),
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
