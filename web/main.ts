/**
 * The page: the drawing pad and the image choice, the settings (kept in the URL), and the live view
 * of an attack that runs in web/worker.ts. Stop terminates the worker; the next Run starts a fresh one.
 */
import { decodeSample, normalize, PIXELS, type Sample, type SampleFile } from "./data";
import { ATTACK_PLAN, formatSettings, fromBase64Url, parseSettings, STRENGTH, toBase64Url, type Settings } from "./settings";
import type { FromWorker, RunRequest, WarmRequest } from "./protocol";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = {
  pad: $<HTMLCanvasElement>("pad"), clear: $<HTMLButtonElement>("clear"), image: $<HTMLSelectElement>("image"), label: $<HTMLSelectElement>("label"),
  model: $<HTMLSelectElement>("model"), defense: $<HTMLSelectElement>("defense"), strength: $<HTMLInputElement>("strength"),
  strengthLabel: $<HTMLLabelElement>("strength-label"), strengthValue: $<HTMLOutputElement>("strength-value"), attack: $<HTMLSelectElement>("attack"),
  iterations: $<HTMLInputElement>("iterations"), every: $<HTMLInputElement>("every"), seed: $<HTMLInputElement>("seed"), trainLr: $<HTMLInputElement>("trainlr"),
  backend: $<HTMLSelectElement>("backend"), run: $<HTMLButtonElement>("run"), stop: $<HTMLButtonElement>("stop"), cli: $("cli"),
  status: $("status"), target: $<HTMLCanvasElement>("target"), recon: $<HTMLCanvasElement>("recon"), mask: $<HTMLCanvasElement>("mask"), maskFig: $("maskfig"),
  it: $("r-it"), psnr: $("r-psnr"), ssim: $("r-ssim"), backendOut: $("r-backend"), verdict: $("verdict"), chart: $<HTMLCanvasElement>("chart"),
  sent: $("sent"), sentTensors: $("sent-tensors"), log: $("log"),
};

let settings: Settings = parseSettings(location.search);
let sample: Sample | undefined;
/** The client's image as 28×28 uint8 (MNIST's convention: ink 255 on 0). */
let pixels = new Uint8Array(PIXELS);
let worker: Worker | undefined;
/** A worker started ahead, its backend set up while the page is idle (starting one costs ~1–2 s: the script, the WASM compile). */
let spare: { worker: Worker; backend: Settings["backend"] } | undefined;
let points: { it: number; d: number }[] = [];
let lastIteration = -1;
let sentNothing = false;
let chartQueued = false;
let backendDetail = "";

// ---- the image -------------------------------------------------------------------------------

const padCtx = el.pad.getContext("2d")!;

function drawPixelsOn(canvas: HTMLCanvasElement, px: ArrayLike<number>, fromFloat = false): void {
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < PIXELS; i++) {
    const v = fromFloat ? Math.max(0, Math.min(255, Math.floor((px[i] + 1) * 127.5))) : px[i];
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Paints 28×28 pixels onto the 280×280 pad (smoothly, so strokes drawn on top blend in). */
function pixelsToPad(px: Uint8Array): void {
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  drawPixelsOn(small, px);
  padCtx.fillStyle = "#000";
  padCtx.fillRect(0, 0, 280, 280);
  padCtx.imageSmoothingEnabled = true;
  padCtx.drawImage(small, 0, 0, 280, 280);
}

/** The pad, averaged over 10×10 blocks, is the client's image. */
function padToPixels(): Uint8Array {
  const d = padCtx.getImageData(0, 0, 280, 280).data;
  const out = new Uint8Array(PIXELS);
  for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) {
    let s = 0;
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) s += d[4 * ((r * 10 + y) * 280 + c * 10 + x)];
    out[r * 28 + c] = Math.round(s / 100);
  }
  return out;
}

