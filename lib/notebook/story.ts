/**
 * The notebooks' words, built from the configuration they ran with and the numbers the run
 * produced, so that no sentence outlives a changed parameter: what is being run, whether the
 * seed's numbers apply (only when every flag is the seed's), and call-outs the run itself
 * triggers — a step that sent nothing, an attack that did not converge, a label that drifted, a
 * loss spike. "Recovered" follows the project's rule: PSNR at least RECOVERY_MARGIN_DB above the
 * training set's mean image (what an attacker knows without looking at any gradient).
 */
import type { DemoConfig } from "../trial/demo_config";
import type { AttackRun } from "../trial/demo";
import type { BatchRecord } from "../optim/train";
import { meanImage, type MnistSplit } from "../data/mnist";
import { psnr } from "../metrics/image";
import type { Summary } from "../study/summary";
import { attacksLegend } from "../study/frontier";
import { isRecovered, RECOVERY_MARGIN_DB } from "../metrics/readings";

/** "1 image", "4 images". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The flags each seed example ran with (../shared/seed/gradient_compress.md); seed and backend aside. */
export const SEED_FLAGS: Record<"example1" | "example2" | "example3" | "example4", Partial<DemoConfig>> = {
  example1: { use_dgc: true, train_lr: 0.001, sparsity: 0.8, attack_batch_size: 1, attack_epoch: 2000, attack_lr: 0.2, return_epoch: 100, window_size: 200, model: "linear", label_init: "ones", label_rule: "gram", attack_method: "dlg", attack_optimizer: "gd", victim_loss: "sse" },
  example2: { use_dgc: false, train_lr: 0.01, attack_batch_size: 1, attack_epoch: 2000, attack_lr: 0.2, return_epoch: 100, window_size: 200, model: "linear", label_init: "ones", label_rule: "gram", attack_method: "dlg", attack_optimizer: "gd", victim_loss: "sse" },
  example3: { use_dgc: false, train_lr: 0.01, train_epoch: 2, train_batch_size: 64, model: "linear" },
  example4: { use_dgc: true, train_lr: 0.001, sparsity: 0.8, train_epoch: 2, train_batch_size: 64, model: "linear" },
};

/** The flags of `cfg` that differ from the seed example's, as "name value (seed: value)". */
export function seedDifferences(example: keyof typeof SEED_FLAGS, cfg: DemoConfig): string[] {
  return Object.entries(SEED_FLAGS[example])
    .filter(([k, v]) => cfg[k as keyof DemoConfig] !== v)
    .map(([k, v]) => `\`${k}\` ${String(cfg[k as keyof DemoConfig])} (seed: ${String(v)})`);
}

/** One sentence on the model: the seed's Linear layer or the DLG paper's LeNet. */
export function modelSentence(cfg: DemoConfig): string {
  return cfg.model === "linear"
    ? "The model is the seed's: one Linear(784 → 10) layer, its weight stored [784, 10] as Paddle does."
    : "The model is the DLG paper's LeNet: three 5 × 5 convolutions (12 channels, sigmoid) and a Linear(588 → 10) layer (strides 2, 2, 1).";
}

/** What this attack run is: the optimizer the victim uses and what that means for what is sent. */
export function attackSetting(cfg: DemoConfig): string {
  const client = cfg.use_dgc
    ? `**DGCMomentum at sparsity ${cfg.sparsity}**: each step sends at most ${(100 * (1 - cfg.sparsity)).toFixed(cfg.sparsity > 0.99 ? 2 : 0)}% of the gradient's entries (those of the accumulator \`u\` above the threshold), the rest is zero`
    : "**plain Momentum**: it shares its full gradient";
  return `This run attacks a client that trains with ${client}. ${modelSentence(cfg)} The attacker knows the model and its weights, sees what the client sent for one step on one batch of ${plural(cfg.attack_batch_size, "image")}, and runs ${attackName(cfg)} for ${cfg.attack_epoch} iterations${cfg.attack_optimizer === "lbfgs" ? " (L-BFGS steps, each up to 20 evaluations)" : ""}.`;
}

