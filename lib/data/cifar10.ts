/**
 * CIFAR-10 (Krizhevsky 2009) in the official binary format of `cifar-10-binary.tar.gz`: each file is
 * a run of 3,073-byte records, one label byte (0–9) then 3,072 pixel bytes — 1,024 red, 1,024 green,
 * 1,024 blue, each 32 × 32 row-major. Any whole number of records per file is read (the full
 * release has 10,000 a file; the workplace's subset 932 and 846). Images come out as [n, 3, 32, 32]
 * floats in [0, 1] (torchvision's ToTensor: v / 255), flat in CHW order; labels 0–9; class names
 * from `batches.meta.txt`.
 *
 * Where the data is, first found wins: the `dataDir` option (the CLIs' `--data_dir`), the
 * environment variable DGC_CIFAR10_DIR, then `../shared/data/cifar-10-subset` beside the project
 * (CI and the workplace's machines), then `data/cifar-10-batches-bin` inside the project (where
 * `npm run fetch:cifar10` puts the full release). Nothing is downloaded here.
 *
 * Checksums: a file whose name and size are those of the workplace's subset must have the subset's
 * SHA-256 (CIFAR10_SUBSET_SHA256, from shared/data/README.md). The full release's per-file
 * SHA-256s are not pinned (they were not available offline): its integrity is the tarball's MD5,
 * which `npm run fetch:cifar10` checks before extracting. Other sizes are checked for shape only.
 * Bad files throw DataError with one line naming the file (the CLIs print it and exit 2).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { DataError } from "./idx";
import type { DatasetShape, ImageSplit } from "./dataset";

export const CIFAR10_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
/** Pixel bytes per image: 3 × 32 × 32. */
export const CIFAR10_PIXELS = CIFAR10_CHANNELS * CIFAR10_SIDE * CIFAR10_SIDE;
/** Bytes per record: the label byte and the pixels. */
export const CIFAR10_RECORD = 1 + CIFAR10_PIXELS;
export const CIFAR10_CLASSES = 10;
/** The environment variable naming the folder of the binary files. */
export const CIFAR10_ENV = "DGC_CIFAR10_DIR";

/** The class names of the official release, in label order (what batches.meta.txt says). */
export const CIFAR10_CLASS_NAMES: readonly string[] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

export const CIFAR10_SHAPE: DatasetShape = {
  name: "cifar10",
  channels: CIFAR10_CHANNELS,
  height: CIFAR10_SIDE,
  width: CIFAR10_SIDE,
  classes: CIFAR10_CLASSES,
  classNames: CIFAR10_CLASS_NAMES,
  range: [0, 1],
};

export type Cifar10Split = "train" | "test";

export const CIFAR10_FILES: Readonly<Record<Cifar10Split, readonly string[]>> = {
  train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
  test: ["test_batch.bin"],
};

/**
 * The workplace's subset (shared/data/README.md): the first 932 records of each training file and
 * the first 846 of the test file of the official release, with their SHA-256s.
 */
export const CIFAR10_SUBSET_SHA256: Readonly<Record<string, { records: number; sha256: string }>> = {
  "data_batch_1.bin": { records: 932, sha256: "b0f27afee5ca668579a2e93ee3681e063ff732dc2df61078190ed27754426fbb" },
  "data_batch_2.bin": { records: 932, sha256: "d8be2e394f486275122ee559eafeb27c7b361cd515e8b22af157135d0c8bdcb1" },
  "data_batch_3.bin": { records: 932, sha256: "ff9dc9eb2d46ee4901a27a6a8bb2eb17e81a34f029c976d4731066200935a780" },
  "data_batch_4.bin": { records: 932, sha256: "9a0ce4a95c35e50eb9c7dbf3066b5edec5f9c1f0c409be6168393b488b7944e7" },
  "data_batch_5.bin": { records: 932, sha256: "fdda7fa3b14c06a9fd2ca26f99a341480beed33e5eabfe0339bb04f209281f36" },
  "test_batch.bin": { records: 846, sha256: "7a6b65454614904e75805388c6c869be5921ba19464232b1d871dc44f4d54402" },
};

