/**
 * Python-compatible formatting, so our log lines match the original's character for character
 * (`print(f"... {x}")` of a float uses repr: shortest round-trip digits, "1.0" for integers,
 * exponent form below 1e-4 and from 1e16).
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const ax = Math.abs(x);
  if (ax >= 1e-4 && ax < 1e16) {
    const s = String(x); // JS also uses shortest round-trip digits, in fixed form in this range
    return s.includes(".") || s.includes("e") ? s : `${s}.0`;
  }
  // exponent form: JS "1.5e-7" -> Python "1.5e-07"
  const [mant, exp] = x.toExponential().split("e");
  const e = Number(exp);
  const sign = e < 0 ? "-" : "+";
  return `${mant}e${sign}${String(Math.abs(e)).padStart(2, "0")}`;
}

export type PyValue = number | boolean | string | null | { int: number };

/** repr() of one value: ints stay ints when wrapped as {int}, plain numbers are floats. */
export function pyRepr(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number") return pyFloat(v);
  return String(v.int);
}

/** The line argparse prints for `print(args)`: `Namespace(a=1, b='x')`, keys sorted. */
export function pyNamespace(fields: Record<string, PyValue>): string {
  const keys = Object.keys(fields).sort();
  return `Namespace(${keys.map((k) => `${k}=${pyRepr(fields[k])}`).join(", ")})`;
}
