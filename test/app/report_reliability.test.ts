/**
 * The report tool's reliability (issue 26, classes 5–8): every parameter checked against its
 * declared type and range before any kernel starts; --out never notebooks/ nor a source's folder
 * unless told, and checked writable first; one line for any message; the executor and its kernels
 * stop, and the work folder goes, when report.js is killed with SIGKILL.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkOutDir, injectParameters } from "../../scripts/report";
import { alive, descendants } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const REPORT = join(ROOT, "dist", "scripts", "report.js");
const noJupyter = !existsSync(join(ROOT, ".venv", "bin", "python")) && "no .venv (npm run setup:jupyter)";
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `dgc-report-${name}-`));
const report = (args: string[], stdout: "pipe" | number = "pipe") => spawnSync(process.execPath, [REPORT, ...args], { encoding: "utf8", cwd: ROOT, stdio: ["ignore", stdout, "pipe"] });

test("every parameter against its declared type and range, before any kernel: one line, exit 2, nothing written", () => {
  const out = join(tmp("params"), "out");
  const cases: [string, string, RegExp][] = [
    ["federated_rounds", "clients=0", /^report: federated_rounds\.ipynb: parameter clients must be an integer in \[1, 60000\], got 0$/],
    ["federated_rounds", "attack_round=40", /parameter attack_round must be an integer in \[0, 30\) \(\[0, rounds\)\), got 40$/],
    ["federated_rounds", "history_rounds=25", /parameter history_rounds must be an integer in \[0, 20\) \(\[0, rounds-attack_round\)\), got 25$/],
    ["federated_rounds", "leak_rounds=0,x", /parameter leak_rounds must be a comma-separated list of integers, each in \[0, \), got "0,x"$/],
    ["federated_rounds", "clients=0x3", /--param clients=0x3: expected a number$/],
    ["batch_reconstruction", "attack=bogus", /--param attack=bogus: expected "dlg" or .* or "adaptive"$/],
    ["defense_frontier", "variant=bogus", /--param variant=bogus: expected "seed" or "paper" or "sampled"$/],
    ["defense_frontier", "summary_file=nope.json", /defense_frontier\.ipynb: parameter summary_file: no file nope\.json/],
    ["batch_reconstruction", "__proto__=1", /unknown parameter '__proto__'/],
    ["batch_reconstruction", "attack=a\u2028b\nc", /--param attack=a\\u2028b\\nc: expected/],
  ];
  for (const [nb, param, want] of cases) {
    const r = report([`notebooks/${nb}.ipynb`, "--param", param, "--out", out]);
    assert.equal(r.status, 2, `${param}: ${r.stderr}`);
    assert.equal(r.stderr.split("\n").length, 2, `not one line: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), want);
  }
  assert.ok(!existsSync(out), "written before the checks");
  // U+2028 in a free string parameter: escaped in the injected literal (TypeScript reads it as a line end)
  const nb = { cells: [{ cell_type: "code", source: 'const title = "t";', metadata: { tags: ["parameters"] } }] };
  const injected = injectParameters(nb, { title: "a\u2028b" }).cells[1];
  assert.equal([injected.source].flat().join("").split("\n").pop(), 'const title = "a\\u2028b";');
});

test("--out: never notebooks/ or a source notebook's folder unless told; unwritable or a file refused first; stdout to a full disk", (t) => {
  const src = tmp("src");
  copyFileSync(join(ROOT, "test", "fixtures", "slow.ipynb"), join(src, "slow.ipynb"));
  const before = readFileSync(join(src, "slow.ipynb"), "utf8");
  const r = report(["notebooks/example3_momentum_training.ipynb", "--param", "train_epoch=1", "--out", "notebooks"]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "report: --out notebooks is the project's notebooks/ folder: the executed copies would replace the sources; choose another folder, or pass --into-source-folder\n");
  const r2 = report([join(src, "slow.ipynb"), "--out", src]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /^report: --out .* is the folder of a source notebook: .*--into-source-folder\n$/);
  assert.equal(readFileSync(join(src, "slow.ipynb"), "utf8"), before);
  assert.deepEqual(readdirSync(src), ["slow.ipynb"]);
  checkOutDir(src, [join(src, "slow.ipynb")], true); // told: allowed
  writeFileSync(join(src, "file"), "");
  const r3 = report([join(src, "slow.ipynb"), "--out", join(src, "file", "sub")]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /^report: --out .*file\/sub cannot be created \(ENOTDIR: not a directory\)\n$/);
  // a read-only file system (a tmpfs remounted read-only; skipped without mount rights)
  const ro = tmp("ro");
  if (spawnSync("sh", ["-c", `mount -t tmpfs none '${ro}' && mount -o remount,ro '${ro}'`]).status === 0) {
    try {
      const r4 = report([join(src, "slow.ipynb"), "--out", join(ro, "out")]);
      assert.equal(r4.status, 2);
      assert.match(r4.stderr, /^report: --out .* is not writable \(.*EROFS: read-only file system\)\n$/);
    } finally {
      spawnSync("umount", [ro]);
    }
  } else t.diagnostic("read-only case skipped: cannot mount here");
  let full: number;
  try {
    full = openSync("/dev/full", "w");
  } catch {
    return;
  }
  const r5 = report(["--help"], full);
  closeSync(full);
  assert.equal(r5.status, 1);
  assert.equal(r5.stderr, "report: error: cannot write to standard output: ENOSPC: no space left on device\n");
});


test("report.js killed with SIGKILL mid-run: the executor and its kernel stop, nothing is written, no .report- folder stays", { skip: noJupyter, timeout: 90_000 }, async () => {
  const out = join(tmp("kill"), "out");
  mkdirSync(out);
  const child = spawn(process.execPath, [REPORT, join(ROOT, "test", "fixtures", "slow.ipynb"), "--out", out], { stdio: "ignore" });
  let below: number[] = [];
  const t0 = Date.now();
  while (!below.some((p) => /tslab/.test(readFileSync(`/proc/${p}/cmdline`, "utf8")))) {
    assert.ok(Date.now() - t0 < 60_000, "no kernel started");
    await new Promise((r) => setTimeout(r, 200));
    below = descendants(child.pid!).filter(alive);
  }
  await new Promise((r) => setTimeout(r, 1000)); // the cell is running
  below = descendants(child.pid!);
  child.kill("SIGKILL");
  for (const t1 = Date.now(); below.some(alive); await new Promise((r) => setTimeout(r, 200))) {
    assert.ok(Date.now() - t1 < 20_000, `left running: ${below.filter(alive).map((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 80)).join("; ")}`);
  }
  assert.deepEqual(readdirSync(out), [], "files or the work folder left behind");
});

test("JupyterLab's configuration starts tslab only: python3 (the venv's ipykernel) is refused by name, not just hidden", { skip: noJupyter }, () => {
  const check = `
from traitlets.config.loader import PyFileConfigLoader
from jupyter_client.kernelspec import NoSuchKernel
cfg = PyFileConfigLoader("jupyter_lab_config.py", path=${JSON.stringify(join(ROOT, "scripts"))}).load_config()
ksm = cfg.ServerApp.kernel_spec_manager_class(config=cfg)
assert ksm.get_kernel_spec("tslab").display_name == "TypeScript"
for name in ("python3", "Python3", "bogus"):
    try:
        ksm.get_kernel_spec(name)
        raise SystemExit("started: " + name)
    except NoSuchKernel:
        pass
print(sorted(ksm.find_kernel_specs()))
`;
  const r = spawnSync(join(ROOT, ".venv", "bin", "python"), ["-c", check], { encoding: "utf8", env: { ...process.env, JUPYTER_PATH: join(ROOT, ".venv", "share", "jupyter") } });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), "['tslab']");
  assert.match(readFileSync(join(ROOT, "scripts", "lab.sh"), "utf8"), /--config="\$PWD\/scripts\/jupyter_lab_config\.py"/);
});
