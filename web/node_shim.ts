/**
 * The page's stand-in for the Node built-ins that lib/data/mnist.ts imports to read the IDX files
 * (node:fs, node:crypto, node:path, node:zlib). The attack path imports only mnist.ts's constants;
 * the page gets its images from the bundled sample (web/data.ts), so any call here is a bug.
 */
function nodeOnly(name: string): never {
  throw new Error(`${name} is Node-only: the page reads its MNIST images from mnist-sample.json (web/data.ts)`);
}
export const createHash = () => nodeOnly("crypto.createHash");
export const existsSync = () => nodeOnly("fs.existsSync");
export const readFileSync = () => nodeOnly("fs.readFileSync");
export const statSync = () => nodeOnly("fs.statSync");
export const openSync = () => nodeOnly("fs.openSync");
export const closeSync = () => nodeOnly("fs.closeSync");
export const fstatSync = () => nodeOnly("fs.fstatSync");
/** Read only inside the functions above; an empty table at load time. */
export const constants: Record<string, number> = {};
export const join = () => nodeOnly("path.join");
export const resolve = () => nodeOnly("path.resolve");
export const gunzipSync = () => nodeOnly("zlib.gunzipSync");