/** The attack and its optimizer in words: "DLG (plain gradient descent, lr 0.2)". */
export function attackName(cfg: DemoConfig): string {
  const opt = { gd: "plain gradient descent", adam: "Adam", lbfgs: "L-BFGS", none: "no optimizer" }[cfg.attack_optimizer];
  const name = { dlg: "DLG", idlg: "iDLG", ig: "Inverting Gradients", adaptive: "the DGC-aware adaptive attack", analytic: "the analytic attack" }[cfg.attack_method];
  return cfg.attack_optimizer === "none" ? name : `${name} (${opt}, lr ${cfg.attack_lr})`;
}

/** PSNR of the training set's mean image against the victim batch: the prior's score. */
export function meanImageBaseline(train: MnistSplit, target: { x: Float32Array; size: number }): number {
  const mean = meanImage(train);
  const tiled = new Float32Array(target.x.length);
  for (let b = 0; b < target.size; b++) tiled.set(mean, b * mean.length);
  return psnr(tiled, target.x);
}

/** Call-outs computed from an attack run (Markdown, one paragraph each). */
export function attackCallouts(cfg: DemoConfig, run: AttackRun, baselinePsnr: number): string[] {
  const out: string[] = [];
  const sent = run.sent.sent.reduce((a, b) => a + b, 0);
  const total = run.sent.total.reduce((a, b) => a + b, 0);
  const last = run.records[run.records.length - 1];
  if (sent === 0) {
    out.push(`> **The step sent nothing — silence, not protection.** The client sent 0 of ${total} values in the attacked step, so the attacker had nothing to invert and the ${cfg.attack_epoch} iterations below only move noise. The gradient is not gone: it stays in DGC's accumulator \`u\` and leaves in later steps, which this notebook does not attack (MNIST pixels are exactly ±1, so one image's gradient has many tied magnitudes and the strict \`|u| > threshold\` mask can pass none).`);
  }
  if (last) {
    const recovered = isRecovered(last.psnr, baselinePsnr);
    const d0 = run.distances[0];
    const d1 = run.distances[run.distances.length - 1];
    if (!recovered) {
      const how = sent === 0
        ? `with nothing to match, DLG drove the gradient distance from ${d0.toExponential(2)} to ${d1.toExponential(2)} by finding *some* input whose gradient vanishes, not the victim`
        : d1 > 0.5 * d0
          ? `the gradient distance stayed flat (${d0.toExponential(2)} → ${d1.toExponential(2)})`
          : `the gradient distance fell (${d0.toExponential(2)} → ${d1.toExponential(2)}) but the image did not follow`;
      out.push(`> **The attack did not converge to the victim**: ${how}, and the final PSNR, ${last.psnr.toFixed(2)} dB, is below the mean image's ${baselinePsnr.toFixed(2)} dB + ${RECOVERY_MARGIN_DB} dB — the project's rule for "recovered". The reconstruction tells the attacker nothing the data set's average digit did not.`);
    } else {
      out.push(`> **Recovered**: final PSNR ${last.psnr.toFixed(2)} dB against the mean image's ${baselinePsnr.toFixed(2)} dB (the rule: at least ${RECOVERY_MARGIN_DB} dB above it).`);
    }
    if (cfg.model === "lenet" && !recovered && cfg.attack_optimizer !== "lbfgs") {
      out.push(`> **LeNet needs L-BFGS.** This run used ${attackName(cfg)}; on the DLG paper's LeNet plain gradient descent does not converge (README, 3 seeds: median PSNR −1.6 dB against Momentum). The DLG paper attacks LeNet with L-BFGS: re-run with \`--param attack_optimizer=lbfgs --param attack_epoch=100\`. Measured here (2026-11-25, 100 L-BFGS steps): against Momentum it rebuilds the victim exactly (seeds 1, 2: 104 and 97 dB); against DGC at sparsity 0.8 it did not (seed 1: −24 dB).`);
    }
    const flips = run.records.filter((r, i) => i > 0 && r.labelAcc !== run.records[i - 1].labelAcc);
    if (flips.length) {
      out.push(`> **The label changed during the attack** (${flips.map((r) => `labels_acc ${run.records[run.records.indexOf(r) - 1].labelAcc} → ${r.labelAcc} at iteration ${r.iteration}`).join("; ")}): DLG optimizes the dummy label \`dummy_y\` along with the image, with no softmax, and labels_acc compares its argmax with the true label, so it can drift while the image keeps improving.`);
    }
  }
  return out;
}

