/**
 * `npm run fetch:cifar10`: downloads the official CIFAR-10 binary release (cifar-10-binary.tar.gz,
 * https://www.cs.toronto.edu/~kriz/cifar.html), checks its MD5 (c32a1d4ab5d03f1284b67883e8d87530),
 * extracts it with the system `tar` and checks every file with the loader (whole records, labels
 * 0–9), then prints each file's SHA-256. The data lands in data/cifar-10-batches-bin, one of the
 * folders lib/data/cifar10.ts looks in (or --dest DIR/cifar-10-batches-bin; point --data_dir or
 * $DGC_CIFAR10_DIR at it). Where there is no network, download the tarball elsewhere and pass it:
 *   npm run fetch:cifar10 -- [--source URL|FILE|file://…] [--dest DIR] [--force]
 * Bad input (an unreadable source, a wrong MD5, not a tarball, missing or bad files): one line on
 * stderr, exit 2, nothing left behind. A download that fails (no network): one line, exit 1.
 * DGC_CIFAR10_TEST_MD5 replaces the expected MD5 — for the tests, which build their own tarball.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseFlagsOrExit } from "../cli/flags";
import { CIFAR10_FILES, CIFAR10_RELEASE, checkRecords, sha256Hex } from "../lib/data/cifar10";
import { DataError } from "../lib/data/idx";

const ROOT = resolve(__dirname, "../..");
const PROG = "fetch_cifar10";

class FetchError extends Error {
  constructor(message: string, readonly code: 1 | 2) {
    super(message);
  }
}

/** Copies `source` (an http(s) URL, a file:// URL or a path) to `to`, returning its MD5. */
async function download(source: string, to: string): Promise<string> {
  const md5 = createHash("md5");
  let input: Readable;
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new FetchError(`${source}: download failed (${cause?.code ?? cause?.message ?? (e as Error).message}); without a network, download the tarball elsewhere and pass it with --source FILE`, 1);
    }
    if (!res.ok || !res.body) throw new FetchError(`${source}: download failed (HTTP ${res.status} ${res.statusText})`, 1);
    input = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  } else {
    let path: string;
    try {
      path = source.startsWith("file:") ? fileURLToPath(source) : resolve(source);
    } catch (e) {
      throw new FetchError(`${source}: not a URL or a path (${(e as Error).message})`, 2);
    }
    if (!existsSync(path)) throw new FetchError(`${path}: file not found (expected ${CIFAR10_RELEASE.url.split("/").pop()})`, 2);
    if (statSync(path).isDirectory()) throw new FetchError(`${path}: is a directory, not the tarball`, 2);
    input = createReadStream(path);
  }
  input.on("data", (chunk: Buffer) => md5.update(chunk));
  await pipeline(input, createWriteStream(to));
  return md5.digest("hex");
}

export async function fetchCifar10(opts: { source: string; dest: string; force: boolean; md5: string }): Promise<string> {
  const dest = resolve(opts.dest);
  const target = join(dest, CIFAR10_RELEASE.folder);
  if (existsSync(target) && !opts.force) {
    console.log(`${target} already exists (pass --force to fetch again)`);
    return target;
  }
  mkdirSync(dest, { recursive: true });
  // staged inside dest, so the final rename never crosses file systems
  const stage = mkdtempSync(join(dest, ".fetch-cifar10-"));
  try {
    const tarball = join(stage, "cifar-10-binary.tar.gz");
    console.log(`fetching ${opts.source}`);
    const got = await download(opts.source, tarball);
    if (got !== opts.md5) throw new FetchError(`${opts.source}: MD5 ${got} does not match the official release's ${opts.md5} (corrupt, incomplete or another file)`, 2);
    console.log(`MD5 ${got} ok`);
    const out = join(stage, "out");
    mkdirSync(out);
    const tar = spawnSync("tar", ["-xzf", tarball, "-C", out, "--no-same-owner", "--no-same-permissions"], { encoding: "utf8" });
    if (tar.error) throw new FetchError(`cannot run tar (${tar.error.message}); install GNU tar`, 2);
    if (tar.status !== 0) throw new FetchError(`${opts.source}: tar could not extract it (${tar.stderr.trim().split("\n")[0]})`, 2);
    const folder = join(out, CIFAR10_RELEASE.folder);
    if (!existsSync(folder)) throw new FetchError(`${opts.source}: the tarball holds no ${CIFAR10_RELEASE.folder}/ folder`, 2);
    for (const name of [...CIFAR10_FILES.train, ...CIFAR10_FILES.test, "batches.meta.txt"]) {
      const file = join(folder, name);
      if (!existsSync(file)) throw new FetchError(`${opts.source}: the tarball has no ${CIFAR10_RELEASE.folder}/${name}`, 2);
      if (name.endsWith(".bin")) {
        const buf = readFileSync(file);
        const n = checkRecords(buf, `${CIFAR10_RELEASE.folder}/${name}`);
        console.log(`${name}: ${n} images, SHA-256 ${sha256Hex(buf)}`);
      }
    }
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(folder, target);
    console.log(`CIFAR-10 in ${target} (point --data_dir or $DGC_CIFAR10_DIR at it)`);
    return target;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseFlagsOrExit(PROG, {
    source: { kind: "string", nonEmpty: true, default: CIFAR10_RELEASE.url, help: "where to read cifar-10-binary.tar.gz: an http(s) URL, a file:// URL or a path" },
    dest: { kind: "string", nonEmpty: true, default: join(ROOT, "data"), help: "the folder to extract into (the data lands in DIR/cifar-10-batches-bin)" },
    force: { kind: "switch", help: "fetch again even if the folder exists" },
  }, process.argv.slice(2), "Download, verify (MD5) and extract the official CIFAR-10 binary release");
  const md5 = process.env.DGC_CIFAR10_TEST_MD5 || CIFAR10_RELEASE.md5;
  try {
    await fetchCifar10({ ...o, force: o.force === true, md5 });
  } catch (e) {
    if (e instanceof FetchError) {
      process.stderr.write(`${PROG}: error: ${e.message}\n`);
      process.exit(e.code);
    }
    if (e instanceof DataError) {
      process.stderr.write(`${PROG}: error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

if (require.main === module) void main();
