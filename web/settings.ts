/**
 * The page's settings: what the URL holds (so a result can be shared) and what the worker runs.
 * Defaults are the seed's Example 2: `dgc_demo --dlg_attack True --use_dgc False --train_lr 0.01 --seed 1`
 * (its victim is the first shuffled training image under the seed: image "victim").
 */
export const MODELS = ["linear", "lenet"] as const;
export const DEFENSES = ["none", "dgc", "topk", "randk", "gaussian", "int8", "signsgd"] as const;
export const ATTACKS = ["dlg", "dlg-lbfgs", "ig", "adaptive"] as const;
export const BACKENDS = ["auto", "wasm", "webgl", "cpu"] as const;

export type ModelName = (typeof MODELS)[number];
export type DefenseChoice = (typeof DEFENSES)[number];
export type AttackChoice = (typeof ATTACKS)[number];
export type BackendName = (typeof BACKENDS)[number];

export interface Settings {
  model: ModelName;
  defense: DefenseChoice;
  /** The defense's strength (DGC/top-k/rand-k: the fraction dropped; gaussian: σ); ignored by the others. */
  strength: number;
  attack: AttackChoice;
  iterations: number;
  /** A snapshot (image, PSNR, SSIM) every this many iterations. */
  every: number;
  seed: number;
  /** The victim's learning rate (the seed's --train_lr). */
  trainLr: number;
  backend: BackendName;
  /** "victim" (the CLI's victim for the seed), "test:N" (MNIST test image N) or "draw". */
  image: string;
  /** The label the victim trains its drawing with (bundled images carry their own). */
  label: number;
  /** The drawing, 784 uint8 pixels as base64url (image "draw" only). */
  drawing: string;
}

export const STRENGTH: Partial<Record<DefenseChoice, { label: string; min: number; max: number; step: number; value: number }>> = {
  dgc: { label: "Sparsity (fraction not sent)", min: 0, max: 0.999, step: 0.001, value: 0.8 },
  topk: { label: "Fraction pruned", min: 0, max: 0.999, step: 0.001, value: 0.9 },
  randk: { label: "Fraction dropped", min: 0, max: 0.999, step: 0.001, value: 0.9 },
  gaussian: { label: "Noise multiplier σ", min: 0.001, max: 10, step: 0.001, value: 0.1 },
};

/** Each attack's method, optimizer, victim loss and default iterations (lib/attack/methods.ts). */
export const ATTACK_PLAN: Record<AttackChoice, { method: "dlg" | "ig" | "adaptive"; optimizer: "gd" | "adam" | "lbfgs"; victimLoss: "sse" | "ce"; iterations: number; every: number; title: string }> = {
  dlg: { method: "dlg", optimizer: "gd", victimLoss: "sse", iterations: 2000, every: 100, title: "DLG, the seed's (gradient descent)" },
  "dlg-lbfgs": { method: "dlg", optimizer: "lbfgs", victimLoss: "sse", iterations: 50, every: 5, title: "DLG with L-BFGS (the paper's)" },
  ig: { method: "ig", optimizer: "adam", victimLoss: "ce", iterations: 2000, every: 100, title: "Inverting Gradients (cosine + TV, Adam)" },
  adaptive: { method: "adaptive", optimizer: "adam", victimLoss: "ce", iterations: 2000, every: 100, title: "Defense-aware (masked L2 + TV, mean start)" },
};

export const DEFAULT_SETTINGS: Settings = {
  model: "linear", defense: "none", strength: 0.8, attack: "dlg", iterations: 2000, every: 100, seed: 1, trainLr: 0.01,
  backend: "auto", image: "victim", label: 0, drawing: "",
};

const num = (v: string | null, d: number, lo: number, hi: number, int = false) => {
  const x = v === null || v.trim() === "" ? NaN : Number(v);
  if (!Number.isFinite(x) || (int && !Number.isInteger(x))) return d;
  return Math.min(hi, Math.max(lo, x));
};
const pick = <T extends string>(v: string | null, options: readonly T[], d: T): T => (options as readonly string[]).includes(v ?? "") ? (v as T) : d;

/** Settings from a query string; anything missing or out of range takes its default. */
export function parseSettings(query: string): Settings {
  const q = new URLSearchParams(query);
  const d = DEFAULT_SETTINGS;
  const attack = pick(q.get("attack"), ATTACKS, d.attack);
  const defense = pick(q.get("defense"), DEFENSES, d.defense);
  const st = STRENGTH[defense];
  const image = q.get("image") ?? d.image;
  return {
    model: pick(q.get("model"), MODELS, d.model),
    defense,
    strength: st ? num(q.get("strength"), st.value, st.min, st.max) : d.strength,
    attack,
    iterations: num(q.get("iterations"), ATTACK_PLAN[attack].iterations, 1, 100000, true),
    every: num(q.get("every"), ATTACK_PLAN[attack].every, 1, 100000, true),
    seed: num(q.get("seed"), d.seed, 0, 2 ** 31, true),
    trainLr: num(q.get("train_lr"), d.trainLr, 1e-6, 10),
    backend: pick(q.get("backend"), BACKENDS, d.backend),
    image: image === "victim" || image === "draw" || /^test:\d+$/.test(image) ? image : d.image,
    label: num(q.get("label"), d.label, 0, 9, true),
    drawing: /^[A-Za-z0-9_-]*$/.test(q.get("drawing") ?? "") ? (q.get("drawing") ?? "") : "",
  };
}

/** The query string of `s` (only what differs from the defaults, plus what names the experiment). */
export function formatSettings(s: Settings): string {
  const q = new URLSearchParams();
  q.set("model", s.model);
  q.set("defense", s.defense);
  if (STRENGTH[s.defense]) q.set("strength", String(s.strength));
  q.set("attack", s.attack);
  q.set("iterations", String(s.iterations));
  q.set("every", String(s.every));
  q.set("seed", String(s.seed));
  q.set("train_lr", String(s.trainLr));
  if (s.backend !== "auto") q.set("backend", s.backend);
  q.set("image", s.image);
  if (s.image === "draw") {
    q.set("label", String(s.label));
    q.set("drawing", s.drawing);
  }
  return q.toString();
}

export function toBase64Url(px: Uint8Array): string {
  let s = "";
  for (const v of px) s += String.fromCharCode(v);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(s: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  try {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    for (let i = 0; i < Math.min(n, b.length); i++) out[i] = b.charCodeAt(i);
  } catch {
    /* a damaged drawing reads as blank */
  }
  return out;
}
