/**
 * The IDX file format of the original MNIST files: a big-endian header (magic 0x0000080D with D
 * dimensions, type 0x08 = unsigned byte), D big-endian uint32 sizes, then the bytes.
 */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export class DataError extends Error {}

/** Parses an unsigned-byte IDX buffer and checks it has exactly the expected dimensions. */
export function parseIdx(buf: Uint8Array, file: string, expectDims: number[]): IdxArray {
  const what = `expected an IDX file of unsigned bytes with dimensions [${expectDims.join(", ")}]`;
  if (buf.length < 4) throw new DataError(`${file}: file is ${buf.length} bytes, too short for an IDX header (${what})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0);
  const type = (magic >> 8) & 0xff;
  const nd = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08 || nd !== expectDims.length) {
    throw new DataError(`${file}: bad IDX magic number 0x${magic.toString(16).padStart(8, "0")} (${what}, magic 0x0000080${expectDims.length})`);
  }
  const header = 4 + 4 * nd;
  if (buf.length < header) throw new DataError(`${file}: truncated IDX header (${what})`);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i));
  if (dims.some((d, i) => d !== expectDims[i])) {
    throw new DataError(`${file}: IDX dimensions [${dims.join(", ")}] (${what})`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + n) {
    throw new DataError(`${file}: ${buf.length} bytes, expected ${header + n} (${what}); the file is ${buf.length < header + n ? "truncated" : "too long"}`);
  }
  return { dims, data: buf.subarray(header) };
}