/** The official release: `cifar-10-binary.tar.gz`, its MD5, and the folder it unpacks to. */
export const CIFAR10_RELEASE = {
  url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  md5: "c32a1d4ab5d03f1284b67883e8d87530",
  folder: "cifar-10-batches-bin",
  recordsPerFile: 10000,
} as const;

/** One split as [n, 3, 32, 32] floats in [0, 1] (flat, CHW), labels 0–9, and the files read. */
export interface Cifar10Data extends ImageSplit {
  split: Cifar10Split;
  dir: string;
  files: string[];
  classNames: readonly string[];
}

function projectRoot(): string {
  // compiled files live in dist/lib/data, sources in lib/data
  for (const up of ["../../..", "../.."]) {
    const dir = resolve(__dirname, up);
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return resolve(__dirname, "../..");
}

/** The folders searched after `dataDir` and the environment variable, in order. */
export function defaultCifar10Dirs(): string[] {
  const root = projectRoot();
  return [resolve(root, "..", "shared", "data", "cifar-10-subset"), join(root, "data", CIFAR10_RELEASE.folder)];
}

/**
 * The folder to read: `dataDir` if given (it must exist), else $DGC_CIFAR10_DIR (it must exist),
 * else the first default folder holding test_batch.bin; undefined when none does.
 */
export function findCifar10Dir(dataDir?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = dataDir ?? (env[CIFAR10_ENV] || undefined);
  if (named !== undefined) {
    const where = dataDir !== undefined ? "the data folder" : `$${CIFAR10_ENV}`;
    if (!existsSync(named)) throw new DataError(`${named}: ${where} does not exist (expected the CIFAR-10 binary files data_batch_1.bin … test_batch.bin)`);
    if (!statSync(named).isDirectory()) throw new DataError(`${named}: ${where} is a file; it must be a directory holding the CIFAR-10 binary files`);
    return named;
  }
  return defaultCifar10Dirs().find((d) => existsSync(join(d, CIFAR10_FILES.test[0])));
}

export function sha256Hex(buf: Uint8Array): string {
  return createHash("sha256").update(buf).digest("hex");
}

/**
 * Checks a buffer of records: a whole number of 3,073-byte records, at least one, every label
 * 0–9. Returns the number of records. `file` names it in the one-line DataError.
 */
export function checkRecords(buf: Uint8Array, file: string): number {
  if (buf.length === 0 || buf.length % CIFAR10_RECORD !== 0) {
    const whole = Math.floor(buf.length / CIFAR10_RECORD);
    throw new DataError(
      `${file}: ${buf.length} bytes is not a whole number of CIFAR-10 records of ${CIFAR10_RECORD} bytes (1 label + 3,072 pixels)` +
        (buf.length === 0 ? "; the file is empty" : `: ${whole} records and ${buf.length - whole * CIFAR10_RECORD} bytes over (truncated or not a CIFAR-10 binary file)`),
    );
  }
  const n = buf.length / CIFAR10_RECORD;
  for (let i = 0; i < n; i++) {
    const label = buf[i * CIFAR10_RECORD];
    if (label >= CIFAR10_CLASSES) throw new DataError(`${file}: label ${label} of record ${i} is not in 0..9 (not a CIFAR-10 binary file, or CIFAR-100's)`);
  }
  return n;
}

/** Reads a file, or throws DataError naming it. */
function readNamed(file: string): Buffer {
  if (!existsSync(file)) throw new DataError(`${file}: file not found (expected a CIFAR-10 binary file)`);
  try {
    if (statSync(file).isDirectory()) throw new DataError(`${file}: is a directory, not a CIFAR-10 binary file`);
    return readFileSync(file);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`${file}: cannot read (${err.code ?? err.message})`);
  }
}

/**
 * The pinned SHA-256 a file must have, if its name and size are those of a known file (the
 * workplace's subset); undefined otherwise.
 */
export function pinFor(name: string, bytes: number): string | undefined {
  const pin = CIFAR10_SUBSET_SHA256[name];
  return pin && pin.records * CIFAR10_RECORD === bytes ? pin.sha256 : undefined;
}

