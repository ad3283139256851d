"""Executes a notebook headless with the tslab kernel and exports it, for scripts/report.ts.

    python execute_notebook.py IN.ipynb OUT.ipynb OUT.html --cwd DIR [--timeout S]

Runs every cell in DIR (the notebook's own folder, so its relative imports work) and never allows
errors: the first failing cell stops the run, and one line naming it goes to stderr (exit 1).
The executed notebook and a standalone HTML page (nbconvert's lab template) are written atomically.
"""
import argparse, os, re, sys, tempfile
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def atomic_write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp"); ap.add_argument("out_ipynb"); ap.add_argument("out_html")
    ap.add_argument("--cwd", required=True)
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    nb = nbformat.read(a.inp, as_version=4)
    failed_at = []
    client = NotebookClient(nb, timeout=a.timeout, kernel_name="tslab", allow_errors=False, resources={"metadata": {"path": a.cwd}},
                            on_cell_error=lambda cell, cell_index, execute_reply: failed_at.append(cell_index))
    failed = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        failed = e
    if failed is not None:
        if failed_at:
            idx, cell = failed_at[0], nb.cells[failed_at[0]]
        else:  # a timeout or a dead kernel: the first code cell that did not finish
            idx, cell = next(((i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None), (None, None))
        first = cell.source.strip().splitlines()[0] if cell is not None and cell.source.strip() else ""
        outs = cell.get("outputs", []) if cell is not None else []
        err = next((f"{o.get('ename')}: {o.get('evalue')}" for o in outs if o.get("output_type") == "error"), "")
        if not err.strip().strip(":").strip():
            # tslab reports compile errors as stderr text; nbclient's message holds the rest
            err = next((o.get("text", "") for o in outs if o.get("output_type") == "stream" and o.get("name") == "stderr"), "") or str(failed)
            lines = [l for l in err.splitlines() if l.strip() and not set(l.strip()) <= set("-")]
            # a thrown error ("TypeError: …"), else a compile error ("1:30 - Cannot find …")
            err = next((l for l in lines if re.match(r"^\w*(Error|Exception)\b.*:", l)),
                       next((l for l in lines if re.match(r"^\d+:\d+ - ", l)), lines[-1] if lines else type(failed).__name__))
        where = f"cell {idx} ({first!r})" if idx is not None else "a cell"
        print(f"report: {where} failed: {err.strip()}", file=sys.stderr)
        sys.exit(1)
    atomic_write(a.out_ipynb, nbformat.writes(nb))
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    atomic_write(a.out_html, html)


if __name__ == "__main__":
    main()
