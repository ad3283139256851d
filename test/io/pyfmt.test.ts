import { test } from "node:test";
import assert from "node:assert/strict";
import { pyFloat, pyNamespace } from "../../lib/io/pyfmt";

test("pyFloat matches Python's repr of floats", () => {
  const cases: [number, string][] = [
    [0.015625, "0.015625"], [1, "1.0"], [0, "0.0"], [-2, "-2.0"], [0.875, "0.875"],
    [3.135075569152832, "3.135075569152832"], [0.00013265199959278107, "0.00013265199959278107"],
    [0.0001, "0.0001"], [0.00001, "1e-05"], [1.5e-7, "1.5e-07"], [1e16, "1e+16"], [123456789012345.6, "123456789012345.6"],
    [-2.77116263607378, "-2.77116263607378"], [NaN, "nan"], [Infinity, "inf"], [-Infinity, "-inf"], [2000.5, "2000.5"],
  ];
  for (const [x, want] of cases) assert.equal(pyFloat(x), want, String(x));
});

test("pyNamespace prints like argparse, keys sorted", () => {
  assert.equal(
    pyNamespace({ train_lr: 0.001, attack_epoch: { int: 2000 }, use_dgc: true, result_dir: "./att_results", seed: null }),
    "Namespace(attack_epoch=2000, result_dir='./att_results', seed=None, train_lr=0.001, use_dgc=True)",
  );
});
