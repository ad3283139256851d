#!/usr/bin/env node
/**
 * `npm run web:build`: writes the static site to web-dist/ (or the folder given as the first
 * argument): index.html, style.css, main.js (the page), worker.js (the attack, on the library's
 * attack path), the tfjs WASM binaries, and mnist-sample.json (MNIST images extracted here, at build
 * time). Any static host serves the folder as is; nothing is fetched from elsewhere at run time.
 */
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, process.argv[2] ?? "web-dist");
const require = createRequire(import.meta.url);

/** lib/data/mnist.ts reads IDX files with Node's fs; in the page its Node imports resolve to web/node_shim.ts. */
const nodeShim = {
  name: "node-shim",
  setup(b) {
    b.onResolve({ filter: /^node:(fs|crypto|path|zlib)$/ }, () => ({ path: join(root, "web", "node_shim.ts") }));
  },
};

const t0 = performance.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true, format: "iife", platform: "browser", target: "es2020", minify: true, sourcemap: false,
  legalComments: "none", logLevel: "warning", plugins: [nodeShim],
  // backend.ts loads tfjs-node only when asked for the tensorflow backend (never in the page)
  external: ["@tensorflow/tfjs-node"],
  define: { "process.env.NODE_ENV": '"production"' },
  absWorkingDir: root,
};
await esbuild.build({ ...common, entryPoints: [join(root, "web", "main.ts")], outfile: join(out, "main.js") });
await esbuild.build({ ...common, entryPoints: [join(root, "web", "worker.ts")], outfile: join(out, "worker.js") });

for (const f of ["index.html", "style.css"]) copyFileSync(join(root, "web", f), join(out, f));
const wasmDir = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm"))) copyFileSync(join(wasmDir, f), join(out, f));

// the data: extract.ts runs in Node (bundled to a temporary CommonJS file, then required); two
// folders deep, as lib/data/mnist.ts's own files are, so it finds data/checksums.json from __dirname
const tmp = join(root, ".cache", "web", "extract.cjs");
mkdirSync(dirname(tmp), { recursive: true });
await esbuild.build({ entryPoints: [join(root, "web", "extract.ts")], bundle: true, platform: "node", format: "cjs", outfile: tmp, logLevel: "warning", absWorkingDir: root, packages: "external" });
const { extract } = require(tmp);
writeFileSync(join(out, "mnist-sample.json"), JSON.stringify(extract()));

const size = (f) => statSync(join(out, f)).size;
const gz = (f) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
const code = ["index.html", "style.css", "main.js", "worker.js"];
const wasm = readdirSync(out).filter((f) => f.endsWith(".wasm"));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`web: wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`  code (html, css, main.js, worker.js): ${kib(code.reduce((s, f) => s + size(f), 0))}, gzipped ${kib(code.reduce((s, f) => s + gz(f), 0))}`);
console.log(`  wasm (${wasm.join(", ")}): ${kib(wasm.reduce((s, f) => s + size(f), 0))}, gzipped ${kib(wasm.reduce((s, f) => s + gz(f), 0))} (a browser loads one)`);
console.log(`  data (mnist-sample.json): ${kib(size("mnist-sample.json"))}, gzipped ${kib(gz("mnist-sample.json"))}`);
