#!/usr/bin/env python3
"""Compare re-run study output with a committed docs/*.json, field by field, for exact equality.

    python3 scripts/rerun_check.py COMMITTED.json RERUN.json

The pair's shape picks the match: a summary (sweep --summary / --frontier: rows matched on defense,
sparsity, attack, variant and settings), the federated study's export (records matched on key), a
study:anchor JSON (rows matched on defense, with their runs) or cifar_attack's attack.json against
cifar-first-look.json (matched on image and seed). Only the re-run's rows/records are compared (a
re-run is a few of them). Timings, versions, time stamps, writer and output paths are not compared;
a field on one side only is listed, not counted as a difference (the runner's envelope adds
config, backend, schema, status; the summaries added defense and settings). Numbers must be equal
to the last digit: no tolerance. Exit 0: every compared field equal; 1: some differ or a re-run
row has no committed counterpart; 2: bad input (one line, before any comparison).
"""
import json
import sys

SKIP = {"seconds", "attackSeconds", "trainSeconds", "versions", "generatedAt", "out", "startedAt", "finishedAt", "writer"}


def flat(x, p=""):
    """The leaves of x as {path: value}, SKIP's keys left out."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if k not in SKIP:
                out.update(flat(v, f"{p}.{k}" if p else k))
        return out
    if isinstance(x, list):
        out = {} if x else {p: "[]"}
        for i, v in enumerate(x):
            out.update(flat(v, f"{p}[{i}]"))
        return out
    return {p: x}


def same(a, b):
    # 1 and 1.0 are the same number (JSON does not tell them apart); True and 1 are not
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def compare(label, old, new):
    fo, fn = flat(old), flat(new)
    diffs = [(k, fo[k], fn[k]) for k in sorted(fo.keys() & fn.keys()) if not same(fo[k], fn[k])]
    equal = len(fo.keys() & fn.keys()) - len(diffs)
    line = f"{label}: {equal} fields equal, {len(diffs)} differ"
    if fo.keys() - fn.keys():
        line += f"; only committed: {sorted(fo.keys() - fn.keys())}"
    if fn.keys() - fo.keys():
        line += f"; only re-run: {sorted(fn.keys() - fo.keys())}"
    print(line)
    for k, a, b in diffs:
        num = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
        print(f"    {k}: committed {a!r}, re-run {b!r}" + (f" (Δ {b - a:+.3e})" if num else ""))
    return len(diffs)


def row_key(r):
    return tuple(r.get(k) for k in ("defense", "sparsity", "attack", "variant", "settings") if k in r)


def pairs(old, new):
    """(label, committed item, re-run item) for each re-run item; committed None when missing."""
    if isinstance(old, list) and isinstance(new, list):  # federated export: records by key
        by = {r["key"]: r for r in old}
        return [(r["key"], by.get(r["key"]), r) for r in new]
    if isinstance(old, dict) and isinstance(new, dict) and "rows" in old and "rows" in new:
        if new["rows"] and "runs" in new["rows"][0]:  # study:anchor
            top = {k: v for k, v in old.items() if k != "rows" and k not in SKIP}
            out = [("settings", top, {k: new[k] for k in top if k in new})]
            by = {r["defense"]: r for r in old["rows"]}
            return out + [(f"row {r['defense']}", by.get(r["defense"]), r) for r in new["rows"]]
        # a summary: the re-run's rows may carry defense/settings the old summary lacks, so match on
        # the fields both have
        def find(r):
            for o in old["rows"]:
                common = [k for k in ("defense", "sparsity", "attack", "variant", "settings") if k in o and k in r]
                if all(o[k] == r[k] for k in common):
                    return o
            return None
        return [(f"row {row_key(r)}", find(r), r) for r in new["rows"]]
    if isinstance(old, dict) and "attack" in old and isinstance(new, dict) and "results" in new:  # CIFAR
        by = {(a["image"], a["seed"]): a for a in old["attack"]}
        return [(f"image {a['image']} seed {a['seed']}", by.get((a["image"], a["seed"])), a) for a in new["results"]]
    raise ValueError("cannot tell how to match these two files (a summary, federated export, anchor JSON or CIFAR attack.json?)")


def main(argv):
    usage = "usage: rerun_check.py COMMITTED.json RERUN.json"
    if argv in (["-h"], ["--help"]):
        print(usage)
        return 0
    if len(argv) != 2:
        print(f"rerun_check: error: two files expected, got {len(argv)}; {usage}", file=sys.stderr)
        return 2
    try:
        old, new = (json.load(open(p)) for p in argv)
        todo = pairs(old, new)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"rerun_check: error: {e}", file=sys.stderr)
        return 2
    differ = missing = 0
    for label, o, n in todo:
        if o is None:
            print(f"{label}: not in the committed file")
            missing += 1
        else:
            differ += compare(label, o, n) > 0
    print(f"{len(todo)} compared: {len(todo) - differ - missing} exactly equal, {differ} with differences, {missing} not in the committed file")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
