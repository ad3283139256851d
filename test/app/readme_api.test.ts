/**
 * The README's ten-line API snippet, run as written (its package name pointed at this build): it
 * attacks the image it names, under the defense it names, and writes the comparison PNG.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(__dirname, "../../..");

function snippet(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /<!-- api-snippet[^>]*-->\n```ts\n([\s\S]*?)```\n<!-- \/api-snippet -->/.exec(readme);
  assert.ok(m, "README.md has no api-snippet block");
  return m[1];
}

test("README: the API snippet is at most ten lines", () => {
  const lines = snippet().trimEnd().split("\n");
  assert.ok(lines.length <= 10, `${lines.length} lines`);
});

test("README: the API snippet runs, attacks image 123 under topk:0.9 and writes target | reconstruction", () => {
  const dir = mkdtempSync(join(tmpdir(), "readme-api-"));
  try {
    // TypeScript's only addition (`!`) stripped: the snippet runs as an ES module on this build
    const code = snippet().replace(/from "dgc-privacy"/, `from ${JSON.stringify(join(ROOT, "dist/lib/index.js"))}`).replace(/!\./g, ".");
    writeFileSync(join(dir, "snippet.mjs"), code);
    const r = spawnSync(process.execPath, ["snippet.mjs"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^linear, victim: image 123, sse loss; sends topk:0\.9 at lr 0\.001; seed 1; the server knows the mean image: PSNR -?\d+\.\d dB at iteration \d+, recovered: (true|false)\n$/);
    const png = readFileSync(join(dir, "attack.png"));
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
    assert.ok(existsSync(join(dir, "attack.png")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
