/**
 * The CIFAR-10 loader (lib/data/cifar10.ts): the real subset's first labels and checksums where the
 * data is found (skipped with a message otherwise), and bad files — truncated, a label out of range,
 * a wrong checksum — each ending in one DataError line, on tiny files the test writes itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CIFAR10_CLASS_NAMES, CIFAR10_ENV, CIFAR10_FILES, CIFAR10_PIXELS, CIFAR10_RECORD, CIFAR10_SHAPE, CIFAR10_SUBSET_SHA256,
  encodeCifar10, findCifar10Dir, loadCifar10, sha256Hex,
} from "../../lib/data/cifar10";
import { imageSize } from "../../lib/data/dataset";
import { DataError } from "../../lib/data/idx";
import { MNIST_SHAPE } from "../../lib/data/mnist";

/** Runs f and returns its DataError's message, asserting it is one line. */
function dataError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    assert.ok(!e.message.includes("\n"), `not one line: ${e.message}`);
    return e.message;
  }
  assert.fail("expected a DataError");
}

/** A folder holding the six files with `n` records each (deterministic pixels, labels i % 10). */
function writeTiny(n: number, mutate?: (name: string, buf: Uint8Array) => Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "cifar10-"));
  for (const name of [...CIFAR10_FILES.train, ...CIFAR10_FILES.test]) {
    const pixels = Uint8Array.from({ length: n * CIFAR10_PIXELS }, (_, i) => (i * 7 + name.length) % 256);
    let buf = encodeCifar10(pixels, Array.from({ length: n }, (_, i) => i % 10));
    if (mutate) buf = mutate(name, buf);
    writeFileSync(join(dir, name), buf);
  }
  writeFileSync(join(dir, "batches.meta.txt"), CIFAR10_CLASS_NAMES.join("\n") + "\n\n");
  return dir;
}

test("dataset shapes: CIFAR-10 3 × 32 × 32 in [0, 1], MNIST 1 × 28 × 28 in [−1, 1]", () => {
  assert.equal(imageSize(CIFAR10_SHAPE), 3072);
  assert.deepEqual(CIFAR10_SHAPE.range, [0, 1]);
  assert.equal(CIFAR10_SHAPE.classNames[3], "cat");
  assert.equal(imageSize(MNIST_SHAPE), 784);
  assert.deepEqual(MNIST_SHAPE.range, [-1, 1]);
  assert.equal(MNIST_SHAPE.classes, 10);
});

