#!/usr/bin/env bash
# Optional: the `tensorflow` backend (@tensorflow/tfjs-node) without Google's download, which this
# network cannot reach. Its native addon is built from source against the TensorFlow C library
# shipped inside the tensorflow-cpu wheel on PyPI. Not part of `npm ci` (the wheel is 274 MB); `npm run
# setup` runs it and goes on without it if it fails (scripts/setup.sh); `--backend auto` uses
# tensorflow only where it measured faster. Idempotent. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say() { echo "setup:tfjs-node: $*"; }
if node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; then say "already loads"; exit 0; fi
[ -x .venv/bin/python ] || python3 -m venv .venv
mkdir -p .cache/tf
wheel=$(ls .cache/tf/tensorflow_cpu-2.21.0-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  say "downloading the tensorflow-cpu 2.21.0 wheel (274 MB) from PyPI"
  .venv/bin/pip download --quiet --no-deps --timeout 30 --retries 2 tensorflow-cpu==2.21.0 -d .cache/tf 2> >(grep -v "is ignored: it is neither" >&2)
  wheel=$(ls .cache/tf/tensorflow_cpu-2.21.0-*.whl | head -1)
fi
say "installing @tensorflow/tfjs-node@4.22.0 without its download script"
npm install --no-save --ignore-scripts --no-audit --no-fund @tensorflow/tfjs-node@4.22.0 >/dev/null
tfn=node_modules/@tensorflow/tfjs-node
mkdir -p "$tfn/deps/include" "$tfn/deps/lib"
say "extracting the C library and its headers from the wheel"
.venv/bin/python - "$wheel" "$tfn/deps" <<'PY'
import sys, zipfile, os, shutil
wheel, deps = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if n.startswith(("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/", "tensorflow/include/xla/tsl/", "tensorflow/include/tsl/")) and n.endswith(".h"):
            dst = os.path.join(deps, "include", n[len("tensorflow/include/"):])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with z.open(n) as s, open(dst, "wb") as d: shutil.copyfileobj(s, d)
    for n, names in {"tensorflow/libtensorflow_cc.so.2": ["libtensorflow_cc.so.2", "libtensorflow.so"],
                     "tensorflow/libtensorflow_framework.so.2": ["libtensorflow_framework.so.2", "libtensorflow_framework.so"]}.items():
        first = os.path.join(deps, "lib", names[0])
        with z.open(n) as s, open(first, "wb") as d: shutil.copyfileobj(s, d)
        for other in names[1:]:
            link = os.path.join(deps, "lib", other)
            if os.path.lexists(link): os.remove(link)
            os.symlink(names[0], link)  # the name the build links / the SONAME the loader wants
PY
say "building the addon (node-gyp)"
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"   # npm's bundled node-gyp
(cd "$tfn" && node "$gyp" rebuild --nodedir=/usr --module_name=tfjs_binding \
  --module_path="$root/$tfn/lib/napi-v8" --napi_build_version=8 >/dev/null 2>.build.log) \
  || { say "build failed: $(grep -m1 -E 'error' "$tfn/.build.log")"; exit 1; }
node -e "
const tf = require('@tensorflow/tfjs'); require('@tensorflow/tfjs-node');
tf.setBackend('tensorflow').then(() => {
  const a = tf.tensor2d([[1, 2], [3, 4]]); const s = tf.matMul(a, a).dataSync();
  if (tf.getBackend() !== 'tensorflow' || s[0] !== 7 || s[3] !== 22) throw new Error('tfjs-node loaded but computes wrongly');
  console.log('setup:tfjs-node: backend ' + tf.getBackend() + ' works');
});"
