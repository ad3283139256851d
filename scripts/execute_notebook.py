"""Executes notebooks headless with the tslab kernel and exports them, for scripts/report.ts.

    python execute_notebook.py JOBS.json [--timeout S]

JOBS.json is a list of {"input", "ipynb", "html", "cwd"}: each notebook runs in its own fresh kernel
started in "cwd" (the notebook's folder, so its relative imports work), with errors never allowed.
The next notebook's kernel starts while the current one runs (tslab spends seconds compiling before
its first cell; a kernel is never shared, so no notebook sees another's state).

For each notebook one JSON line goes to stdout: {"notebook", "ok", "error", "seconds", "compute"}.
A failing cell stops that notebook; like papermill, the executed notebook is still written (.ipynb
and .html) with the error in place, and the run exits 1. An error thrown later by a timer, or a
promise rejected with nobody listening, fails the notebook too (tslab itself only logs them): a
hidden first snippet records them and a hidden last one reports them.
SIGTERM/SIGINT: the kernels are shut down, nothing of the unfinished notebook is written, exit 143/130.
With REPORT_PARENT=<pid> (report.ts sets it) the same happens when that process is gone, SIGKILL
included (PR_SET_PDEATHSIG, and a thread watching getppid()), and the work folder goes too.
Output files appear atomically, mode 0666 & ~umask (0644 by default), never 0600.
"""
import argparse, asyncio, importlib, json, os, re, shutil, signal, sys, tempfile, threading, time


def watch_parent():
    """Stops this executor (SIGTERM: kernels shut down, nothing written) when report.ts is gone, even
    killed with SIGKILL: the kernel's PR_SET_PDEATHSIG where there is one, and a thread that checks."""
    parent = os.environ.get("REPORT_PARENT")
    if not parent or not parent.isdigit():
        return
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def check():
        while True:
            if os.getppid() != int(parent):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.5)
    threading.Thread(target=check, daemon=True).start()


watch_parent()  # before the slow imports: a parent killed meanwhile is seen at once
from jupyter_client.manager import AsyncKernelManager

# nbformat (through jsonschema's format checkers) and nbconvert take ~0.8 s and ~0.5 s to import:
# they are imported while the first kernel boots (tslab needs ~1.5 s), and nbconvert in a thread
# while the cells run, so a one-notebook report does not wait for them (docs/performance.md).
nbformat = NotebookClient = CellExecutionError = CellTimeoutError = DeadKernelError = None


def import_notebook_libraries():
    global nbformat, NotebookClient, CellExecutionError, CellTimeoutError, DeadKernelError
    import nbformat as nbf
    from nbclient import NotebookClient as NC
    from nbclient.exceptions import CellExecutionError as CE, CellTimeoutError as CT, DeadKernelError as DK
    nbformat, NotebookClient, CellExecutionError, CellTimeoutError, DeadKernelError = nbf, NC, CE, CT, DK
    threading.Thread(target=importlib.import_module, args=("nbconvert",), daemon=True).start()

# Hidden snippets (never saved in the notebook). tslab keeps the kernel alive on such errors and
# only prints them wherever output goes at that moment.
PROLOGUE = """{
  const g = globalThis as any;
  g.__reportLate = [];
  const note = (kind: string, e: any) => g.__reportLate.push(`${kind}: ${e && e.stack ? String(e.stack).split("\\n").slice(0, 3).join(" | ") : String(e)}`);
  process.on("uncaughtException", (e) => note("uncaught exception", e));
  process.on("unhandledRejection", (e) => note("unhandled rejection", e));
}"""
# give timers a moment to fire, then report what was recorded
EPILOGUE = """await new Promise((r) => setTimeout(r, 300));
console.log("__REPORT_LATE__" + JSON.stringify((globalThis as any).__reportLate));"""


STOPPING = False  # set by SIGINT/SIGTERM


def umask():
    m = os.umask(0)
    os.umask(m)
    return m


def atomic_write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{os.path.basename(path)}.tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_outputs(nb, job):
    from nbconvert import HTMLExporter  # imported late: it is only needed once a notebook is done
    atomic_write(job["ipynb"], nbformat.writes(nb))
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    atomic_write(job["html"], html)