function setPixels(px: Uint8Array, toPad = true): void {
  pixels = px;
  if (toPad) pixelsToPad(px);
  drawPixelsOn(el.target, px);
  el.target.dataset.ink = String(px.reduce((n, v) => n + (v > 0 ? 1 : 0), 0));
}

function imageFromSettings(): void {
  if (!sample) return;
  const s = settings;
  if (s.image === "draw") {
    setPixels(fromBase64Url(s.drawing, PIXELS));
  } else if (s.image === "victim") {
    const i = Math.min(s.seed, sample.victimLabels.length - 1);
    if (s.seed >= sample.victimLabels.length) setStatus(`The CLI's victim is bundled for seeds 0–${sample.victimLabels.length - 1}; seed ${s.seed} shows seed ${i}'s image.`);
    setPixels(sample.victimPixels.slice(i * PIXELS, (i + 1) * PIXELS));
    el.label.value = String(sample.victimLabels[i]);
  } else {
    const n = Math.min(Number(s.image.slice(5)), sample.testLabels.length - 1);
    setPixels(sample.testPixels.slice(n * PIXELS, (n + 1) * PIXELS));
    el.label.value = String(sample.testLabels[n]);
  }
  el.label.disabled = s.image !== "draw";
}

let drawing = false;
let lastPt: { x: number; y: number } | undefined;
function padPoint(e: PointerEvent) {
  const r = el.pad.getBoundingClientRect();
  return { x: ((e.clientX - r.left) / r.width) * 280, y: ((e.clientY - r.top) / r.height) * 280 };
}
function strokeTo(p: { x: number; y: number }): void {
  padCtx.strokeStyle = "#fff";
  padCtx.lineWidth = 22;
  padCtx.lineCap = padCtx.lineJoin = "round";
  padCtx.beginPath();
  padCtx.moveTo((lastPt ?? p).x, (lastPt ?? p).y);
  padCtx.lineTo(p.x + 0.01, p.y);
  padCtx.stroke();
  lastPt = p;
}
el.pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  lastPt = undefined;
  el.pad.setPointerCapture(e.pointerId);
  if (settings.image !== "draw") {
    settings.image = "draw";
    el.image.value = "draw";
    el.label.disabled = false;
  }
  strokeTo(padPoint(e));
  e.preventDefault();
});
el.pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  strokeTo(padPoint(e));
  setPixels(padToPixels(), false);
});
const endStroke = () => {
  if (!drawing) return;
  drawing = false;
  lastPt = undefined;
  setPixels(padToPixels(), false);
  settings.drawing = toBase64Url(pixels);
  settings.label = Number(el.label.value);
  saveUrl();
};
el.pad.addEventListener("pointerup", endStroke);
el.pad.addEventListener("pointercancel", endStroke);
el.clear.addEventListener("click", () => {
  settings.image = "draw";
  el.image.value = "draw";
  el.label.disabled = false;
  setPixels(new Uint8Array(PIXELS));
  settings.drawing = "";
  saveUrl();
});

// ---- the settings --------------------------------------------------------------------------------

function saveUrl(): void {
  history.replaceState(null, "", `?${formatSettings(settings)}`);
  updateCli();
}

function showStrength(): void {
  const st = STRENGTH[settings.defense];
  el.strength.disabled = !st;
  el.strength.parentElement!.classList.toggle("hidden", !st);
  el.strengthLabel.classList.toggle("hidden", !st);
  if (!st) return;
  el.strengthLabel.textContent = st.label;
  el.strength.min = String(st.min);
  el.strength.max = String(st.max);
  el.strength.step = String(st.step);
  el.strength.value = String(settings.strength);
  el.strengthValue.textContent = String(settings.strength);
}

function settingsToForm(): void {
  const s = settings;
  el.model.value = s.model;
  el.defense.value = s.defense;
  el.attack.value = s.attack;
  el.iterations.value = String(s.iterations);
  el.every.value = String(s.every);
  el.seed.value = String(s.seed);
  el.trainLr.value = String(s.trainLr);
  el.backend.value = s.backend;
  el.image.value = s.image;
  el.label.value = String(s.label);
  showStrength();
}

