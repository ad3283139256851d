/**
 * `npm run fetch:cifar10` (scripts/fetch_cifar10.ts) against tarballs the test builds with the
 * system tar — no network: the source is a path or a file:// URL, and DGC_CIFAR10_TEST_MD5 stands
 * in for the official release's MD5. A good tarball is extracted where the loader reads it; a wrong
 * MD5, a file that is not a tarball, a tarball missing a file or holding a bad one, and a missing
 * source each end in one line and exit 2, leaving nothing behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CIFAR10_CLASS_NAMES, CIFAR10_FILES, CIFAR10_PIXELS, encodeCifar10, loadCifar10 } from "../../lib/data/cifar10";

const SCRIPT = resolve(__dirname, "../../scripts/fetch_cifar10.js");

/** A cifar-10-binary.tar.gz look-alike with 2 records a file; `skip` leaves a file out, `bad` gives one a label 12. */
function buildTarball(root: string, opts: { skip?: string; bad?: string } = {}): { path: string; md5: string } {
  const src = join(root, "src");
  const folder = join(src, "cifar-10-batches-bin");
  mkdirSync(folder, { recursive: true });
  for (const name of [...CIFAR10_FILES.train, ...CIFAR10_FILES.test]) {
    if (name === opts.skip) continue;
    const pixels = Uint8Array.from({ length: 2 * CIFAR10_PIXELS }, (_, i) => (i * 3) % 256);
    writeFileSync(join(folder, name), encodeCifar10(pixels, [name === opts.bad ? 12 : 4, 7]));
  }
  writeFileSync(join(folder, "batches.meta.txt"), CIFAR10_CLASS_NAMES.join("\n") + "\n");
  const path = join(root, "cifar-10-binary.tar.gz");
  const r = spawnSync("tar", ["-czf", path, "-C", src, "cifar-10-batches-bin"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  rmSync(src, { recursive: true });
  return { path, md5: createHash("md5").update(readFileSync(path)).digest("hex") };
}

function fetchScript(args: string[], md5?: string) {
  const env = { ...process.env };
  delete env.DGC_CIFAR10_TEST_MD5;
  if (md5) env.DGC_CIFAR10_TEST_MD5 = md5;
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneErrorLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^fetch_cifar10: error: /);
  assert.match(lines[0], pattern);
}

test("fetch:cifar10 extracts a verified tarball (path and file:// URL) into DEST/cifar-10-batches-bin, where the loader reads it", () => {
  const root = mkdtempSync(join(tmpdir(), "fetch-cifar10-"));
  try {
    const { path, md5 } = buildTarball(root);
    const dest = join(root, "dest");
    const r = fetchScript(["--source", path, "--dest", dest], md5);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`MD5 ${md5} ok`));
    assert.match(r.stdout, /data_batch_1\.bin: 2 images, SHA-256 [0-9a-f]{64}/);
    const data = join(dest, "cifar-10-batches-bin");
    const train = loadCifar10("train", { dataDir: data });
    assert.equal(train.n, 10);
    assert.deepEqual(Array.from(train.labels.subarray(0, 2)), [4, 7]);
    assert.deepEqual(readdirSync(dest), ["cifar-10-batches-bin"]); // the staging folder is gone
    // again: already there, nothing done; with --force and a file:// URL, fetched again
    assert.match(fetchScript(["--source", path, "--dest", dest], md5).stdout, /already exists/);
    const again = fetchScript(["--source", pathToFileURL(path).href, "--dest", dest, "--force"], md5);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(loadCifar10("test", { dataDir: data }).n, 2);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("fetch:cifar10 bad input → one line, exit 2, nothing left: wrong MD5 (the official one), not a tarball, a file missing, a bad label, no such file", () => {
  const root = mkdtempSync(join(tmpdir(), "fetch-cifar10-bad-"));
  try {
    const dest = join(root, "dest");
    const good = buildTarball(join(root, "good"));
    // without the override the official MD5 is expected, which a built tarball never has
    oneErrorLine(fetchScript(["--source", good.path, "--dest", dest]), /MD5 [0-9a-f]{32} does not match the official release's c32a1d4ab5d03f1284b67883e8d87530/);
    const junk = join(root, "junk.tar.gz");
    writeFileSync(junk, "not a tarball");
    const junkMd5 = createHash("md5").update("not a tarball").digest("hex");
    oneErrorLine(fetchScript(["--source", junk, "--dest", dest], junkMd5), /tar could not extract it/);
    const missing = buildTarball(join(root, "missing"), { skip: "data_batch_4.bin" });
    oneErrorLine(fetchScript(["--source", missing.path, "--dest", dest], missing.md5), /has no cifar-10-batches-bin\/data_batch_4\.bin/);
    const bad = buildTarball(join(root, "bad"), { bad: "test_batch.bin" });
    oneErrorLine(fetchScript(["--source", bad.path, "--dest", dest], bad.md5), /test_batch\.bin: label 12 of record 0 is not in 0\.\.9/);
    oneErrorLine(fetchScript(["--source", join(root, "nowhere.tar.gz"), "--dest", dest], good.md5), /nowhere\.tar\.gz: file not found/);
    assert.deepEqual(readdirSync(dest), [], "a failed fetch left files behind");
    assert.ok(!existsSync(join(dest, "cifar-10-batches-bin")));
    assert.equal(fetchScript(["--no-such-flag"]).code, 2);
  } finally {
    rmSync(root, { recursive: true });
  }
});
