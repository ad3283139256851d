/**
 * The attack, in a Web Worker, through the library's one trial (lib/trial/run.ts runTrial): the page's
 * threat model (the drawn image, the chosen model and defense of the registry) and the attack
 * registry's spec — the code the CLI and the notebooks run.
 * The page stops a run by terminating this worker (the attack loop is synchronous).
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../lib/core/tf";
import { initBackend } from "../lib/core/backend";
import { makeModel } from "../lib/models/registry";
import { defaultLr, type AttackSpec } from "../lib/attack/methods";
import { runTrial, type TrialHooks } from "../lib/trial/run";
import type { ThreatModel } from "../lib/threat/model";
import { psnr, ssim } from "../lib/metrics/image";
import { recovery, signAware, ssim8 } from "../lib/metrics/readings";
import { statsBytes } from "../lib/optim/wire";
import type { DefenseSpec } from "../lib/threat/channel/defenses";
import { ATTACK_PLAN, STRENGTH, type Settings } from "./settings";
import type { FromWorker, RunRequest, ToWorker } from "./protocol";

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const SHAPE = { batch: 1, height: 28, width: 28 };

/**
 * A small second-order workload like the attack's (the gradient of a gradient distance on a 784→10
 * layer): the fastest of `reps` timed runs after two warm-ups, in ms, so a busy machine's bursts count less.
 */
function probe(reps: number): number {
  const w = tf.randomNormal([784, 10]);
  const x0 = tf.randomNormal([1, 784]);
  const g0 = tf.randomNormal([784, 10]);
  const f = (x: tf.Tensor) => {
    const gw = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, ww))))(w);
    return tf.sum(tf.square(tf.sub(gw, g0))) as tf.Scalar;
  };
  const once = () => tf.tidy(() => tf.grad(f)(x0).dataSync());
  once();
  once();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    once();
    best = Math.min(best, performance.now() - t0);
  }
  tf.dispose([w, x0, g0]);
  return best;
}

/** Sets the backend; "auto" times the probe on wasm and webgl and keeps the faster. */
async function pickBackend(choice: Settings["backend"]): Promise<string> {
  setWasmPaths(new URL("./", self.location.href).href);
  if (choice === "wasm" || choice === "cpu") return `${await initBackend(choice)}`;
  if (choice === "webgl") {
    if (!(await tf.setBackend("webgl"))) throw new Error("WebGL is not available in this browser's workers");
    return "webgl";
  }
  await initBackend("wasm");
  const wasmMs = probe(7);
  let glMs = Infinity;
  try {
    if (await tf.setBackend("webgl")) glMs = probe(7);
  } catch {
    /* no WebGL in workers here */
  }
  if (glMs < wasmMs) return `webgl (auto: webgl ${glMs.toFixed(1)} ms, wasm ${wasmMs.toFixed(1)} ms a probe)`;
  await tf.setBackend("wasm");
  return `wasm (auto: wasm ${wasmMs.toFixed(1)} ms, webgl ${Number.isFinite(glMs) ? `${glMs.toFixed(1)} ms` : "unavailable"} a probe)`;
}

function defenseSpec(s: Settings): DefenseSpec {
  return { name: s.defense, strength: STRENGTH[s.defense] ? s.strength : null };
}

/** The backend set up by a "warm" message, and for which choice. */
let warmed: { choice: Settings["backend"]; detail: Promise<string> } | undefined;

async function run(req: RunRequest): Promise<void> {
  const s = req.settings;
  const backend = await (warmed?.choice === s.backend ? warmed.detail : pickBackend(s.backend));
  post({ type: "backend", backend: tf.getBackend(), detail: backend });
  const plan = ATTACK_PLAN[s.attack];
  const spec: AttackSpec = {
    method: plan.method, optimizer: plan.optimizer, iterations: s.iterations, lr: defaultLr(plan.optimizer), returnEvery: s.every,
    windowSize: 200, victimLoss: plan.victimLoss, labelInit: "ones", labelRule: "gram",
  };
  // the page's threat model: the drawn (or picked) image is the victim, exactly as given
  const y = Int32Array.of(req.label);
  const threat: ThreatModel = {
    data: { split: "train", n: 1, images: req.target, labels: Uint8Array.of(req.label) },
    model: s.model, seed: s.seed,
    victim: { images: { kind: "given", x: req.target, y }, loss: plan.victimLoss },
    channel: { defense: defenseSpec(s), lr: s.trainLr },
    server: { mean: req.mean },
  };
  const baseline = psnr(req.mean, req.target);
  const onStart: TrialHooks["onStart"] = ({ stats, observed }) => {
    const sent = stats.sent.reduce((a, b) => a + b, 0);
    const total = stats.total.reduce((a, b) => a + b, 0);
    // the sent-mask heat map of the first layer (Linear: which of each pixel's 10 weights were sent)
    let mask: Float32Array | undefined;
    if (s.model === "linear") {
      const w = observed[0];
      mask = new Float32Array(784);
      for (let p = 0; p < 784; p++) for (let c = 0; c < 10; c++) if (w[p * 10 + c] !== 0) mask[p] += 0.1;
    }
    const names = makeModel(s.model).paramNames;
    post({ type: "sent", sent, total, bytes: statsBytes(stats), denseBytes: 4 * total, perTensor: stats.sent.map((k, i) => ({ name: names[i], sent: k, total: stats.total[i] })), mask, baselinePsnr: baseline, victimLoss: plan.victimLoss });
  };
  let its: number[] = [];
  let ds: number[] = [];
  let last = performance.now();
  const flush = () => {
    if (its.length) post({ type: "progress", iterations: its, distances: ds });
    its = [];
    ds = [];
    last = performance.now();
  };
  const out = runTrial(threat, spec, { onStart, onIteration: (it, d, _rec, snap) => {
    its.push(it);
    ds.push(d);
    if (snap) {
      flush();
      post({ type: "snapshot", iteration: it, x: snap.x, psnr: psnr(snap.x, req.target), ssim: ssim(snap.x, req.target, SHAPE), distance: d });
    } else if (performance.now() - last > 100) flush();
  } });
  flush();
  const x = out.reconstruction;
  const p = psnr(x, req.target);
  const sa = signAware(x, req.target, SHAPE);
  // the seed's DLG returns its last snapshot's image; the other attacks the image after the last iteration
  const lastSnap = out.snapshots[out.snapshots.length - 1];
  const iteration = lastSnap && lastSnap.x === x ? lastSnap.iteration : s.iterations - 1;
  post({
    type: "done", iteration, x, psnr: p, ssim: ssim(x, req.target, SHAPE), ssim8: ssim8(x, req.target, SHAPE), signAwarePsnr: sa.psnr,
    recovery: recovery(p, sa.psnr, baseline), baselinePsnr: baseline, seconds: out.seconds, label: out.labels[0], guess: out.guess,
    lastSnapshot: out.snapshots.length ? { iteration: out.snapshots[out.snapshots.length - 1].iteration, psnr: psnr(out.snapshots[out.snapshots.length - 1].x, req.target) } : null,
  });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "warm") {
    const detail = pickBackend(m.backend);
    detail.catch(() => undefined); // a failure is reported by the run that waits for it
    warmed = { choice: m.backend, detail };
    return;
  }
  run(m).catch((err: unknown) => post({ type: "error", message: err instanceof Error ? err.message : String(err) }));
};
