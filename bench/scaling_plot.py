"""The scaling figure of docs/performance.md from `npm run scaling`'s JSON:
    .venv/bin/python bench/scaling_plot.py docs/scaling.json docs/scaling.png"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src))
fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.4))
for name, marker in (("linear", "o"), ("lenet", "s")):
    pts = d["perIteration"][name]
    a.plot([p["batch"] for p in pts], [p["ms"] for p in pts], marker=marker, label=f"{name} (DLG, plain GD)")
a.set_xscale("log", base=2); a.set_yscale("log")
batches = [p["batch"] for p in d["perIteration"]["linear"]]
a.set_xticks(batches, [str(x) for x in batches])
a.set_xlabel("attacked batch size B (images)"); a.set_ylabel("time per DLG iteration (ms)")
a.set_title("Attack time vs batch size"); a.legend(); a.grid(True, which="both", alpha=0.3)
seq = d["sequential"]
b.plot([p["images"] for p in seq], [p["s"] for p in seq], marker="o", label="linear, 2000 iterations each")
b.set_xticks([p["images"] for p in seq])
b.set_xlabel("victim images attacked one after another"); b.set_ylabel("total attack time (s)")
b.set_title("Attack time vs image count"); b.legend(); b.grid(True, alpha=0.3)
fed = d.get("federated", {})
styles = {"linear": "-", "lenet": "--"}
for name, run in fed.items():
    for rounds in sorted({p["rounds"] for p in run["points"]}):
        pts = [p for p in run["points"] if p["rounds"] == rounds]
        c.plot([p["clients"] for p in pts], [p["s"] for p in pts], styles.get(name, ":"), marker="o",
               label=f"{name}, {rounds} rounds ({run['backend']})")
if fed:
    ks = sorted({p["clients"] for run in fed.values() for p in run["points"]})
    c.set_xscale("log"); c.set_yscale("log")
    c.set_xticks(ks, [str(k) for k in ks])
c.set_xlabel("clients per round K (each one batch-64 step, DGC 0.8)"); c.set_ylabel("whole training run (s)")
c.set_title("Federated training time vs clients × rounds"); c.legend(fontsize=8); c.grid(True, which="both", alpha=0.3)
fig.suptitle(f"attacks: {d['backend']} backend; median of {d['repeats']}, {d['date'][:10]}, load average {d['loadavg'][0]:.0f} (shared 2-core machine)", fontsize=9)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