/** The same experiment on the command line, where the CLI can run it. */
function updateCli(): void {
  const s = settings;
  const plan = ATTACK_PLAN[s.attack];
  const cliDefense = s.defense === "none" ? "--use_dgc False" : s.defense === "dgc" ? `--use_dgc True --sparsity ${s.strength}` : null;
  if (s.image !== "victim" || !cliDefense) {
    el.cli.textContent = "The command line attacks the seed's training image with no defense or DGC; choose the image “Seed's CLI victim” for the same run there.";
    return;
  }
  const method = plan.method === "dlg" && plan.optimizer === "gd" ? "" : ` --attack_method ${plan.method} --attack_optimizer ${plan.optimizer} --victim_loss ${plan.victimLoss}`;
  el.cli.textContent = `Same run on the command line: dgc_demo --dlg_attack True ${cliDefense} --train_lr ${s.trainLr} --seed ${s.seed} --model ${s.model} --attack_epoch ${s.iterations} --return_epoch ${s.every}${method} --backend wasm`;
}

function readForm(e?: Event): void {
  const prevAttack = settings.attack;
  const prevDefense = settings.defense;
  const q = new URLSearchParams(formatSettings(settings));
  q.set("model", el.model.value);
  q.set("defense", el.defense.value);
  q.set("strength", el.defense.value === prevDefense ? el.strength.value : String(STRENGTH[el.defense.value as Settings["defense"]]?.value ?? 0));
  q.set("attack", el.attack.value);
  if (el.attack.value !== prevAttack) {
    q.set("iterations", String(ATTACK_PLAN[el.attack.value as Settings["attack"]].iterations));
    q.set("every", String(ATTACK_PLAN[el.attack.value as Settings["attack"]].every));
  } else {
    q.set("iterations", el.iterations.value);
    q.set("every", el.every.value);
  }
  q.set("seed", el.seed.value);
  q.set("train_lr", el.trainLr.value);
  q.set("backend", el.backend.value);
  q.set("image", el.image.value);
  q.set("label", el.label.value);
  const next = parseSettings(q.toString());
  next.drawing = settings.drawing;
  const imageChanged = next.image !== settings.image || (next.image === "victim" && next.seed !== settings.seed);
  settings = next;
  settingsToForm();
  if (!worker && sample) warm();
  if (imageChanged && e?.target !== el.label) imageFromSettings();
  saveUrl();
}

for (const c of [el.model, el.defense, el.attack, el.iterations, el.every, el.seed, el.trainLr, el.backend, el.image, el.label]) c.addEventListener("change", readForm);
el.strength.addEventListener("input", () => {
  el.strengthValue.textContent = el.strength.value;
});
el.strength.addEventListener("change", readForm);

// ---- the run -------------------------------------------------------------------------------------

function setStatus(t: string): void {
  el.status.textContent = t;
}

function setVerdict(text: string, kind: "" | "leak" | "safe" | "silent"): void {
  el.verdict.textContent = text;
  el.verdict.className = `verdict ${kind}`;
}

function logLine(t: string): void {
  const li = document.createElement("li");
  li.textContent = t;
  el.log.appendChild(li);
  el.log.scrollTop = el.log.scrollHeight;
}

