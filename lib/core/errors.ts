/**
 * The library's two kinds of failure, and the checks every entry point shares.
 *   ConfigError      bad input, found before any work: the CLIs print its one line and exit 2.
 *   DivergenceError  a run that went non-finite: reported, never saved.
 * Messages name the setting as the caller spelt it (`check*` take that name): the CLIs pass their
 * flags (`--train_lr`), the library its own terms.
 */
export class ConfigError extends Error {
  /**
   * The setting the message names, in the library's words (`attackBatchSize`, `alpha`), so that a
   * command line can say it in its own (`--attack_batch_size`): see `inTermsOf`.
   */
  constructor(message: string, readonly setting?: string) {
    super(message);
  }
}

/** The error's message with the library's setting names (whole words) as the caller names them (a CLI: its flags). */
export function inTermsOf(e: Error, names: Readonly<Record<string, string>>): string {
  let m = e.message;
  for (const [setting, name] of Object.entries(names)) m = m.replace(new RegExp(`\\b${setting}\\b`, "g"), name);
  return m;
}

export class DivergenceError extends Error {}

/** Throws ConfigError(msg) unless ok. Shared by every command's validation (lib/federated/config.ts). */
export function check(ok: boolean, msg: string): void {
  if (!ok) throw new ConfigError(msg);
}

/** `--flag` an integer from `min` (to `max`, with why that bound), else one line naming the flag. */
export function checkInt(flag: string, x: number, min: number, max?: number, why?: string): void {
  const ok = Number.isInteger(x) && x >= min && (max === undefined || x <= max);
  check(ok, max === undefined ? `--${flag} must be an integer >= ${min}, got ${x}` : `--${flag} must be an integer from ${min} to ${max}${why ? ` (${why})` : ""}, got ${x}`);
}

/** `--flag` a learning rate float32 can hold: it rounds to neither infinity nor zero (tfjs computes in float32). */
export function checkRate(flag: string, x: number): void {
  check(Number.isFinite(Math.fround(x)) && Math.fround(x) > 0, `--${flag} must be a number > 0 within float32's range (1.4e-45 to 3.4e38), got ${x}`);
}

