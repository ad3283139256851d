// Compiles the project (tsc -p .) only when a source is newer than the last successful build, so
// `npm run report` and `npm run lab` start at once on a fresh dist/. The stamp is written after tsc
// succeeds; any .ts under lib/ cli/ scripts/ test/, tsconfig.json or package.json newer than it
// (or a missing dist/) triggers a build.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const stamp = join(root, "dist", ".build-stamp");

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(
  ...["lib", "cli", "scripts", "test"].filter((d) => existsSync(join(root, d))).map((d) => newest(join(root, d))),
  ...["tsconfig.json", "package.json"].map((f) => statSync(join(root, f)).mtimeMs),
);
if (!existsSync(stamp) || statSync(stamp).mtimeMs < sources) {
  const started = Date.now();
  // the same `tsc` that `npm run build` runs (node_modules/.bin/tsc)
  try {
    execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", root], { stdio: "inherit" });
  } catch (e) {
    console.error("build: tsc failed (its errors are above)");
    process.exit(e.status || 1);
  }
  writeFileSync(stamp, new Date(started).toISOString() + "\n");
}
