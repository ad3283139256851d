/** The readings beside the seed's metrics: 8-bit SSIM (ssim.js) and the sign-aware reading. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { psnr } from "../../lib/metrics/image";
import { recovery, signAware, ssim8, toUint8 } from "../../lib/metrics/readings";
import { Rng } from "../../lib/core/rng";

// Made by scripts/fixtures/make_ssim8_fixture.py (ssim.m in scipy, checked against skimage).
const FIXTURE: { cases: { name: string; a: number[]; b: number[]; ssim8: number }[] } = JSON.parse(
  readFileSync(resolve(__dirname, "../../../test/fixtures/ssim8.json"), "utf8"),
);
const shape = { batch: 1, height: 28, width: 28 };
/** [−1, 1] floats that the PNG conversion maps back to exactly these bytes (mid-bin values). */
const fromBytes = (u: number[]) => Float32Array.from(u, (v) => (v + 0.5) / 127.5 - 1);

test("ssim8: the standard SSIM of the 8-bit images matches scipy/skimage's ssim.m on 7 cases", () => {
  assert.equal(FIXTURE.cases.length, 7);
  for (const c of FIXTURE.cases) {
    const a = fromBytes(c.a);
    const b = fromBytes(c.b);
    assert.deepEqual(Array.from(toUint8(a)), c.a, `${c.name}: byte round trip`);
    const got = ssim8(a, b, shape);
    assert.ok(Math.abs(got - c.ssim8) < 1e-9, `${c.name}: ${got} vs ${c.ssim8}`);
  }
  // a batch is the mean over its images
  const [p, q] = FIXTURE.cases.slice(1, 3);
  const both = ssim8(Float32Array.from([...fromBytes(p.a), ...fromBytes(q.a)]), Float32Array.from([...fromBytes(p.b), ...fromBytes(q.b)]), { ...shape, batch: 2 });
  assert.ok(Math.abs(both - (p.ssim8 + q.ssim8) / 2) < 1e-9);
});

test("sign-aware reading: a negative of the digit reads as the digit, an upright one is left alone", () => {
  const rng = new Rng(3);
  const target = fromBytes(FIXTURE.cases[0].a);
  const noisy = Float32Array.from(target, (v) => v + 0.05 * rng.normal());
  const negative = Float32Array.from(noisy, (v) => -v);
  const up = signAware(noisy, target, shape);
  assert.equal(up.inverted, 0);
  assert.equal(up.psnr, psnr(noisy, target));
  const down = signAware(negative, target, shape);
  assert.equal(down.inverted, 1);
  assert.ok(Math.abs(down.psnr - psnr(noisy, target)) < 1e-9, `${down.psnr}`);
  assert.ok(psnr(negative, target) < 0, "as is, the negative scores below 0 dB");
  assert.ok(Math.abs(down.ssim8 - up.ssim8) < 0.02 && up.ssim8 > 0.9, `${down.ssim8} ${up.ssim8}`);
  // per image: one upright, one negative in a batch of 2
  const pair = signAware(Float32Array.from([...noisy, ...negative]), Float32Array.from([...target, ...target]), { ...shape, batch: 2 });
  assert.equal(pair.inverted, 1);
  assert.ok(Math.abs(pair.psnr - up.psnr) < 1e-9);
});

test("recovery: PSNR at least 3 dB above the mean image's, as is or (otherwise) inverted", () => {
  assert.equal(recovery(9, 9, 6), "recovered");
  assert.equal(recovery(8.99, 12, 6), "recovered inverted");
  assert.equal(recovery(-2, 8.99, 6), "not recovered");
});
