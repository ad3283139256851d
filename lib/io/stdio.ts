/**
 * Standard output that cannot take a write — a closed pipe (EPIPE), a full disk (ENOSPC), a
 * device error — ends the process with one line on stderr and exit 1, never a stack trace. Node
 * reports such failures as an 'error' event on process.stdout, which without a listener crashes.
 */
export function guardStdout(prog: string, beforeError: () => void = () => undefined): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    beforeError(); // e.g. wipe a progress bar so the line stands alone
    const why = e.code === "EPIPE" ? "the reader closed the pipe (EPIPE)" : e.code ? `${e.code}: ${e.message.replace(/^\w+: /, "").split(",")[0]}` : e.message;
    try {
      process.stderr.write(`${prog}: error: cannot write to standard output: ${why}\n`);
    } finally {
      process.exit(1);
    }
  });
}

/**
 * `text` as one printable line: line ends (\n, \r, U+2028, U+2029) and other control characters
 * written as escapes (`\n`, `\u2028`), so a value or a file name cannot break an error line in two.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