/** Call-outs computed from a training history. */
export function trainingCallouts(cfg: DemoConfig, history: readonly BatchRecord[]): string[] {
  if (!history.length) return [`> **Nothing was trained** (\`train_epoch\` = ${cfg.train_epoch}): the test accuracy is the untrained model's.`];
  let peak = history[0];
  for (const r of history) if (r.loss > peak.loss) peak = r;
  // the seed's peak is a number of its own flags: quoted only when this run has them all
  const seedRun = cfg.use_dgc && seedDifferences("example4", cfg).length === 0;
  const out = [`The loss peaked at **${peak.loss.toFixed(2)}** at epoch ${peak.epoch}, batch ${peak.batch}${seedRun ? " (DGC's loss spikes; the seed's single run peaked at 12.5 in epoch 0)" : cfg.use_dgc ? " (DGC's loss spikes)" : ""}.`];
  const sent = history.reduce((a, r) => a + r.sent, 0);
  if (sent === 0) out.push("> **No step sent anything**: the model never changed — silence, not training.");
  return out;
}

/**
 * The sweep summary of one DGC variant as a compact pivot: a row per sparsity, a column per
 * attack (median PSNR, seeds recovered), and the columns that vary (test accuracy, bytes per
 * step, values sent in the attacked step) — the columns that are constant are said once below.
 */
export function summaryPivot(s: Summary, variant: string): { rows: string[][]; note: string } {
  const sel = s.rows.filter((r) => r.variant === variant || r.variant === "dense");
  const attacks = [...new Set(sel.map((r) => r.attack))];
  const sparsities = [...new Set(sel.map((r) => r.sparsity))].sort((a, b) => a - b);
  const one = (sp: number) => sel.find((r) => r.sparsity === sp)!;
  const bytes = (x: number | null) => (x === null ? "–" : x >= 1000 ? `${(x / 1000).toFixed(1)} kB` : `${Math.round(x)} B`);
  const rows = [
    ["sparsity", "test acc", "bytes / step", "values sent (attacked step)", ...attacks.map((a) => `${a} PSNR (recovered)`)],
    ...sparsities.map((sp) => [
      sp === 0 ? "0 (Momentum)" : String(sp),
      one(sp).testAccuracy === null ? "–" : one(sp).testAccuracy!.toFixed(3),
      bytes(one(sp).bytesPerStep),
      String(Math.round(one(sp).attackedStepValues)),
      ...attacks.map((a) => {
        const r = sel.find((x) => x.sparsity === sp && x.attack === a);
        return r && r.psnr !== null ? `${r.psnr.toFixed(1)} dB (${r.recovered}/${r.n})` : "–";
      }),
    ]),
  ];
  const iters = [...new Set(sel.flatMap((r) => r.iterations))].join(", ");
  const epochs = [...new Set(sel.flatMap((r) => r.epochs))].join(", ");
  const base = sel.find((r) => r.baselinePsnr !== null)?.baselinePsnr;
  const legend = attacksLegend(sel.map((r) => ({ attack: r.attack, iterations: r.iterations, model: r.settings?.startsWith("lenet") ? ("lenet" as const) : ("linear" as const) })));
  const note = `${legend} DGC variant "${variant}"; medians over ${Math.max(...sel.map((r) => r.n))} seeds; ${iters} attack iterations, ${epochs} training epochs; the mean image scores ${base === undefined ? "–" : base!.toFixed(1)} dB, so "recovered" means at least ${base === undefined ? "–" : (base! + s.recoveryMarginDb).toFixed(1)} dB.`;
  return { rows, note };
}

/** What this training run is, from its parameters. */
export function trainingSetting(cfg: DemoConfig): string {
  const opt = cfg.use_dgc
    ? `**DGCMomentum at sparsity ${cfg.sparsity}** (each step sends at most ${(100 * (1 - cfg.sparsity)).toFixed(cfg.sparsity > 0.99 ? 2 : 0)}% of the gradient's entries)`
    : "**Momentum** (each step sends the full gradient)";
  return `This run trains for **${plural(cfg.train_epoch, "epoch")}** with ${opt}, lr ${cfg.train_lr}, batch ${cfg.train_batch_size}. ${modelSentence(cfg)}`;
}