test("the subset: first labels, class names, sizes, [0, 1] pixels in CHW order, checksums verified", (t) => {
  let dir: string | undefined;
  try {
    dir = findCifar10Dir();
  } catch (e) {
    t.skip(`CIFAR-10 not usable: ${(e as Error).message}`);
    return;
  }
  if (dir === undefined) {
    t.skip(`CIFAR-10 data not found (set ${CIFAR10_ENV} or put the subset at ../shared/data/cifar-10-subset)`);
    return;
  }
  const train = loadCifar10("train");
  const test = loadCifar10("test");
  assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
  assert.deepEqual(Array.from(test.labels.subarray(0, 10)), [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
  assert.deepEqual(Array.from(test.labels.subarray(0, 10), (l) => test.classNames[l]), ["cat", "ship", "ship", "airplane", "frog", "frog", "automobile", "frog", "cat", "automobile"]);
  const raw = readFileSync(join(dir, "data_batch_1.bin"));
  const records = raw.length / CIFAR10_RECORD;
  assert.ok(Number.isInteger(records));
  // the subset: 932 per training file, 846 test; any other folder: whatever whole number it holds
  if (CIFAR10_SUBSET_SHA256["data_batch_1.bin"].records === records) {
    assert.equal(train.n, 5 * 932);
    assert.equal(test.n, 846);
    assert.equal(sha256Hex(raw), CIFAR10_SUBSET_SHA256["data_batch_1.bin"].sha256);
  }
  assert.equal(train.images.length, train.n * 3072);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of train.images) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(lo >= 0 && hi <= 1 && hi > 0.9, `pixels in [${lo}, ${hi}]`);
  // image 0's red pixel (0, 0), green (0, 0) and blue (31, 31) are bytes 1, 1025 and 3072 of record 0
  assert.equal(train.images[0], Math.fround(raw[1] / 255));
  assert.equal(train.images[1024], Math.fround(raw[1025] / 255));
  assert.equal(train.images[3071], Math.fround(raw[3072] / 255));
  // image 1 starts at record 1
  assert.equal(train.images[3072], Math.fround(raw[CIFAR10_RECORD + 1] / 255));
  assert.equal(loadCifar10("train", { limit: 5 }).n, 5);
});

test("a tiny folder the test writes (3 records a file): read in file order, via dataDir and via the environment variable", () => {
  const dir = writeTiny(3);
  try {
    const d = loadCifar10("train", { dataDir: dir });
    assert.equal(d.n, 15);
    assert.equal(d.files.length, 5);
    assert.deepEqual(Array.from(d.labels.subarray(0, 4)), [0, 1, 2, 0]);
    assert.equal(d.images[1], Math.fround(((1 * 7 + "data_batch_1.bin".length) % 256) / 255));
    assert.deepEqual(d.classNames, CIFAR10_CLASS_NAMES);
    const saved = process.env[CIFAR10_ENV];
    process.env[CIFAR10_ENV] = dir;
    try {
      assert.equal(loadCifar10("test").n, 3);
      assert.equal(loadCifar10("test").dir, dir);
    } finally {
      if (saved === undefined) delete process.env[CIFAR10_ENV];
      else process.env[CIFAR10_ENV] = saved;
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("bad input: truncated, empty, a label outside 0–9, wrong class names, missing folder → one DataError line naming the file", () => {
  const truncated = writeTiny(2, (name, buf) => (name === "data_batch_2.bin" ? buf.subarray(0, buf.length - 100) : buf));
  const badLabel = writeTiny(2, (name, buf) => {
    if (name === "test_batch.bin") buf[CIFAR10_RECORD] = 10;
    return buf;
  });
  const empty = writeTiny(1, (name, buf) => (name === "test_batch.bin" ? new Uint8Array(0) : buf));
  try {
    assert.match(dataError(() => loadCifar10("train", { dataDir: truncated })), /data_batch_2\.bin: 6046 bytes is not a whole number of CIFAR-10 records of 3073 bytes.*1 records and 2973 bytes over/);
    assert.match(dataError(() => loadCifar10("test", { dataDir: badLabel })), /test_batch\.bin: label 10 of record 1 is not in 0\.\.9/);
    assert.match(dataError(() => loadCifar10("test", { dataDir: empty })), /test_batch\.bin: 0 bytes .*empty/);
    writeFileSync(join(empty, "batches.meta.txt"), "cat\ndog\n");
    assert.match(dataError(() => loadCifar10("train", { dataDir: empty })), /batches\.meta\.txt: 2 class names, expected 10/);
    rmSync(join(empty, "data_batch_3.bin"));
    writeFileSync(join(empty, "batches.meta.txt"), CIFAR10_CLASS_NAMES.join("\n"));
    assert.match(dataError(() => loadCifar10("train", { dataDir: empty })), /data_batch_3\.bin: file not found/);
    assert.match(dataError(() => loadCifar10("train", { dataDir: join(empty, "nowhere") })), /nowhere: the data folder does not exist/);
    assert.match(dataError(() => loadCifar10("train", { dataDir: join(empty, "data_batch_1.bin") })), /is a file; it must be a directory/);
  } finally {
    for (const d of [truncated, badLabel, empty]) rmSync(d, { recursive: true });
  }
});

test("a wrong checksum: a file with the subset's name and size but other bytes → one line; verify: false reads it", (t) => {
  const dir = findCifar10Dir();
  if (dir === undefined) {
    t.skip(`CIFAR-10 data not found (set ${CIFAR10_ENV} or put the subset at ../shared/data/cifar-10-subset)`);
    return;
  }
  const raw = readFileSync(join(dir, "test_batch.bin"));
  if (raw.length !== CIFAR10_SUBSET_SHA256["test_batch.bin"].records * CIFAR10_RECORD) {
    t.skip(`${dir} holds another number of records than the subset; its files are not pinned`);
    return;
  }
  const copy = mkdtempSync(join(tmpdir(), "cifar10-sum-"));
  try {
    const changed = Buffer.from(raw);
    changed[5] ^= 1; // one pixel of the first image
    writeFileSync(join(copy, "test_batch.bin"), changed);
    copyFileSync(join(dir, "batches.meta.txt"), join(copy, "batches.meta.txt"));
    assert.match(dataError(() => loadCifar10("test", { dataDir: copy })), /test_batch\.bin: SHA-256 [0-9a-f]{64} does not match the pinned 7a6b6545.* \(corrupt or modified file\)/);
    assert.equal(loadCifar10("test", { dataDir: copy, verify: false }).n, 846);
  } finally {
    rmSync(copy, { recursive: true });
  }
});
