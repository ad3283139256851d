/**
 * The RDP accountant of the `gaussian` defense: the closed form by hand, composition over rounds,
 * and (ε, δ) against Google's dp-accounting 0.6.0 (test/reference/rdp_crosscheck.py, .venv).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gaussianGuarantee, gaussianRdp, RDP_ORDERS, rdpToDp } from "../../lib/optim/rdp";

const PY = resolve(__dirname, "../../../.venv/bin/python");
const SCRIPT = resolve(__dirname, "../../../test/reference/rdp_crosscheck.py");
const hasDpAccounting = existsSync(PY) && spawnSync(PY, ["-c", "import dp_accounting"]).status === 0;

test("RDP of the Gaussian mechanism: α/(2z²) per round, additive over rounds; the conversion by hand", () => {
  assert.equal(RDP_ORDERS.length, 99 + 53 + 4);
  assert.deepEqual(gaussianRdp(2, 1, [2, 10]), [2 / 8, 10 / 8]);
  assert.deepEqual(gaussianRdp(2, 5, [2, 10]), [5 * (2 / 8), 5 * (10 / 8)]);
  // one order: ε = r + log(1 − 1/α) − log(δα)/(α − 1)
  const r = 0.5;
  const expected = r + Math.log(1 - 1 / 4) - Math.log(1e-5 * 4) / 3;
  assert.ok(Math.abs(rdpToDp([4], [r], 1e-5).epsilon - expected) < 1e-12);
  // more noise, fewer rounds, larger δ: smaller ε; replace-one halves the multiplier
  const base = gaussianGuarantee(1, 10, 1e-5).epsilon;
  assert.ok(gaussianGuarantee(2, 10, 1e-5).epsilon < base);
  assert.ok(gaussianGuarantee(1, 5, 1e-5).epsilon < base);
  assert.ok(gaussianGuarantee(1, 10, 1e-3).epsilon < base);
  assert.equal(gaussianGuarantee(1, 10, 1e-5, "replace").epsilon, gaussianGuarantee(0.5, 10, 1e-5).epsilon);
  assert.throws(() => gaussianGuarantee(0, 1, 1e-5), RangeError);
  assert.throws(() => gaussianGuarantee(1, 1, 0), RangeError);
});

test("(ε, δ) matches Google's dp-accounting (RdpAccountant, default orders) over σ, rounds and δ", { skip: hasDpAccounting ? false : "needs .venv with dp-accounting (npm run setup:privacy)" }, () => {
  const cases = [];
  for (const noise_multiplier of [0.01, 0.1, 0.5, 1, 2, 10])
    for (const rounds of [1, 10, 938, 1876])
      for (const delta of [1e-5, 1e-3]) cases.push({ noise_multiplier, rounds, delta });
  const file = join(mkdtempSync(join(tmpdir(), "rdp-")), "cases.json");
  writeFileSync(file, JSON.stringify(cases));
  const r = spawnSync(PY, [SCRIPT, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout) as { epsilon: number; order: number }[];
  cases.forEach((c, i) => {
    const ours = gaussianGuarantee(c.noise_multiplier, c.rounds, c.delta);
    const tag = `σ=${c.noise_multiplier} T=${c.rounds} δ=${c.delta}`;
    assert.ok(Math.abs(ours.epsilon - ref[i].epsilon) <= 1e-9 * Math.max(1, ref[i].epsilon), `${tag}: ε ${ours.epsilon} vs ${ref[i].epsilon}`);
    assert.equal(ours.order, ref[i].order, `${tag}: order`);
  });
});