def describe_failure(nb, failed_at, failure):
    """One line naming the failing cell and its error."""
    if failed_at:
        idx = failed_at[0]
    else:  # a timeout or a dead kernel: the first code cell that did not finish
        idx = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None), None)
    cell = nb.cells[idx] if idx is not None else None
    first = cell.source.strip().splitlines()[0] if cell is not None and cell.source.strip() else ""
    outs = cell.get("outputs", []) if cell is not None else []
    err = next((f"{o.get('ename')}: {o.get('evalue')}" for o in outs if o.get("output_type") == "error"), "")
    if not err.strip().strip(":").strip():
        # tslab reports compile errors and thrown errors as stderr text; nbclient's message holds the rest
        err = next((o.get("text", "") for o in outs if o.get("output_type") == "stream" and o.get("name") == "stderr"), "") or str(failure)
        lines = [l for l in err.splitlines() if l.strip() and not set(l.strip()) <= set("-")]
        # a thrown error ("TypeError: …"), else a compile error ("1:30 - Cannot find …")
        err = next((l for l in lines if re.match(r"^\w*(Error|Exception)\b.*:", l)),
                   next((l for l in lines if re.match(r"^\d+:\d+ - ", l)), lines[-1] if lines else type(failure).__name__))
    where = f"cell {idx} ({first!r})" if idx is not None else "a cell"
    return f"{where} failed: {err.strip()}"


async def start_kernel(cwd):
    km = AsyncKernelManager(kernel_name="tslab")
    await km.start_kernel(cwd=cwd)
    return km


async def hidden(client, source, timeout):
    """Runs a snippet that is not part of the notebook (nothing is stored); returns its stdout."""
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
            out.append(msg["content"]["text"])

    await client.kc.execute_interactive(source, store_history=False, output_hook=hook, timeout=timeout)
    return "".join(out)


async def run_one(job, km, timeout):
    t0 = time.monotonic()
    nb = nbformat.read(job["input"], as_version=4)
    failed_at = []
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False, resources={"metadata": {"path": job["cwd"]}},
                            on_cell_error=lambda cell, cell_index, execute_reply: failed_at.append(cell_index))
    error, compute = None, 0.0
    # not nbclient's async_setup_kernel: it replaces our SIGINT/SIGTERM handlers and drops them after
    await client.async_start_new_kernel_client()
    try:
        info = await client.async_wait_for_reply(client.kc.kernel_info())
        if info and "language_info" in info["content"]:
            nb.metadata["language_info"] = info["content"]["language_info"]
        await hidden(client, PROLOGUE, timeout)
        t1 = time.monotonic()
        try:
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            error = describe_failure(nb, failed_at, e)
        compute = time.monotonic() - t1
        if error is None:
            out = await hidden(client, EPILOGUE, timeout)
            late = json.loads(out.split("__REPORT_LATE__", 1)[1]) if "__REPORT_LATE__" in out else ["the closing check printed nothing"]
            if late:
                last = max((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), default=0)
                nb.cells[last].outputs.append(nbformat.v4.new_output(
                    "error", ename="LateError", evalue=f"raised after a cell returned: {late[0]}",
                    traceback=[f"LateError: {x}" for x in late]))
                error = f"an error was raised after a cell returned ({len(late)} in all): {late[0]}"
    finally:
        client.kc.stop_channels()
    if STOPPING:  # a signal can surface in nbclient as a dead kernel: write nothing then either
        raise asyncio.CancelledError
    write_outputs(nb, job)
    return {"notebook": job["input"], "ok": error is None, "error": error, "seconds": time.monotonic() - t0, "compute": compute}


async def run_all(jobs, timeout):
    kms = []
    try:
        nxt = await start_kernel(jobs[0]["cwd"])
        kms.append(nxt)
        import_notebook_libraries()
        for i, job in enumerate(jobs):
            km = nxt
            if i + 1 < len(jobs):  # warm the next kernel while this notebook runs
                nxt = await start_kernel(jobs[i + 1]["cwd"])
                kms.append(nxt)
            try:
                result = await run_one(job, km, timeout)
            finally:
                await km.shutdown_kernel(now=True)
                kms.remove(km)
            print(json.dumps(result), flush=True)
    finally:
        for km in kms:
            await km.shutdown_kernel(now=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jobs")
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    with open(a.jobs, encoding="utf-8") as f:
        jobs = json.load(f)
    loop = asyncio.new_event_loop()
    task = loop.create_task(run_all(jobs, a.timeout))
    got = []

    def stop(sig):
        global STOPPING
        STOPPING = True
        got.append(sig)
        task.cancel()  # run_all's finally shuts the kernels down

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()
    if got:
        # report.ts's work folder (.report-<host>-<pid>-…) holding the jobs: gone with the run, whoever stopped it
        work = os.path.dirname(os.path.abspath(a.jobs))
        if os.path.basename(work).startswith(".report-"):
            shutil.rmtree(work, ignore_errors=True)
        print(f"report: stopped by {signal.Signals(got[0]).name}; kernels shut down, nothing written for the unfinished notebook", file=sys.stderr)
        sys.exit(128 + got[0])
    # every kernel is shut down and every file written: skip the interpreter's ~0.3 s teardown of
    # the Jupyter libraries (and a daemon import thread, if one were still running)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