function drawChart(): void {
  chartQueued = false;
  const c = el.chart;
  const ctx = c.getContext("2d")!;
  const w = c.width;
  const h = c.height;
  ctx.clearRect(0, 0, w, h);
  const pts = points.filter((p) => p.d > 0 && Number.isFinite(p.d));
  ctx.fillStyle = "#555";
  ctx.font = "12px system-ui, sans-serif";
  if (pts.length < 2) {
    ctx.fillText("The gradient distance appears here as the attack runs.", 10, h / 2);
    return;
  }
  const L = 44;
  const B = 22;
  const ys = pts.map((p) => Math.log10(p.d));
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  lo = Math.floor(lo);
  hi = Math.ceil(hi);
  const maxIt = Math.max(settings.iterations - 1, pts[pts.length - 1].it, 1);
  const X = (it: number) => L + ((w - L - 8) * it) / maxIt;
  const Y = (y: number) => 6 + ((h - B - 6) * (hi - y)) / (hi - lo);
  ctx.strokeStyle = "#e4e4e4";
  ctx.lineWidth = 1;
  const step = Math.max(1, Math.ceil((hi - lo) / 5));
  for (let e = lo; e <= hi; e += step) {
    ctx.beginPath();
    ctx.moveTo(L, Y(e));
    ctx.lineTo(w - 8, Y(e));
    ctx.stroke();
    ctx.fillText(`1e${e}`, 4, Y(e) + 4);
  }
  ctx.fillText("0", L, h - 6);
  ctx.fillText(`iteration ${maxIt}`, w - 90, h - 6);
  ctx.strokeStyle = "#0b5cad";
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach((p, i) => (i ? ctx.lineTo(X(p.it), Y(ys[i])) : ctx.moveTo(X(p.it), Y(ys[i]))));
  ctx.stroke();
}
function queueChart(): void {
  if (!chartQueued) {
    chartQueued = true;
    requestAnimationFrame(drawChart);
  }
}

const fmtBytes = (b: number) => (b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case "backend":
      el.backendOut.textContent = m.backend;
      el.backendOut.title = backendDetail = m.detail;
      setStatus(`Attacking on ${m.detail}…`);
      break;
    case "sent": {
      sentNothing = m.sent === 0;
      const pct = ((100 * m.sent) / m.total).toFixed(m.sent / m.total < 0.01 ? 2 : 1);
      el.sent.textContent = `${m.sent.toLocaleString("en")} of ${m.total.toLocaleString("en")} gradient values (${pct} %), ${fmtBytes(m.bytes)} on the wire (dense: ${fmtBytes(m.denseBytes)}); victim loss ${m.victimLoss}.`;
      el.sentTensors.replaceChildren(...m.perTensor.map((t) => Object.assign(document.createElement("li"), { textContent: `${t.name}: ${t.sent} of ${t.total}` })));
      el.maskFig.hidden = !m.mask;
      if (m.mask) drawPixelsOn(el.mask, Array.from(m.mask, (v) => Math.round(255 * v)));
      if (sentNothing) setVerdict("The step sent nothing — silence, not protection. The gradient stays in the client's accumulator and leaves in a later step; this attack has nothing to invert.", "silent");
      break;
    }
    case "progress":
      m.iterations.forEach((it, i) => points.push({ it, d: m.distances[i] }));
      lastIteration = m.iterations[m.iterations.length - 1];
      if (!el.psnr.textContent?.endsWith("dB")) el.it.textContent = String(lastIteration);
      queueChart();
      break;
    case "snapshot":
      drawPixelsOn(el.recon, m.x, true);
      el.it.textContent = String(m.iteration);
      el.psnr.textContent = `${m.psnr.toFixed(2)} dB`;
      el.ssim.textContent = m.ssim.toFixed(4);
      logLine(`Attack Iteration ${m.iteration}: data_psnr = ${m.psnr.toFixed(4)}, data_ssim = ${m.ssim.toFixed(4)}, distance = ${m.distance.toExponential(3)}`);
      break;
    case "done": {
      drawPixelsOn(el.recon, m.x, true);
      el.it.textContent = String(m.iteration);
      el.psnr.textContent = `${m.psnr.toFixed(2)} dB`;
      el.ssim.textContent = m.ssim.toFixed(4);
      el.recon.dataset.psnr = String(m.psnr);
      if (m.lastSnapshot) el.recon.dataset.lastSnapshotPsnr = String(m.lastSnapshot.psnr);
      el.recon.dataset.seconds = String(m.seconds);
      setStatus(`Done: ${settings.iterations} iterations in ${m.seconds.toFixed(2)} s on ${backendDetail}. Label guess ${m.guess}, final label ${m.label}.`);
      if (!sentNothing) {
        const rule = `the mean image scores ${m.baselinePsnr.toFixed(2)} dB; the rule asks for ${(m.baselinePsnr + 3).toFixed(2)} dB`;
        if (m.recovery === "recovered") setVerdict(`Recovered: the attacker rebuilt the image (PSNR ${m.psnr.toFixed(2)} dB; ${rule}).`, "leak");
        else if (m.recovery === "recovered inverted") setVerdict(`Recovered as a negative: read with its sign flipped, PSNR ${m.signAwarePsnr.toFixed(2)} dB (${rule}).`, "leak");
        else setVerdict(`Not recovered: PSNR ${m.psnr.toFixed(2)} dB (${rule}).`, "safe");
      }
      finish();
      break;
    }
    case "error":
      setStatus(`Error: ${m.message}`);
      finish();
      break;
  }
}

