#!/usr/bin/env node
/**
 * A tiny static server for the built page, on 127.0.0.1 only: `node web/serve.cjs [folder] [--port N]`
 * (default web-dist/, a free port). Prints the address; GET and HEAD only, nothing outside the folder.
 */
"use strict";
const { createServer } = require("node:http");
const { createReadStream, statSync } = require("node:fs");
const { extname, join, normalize, resolve, sep } = require("node:path");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".wasm": "application/wasm", ".png": "image/png", ".svg": "image/svg+xml",
};

/** Serves `dir` on 127.0.0.1:`port` (0: a free one); resolves to the server once it listens. */
function serve(dir, port = 0) {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (path.endsWith("/")) path += "index.html";
    const file = normalize(join(base, path));
    let st;
    try {
      st = file === base || file.startsWith(base + sep) ? statSync(file) : undefined;
    } catch {
      st = undefined;
    }
    if (!st || !st.isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": st.size, "cache-control": "no-cache" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok(server));
  });
}

module.exports = { serve };

if (require.main === module) {
  const args = process.argv.slice(2);
  const p = args.indexOf("--port");
  const port = p >= 0 ? Number(args[p + 1]) : Number(process.env.PORT ?? 0);
  const dir = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--port") ?? "web-dist";
  serve(dir, port).then((server) => {
    console.log(`web: serving ${resolve(dir)} at http://127.0.0.1:${server.address().port}/ (Ctrl-C stops)`);
  });
}