/** The class names of batches.meta.txt (non-empty lines, in label order); the official names if the file is absent. */
export function readClassNames(dir: string): readonly string[] {
  const file = join(dir, "batches.meta.txt");
  if (!existsSync(file)) return CIFAR10_CLASS_NAMES;
  const names = readNamed(file).toString("utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length !== CIFAR10_CLASSES) throw new DataError(`${file}: ${names.length} class names, expected ${CIFAR10_CLASSES} (one a line, in label order)`);
  return names;
}

export interface Cifar10Options {
  /** The folder of the binary files; default: $DGC_CIFAR10_DIR, then the default folders (findCifar10Dir). */
  dataDir?: string;
  /** Check the SHA-256 of files that match a known name and size (default true). */
  verify?: boolean;
  /** Read at most this many images (the first ones, in file order). */
  limit?: number;
}

/** [0, 1] from a byte: v / 255, as torchvision's ToTensor. */
const LUT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Loads one split. Throws DataError (one line) when no folder is found or a file is bad. */
export function loadCifar10(split: Cifar10Split, opts: Cifar10Options = {}): Cifar10Data {
  const dir = findCifar10Dir(opts.dataDir);
  if (dir === undefined) {
    throw new DataError(`CIFAR-10 not found: pass a data folder (--data_dir), set $${CIFAR10_ENV}, or run \`npm run fetch:cifar10\` (looked in ${defaultCifar10Dirs().join(", ")})`);
  }
  const classNames = readClassNames(dir);
  const limit = opts.limit ?? Infinity;
  const parts: { buf: Uint8Array; n: number }[] = [];
  const files: string[] = [];
  let total = 0;
  for (const name of CIFAR10_FILES[split]) {
    if (total >= limit) break;
    const file = join(dir, name);
    const buf = readNamed(file);
    const n = checkRecords(buf, file);
    const pin = opts.verify === false ? undefined : pinFor(name, buf.length);
    if (pin !== undefined) {
      const got = sha256Hex(buf);
      if (got !== pin) throw new DataError(`${file}: SHA-256 ${got} does not match the pinned ${pin} of the workplace's subset (corrupt or modified file)`);
    }
    const take = Math.min(n, limit - total);
    parts.push({ buf, n: take });
    files.push(file);
    total += take;
  }
  const images = new Float32Array(total * CIFAR10_PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  for (const { buf, n } of parts) {
    for (let i = 0; i < n; i++, at++) {
      const rec = i * CIFAR10_RECORD;
      labels[at] = buf[rec];
      const out = images.subarray(at * CIFAR10_PIXELS, (at + 1) * CIFAR10_PIXELS);
      for (let p = 0; p < CIFAR10_PIXELS; p++) out[p] = LUT[buf[rec + 1 + p]];
    }
  }
  return { split, n: total, pixels: CIFAR10_PIXELS, range: CIFAR10_SHAPE.range, images, labels, dir, files, classNames };
}

/** Encodes images ([n × 3072] bytes, CHW) and labels as the official binary format (for tests and subsets). */
export function encodeCifar10(pixels: Uint8Array, labels: ArrayLike<number>): Uint8Array {
  const n = labels.length;
  if (pixels.length !== n * CIFAR10_PIXELS) throw new Error(`encodeCifar10: ${pixels.length} pixel bytes for ${n} images`);
  const out = new Uint8Array(n * CIFAR10_RECORD);
  for (let i = 0; i < n; i++) {
    out[i * CIFAR10_RECORD] = labels[i];
    out.set(pixels.subarray(i * CIFAR10_PIXELS, (i + 1) * CIFAR10_PIXELS), i * CIFAR10_RECORD + 1);
  }
  return out;
}

/** A per-pixel mean image of a split ([3072], CHW, in [0, 1]). */
export function cifar10MeanImage(data: ImageSplit): Float32Array {
  const m = new Float64Array(CIFAR10_PIXELS);
  for (let i = 0; i < data.n; i++) for (let p = 0; p < CIFAR10_PIXELS; p++) m[p] += data.images[i * CIFAR10_PIXELS + p];
  return Float32Array.from(m, (v) => v / data.n);
}