function warm(): void {
  if (spare?.backend === settings.backend) return;
  spare?.worker.terminate();
  const w = new Worker("worker.js");
  w.postMessage({ type: "warm", backend: settings.backend } satisfies WarmRequest);
  spare = { worker: w, backend: settings.backend };
}

function finish(): void {
  const wasRunning = worker !== undefined;
  worker?.terminate();
  worker = undefined;
  if (wasRunning) warm();
  el.run.disabled = false;
  el.stop.disabled = true;
  document.body.dataset.state = "idle";
}

function run(): void {
  if (!sample) return;
  readForm();
  finish();
  points = [];
  lastIteration = -1;
  sentNothing = false;
  el.log.replaceChildren();
  el.recon.getContext("2d")!.clearRect(0, 0, 28, 28);
  delete el.recon.dataset.psnr;
  el.psnr.textContent = el.ssim.textContent = el.it.textContent = "–";
  setVerdict("", "");
  queueChart();
  const label = Number(el.label.value);
  const req: RunRequest = { type: "run", settings, target: normalize(pixels), label, mean: sample.mean };
  warm();
  worker = spare!.worker;
  spare = undefined;
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => {
    setStatus(`Error: ${e.message}`);
    finish();
  };
  worker.postMessage(req);
  el.run.disabled = true;
  el.stop.disabled = false;
  document.body.dataset.state = "running";
  setStatus("Starting the worker…");
  el.stop.focus();
}

function stop(): void {
  if (!worker) return;
  finish();
  setStatus(`Stopped at iteration ${Math.max(lastIteration, 0)}.`);
  if (!sentNothing) setVerdict("Stopped: no verdict (the rule reads the final image).", "");
  el.run.focus();
}

el.run.addEventListener("click", run);
el.stop.addEventListener("click", stop);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && worker) stop();
});

// ---- start ---------------------------------------------------------------------------------------

async function start(): Promise<void> {
  for (let d = 0; d < 10; d++) el.label.append(new Option(String(d), String(d)));
  el.image.append(new Option("Draw your own", "draw"), new Option("Seed's CLI victim", "victim"));
  settingsToForm();
  drawChart();
  updateCli();
  setStatus("Loading the MNIST sample…");
  const res = await fetch("mnist-sample.json");
  if (!res.ok) throw new Error(`mnist-sample.json: HTTP ${res.status}`);
  sample = decodeSample((await res.json()) as SampleFile);
  sample.testLabels.forEach((y, i) => el.image.append(new Option(`Test image ${i} (a ${y})`, `test:${i}`)));
  el.image.value = settings.image;
  imageFromSettings();
  settings.label = Number(el.label.value);
  warm();
  setStatus("Ready: press Run.");
  document.body.dataset.state = "idle";
}

start().catch((e: unknown) => setStatus(`Error: ${e instanceof Error ? e.message : String(e)}`));
