/**
 * The layering of lib/ (.dependency-cruiser.cjs): no cycles, no upward imports, the lib/ root only the
 * entry point. dependency-cruiser reads the TypeScript sources (type-only imports included).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(__dirname, "../../..");

test("layers: dependency-cruiser finds no cycle and no upward import in lib/, cli/, scripts/, test/", () => {
  const bin = join(ROOT, "node_modules", ".bin", "depcruise");
  const r = spawnSync(bin, ["lib", "cli", "scripts", "test", "web", "--exclude", "^test/fixtures/layers/", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `dependency-cruiser reported violations:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /no dependency violations found \((\d+) modules/);
  const modules = Number(/\((\d+) modules/.exec(r.stdout)![1]);
  assert.ok(modules > 100, `it cruised ${modules} modules: the config lost the sources`);
});

test("layers: the lib/ root holds only the entry point", () => {
  const files = readdirSync(join(ROOT, "lib"), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  assert.deepEqual(files, ["index.ts"]);
});

test("layers: the rules catch an upward import and a cycle (the check can fail)", () => {
  const bin = join(ROOT, "node_modules", ".bin", "depcruise");
  // the rules applied to a fake layout in which data imports attack, and attack imports data
  const r = spawnSync(bin, ["test/fixtures/layers", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], { cwd: ROOT, encoding: "utf8" });
  assert.notEqual(r.status, 0, "a bad layout passed");
  assert.match(r.stdout + r.stderr, /no-cycles/);
  assert.match(r.stdout + r.stderr, /no-upward-from-data/);
});
