"""PyTorch's twin of scripts/bench_fedavg.ts: one FedAvg attack iteration on the DLG paper's LeNet
(three 5x5 convs, 12 channels, sigmoid, strides 2, 2, 1, padding 2; Linear 588 -> 10), cosine + TV
objective and its gradient w.r.t. the dummy image through E unrolled SGD steps (create_graph=True),
E = 1, 5, 10; n = b = 1, lr 0.1; median of --repeats after a warm-up. CPU, torch's default threads
unless --threads.
  .venv/bin/python scripts/bench_fedavg.py [--repeats 10] [--threads 1]
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--repeats", type=int, default=10)
p.add_argument("--threads", type=int, default=0)
p.add_argument("--steps", default="1,5,10")
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
g = torch.Generator().manual_seed(1)
U = lambda *s: torch.rand(*s, generator=g) - 0.5
params = [t.requires_grad_() for t in (U(12, 1, 5, 5), U(12), U(12, 12, 5, 5), U(12), U(12, 12, 5, 5), U(12), U(10, 588), U(10))]

def forward(ps, x):
    h = x.view(-1, 1, 28, 28)
    for i, s in enumerate((2, 2, 1)):
        h = torch.sigmoid(F.conv2d(h, ps[2 * i], ps[2 * i + 1], stride=s, padding=2))
    return F.linear(h.flatten(1), ps[6], ps[7])

def unrolled(x, y, E, lr=0.1):
    w = params
    for _ in range(E):
        loss = F.cross_entropy(forward(w, x), y)
        gr = torch.autograd.grad(loss, w, create_graph=True)
        w = [wi - lr * gi for wi, gi in zip(w, gr)]
    return [p0 - wi for p0, wi in zip(params, w)]

def tv(x):
    i = x.view(-1, 28, 28)
    return (i[:, 1:, :] - i[:, :-1, :]).abs().mean() + (i[:, :, 1:] - i[:, :, :-1]).abs().mean()

x = torch.rand(1, 784, generator=g) * 2 - 1
y = torch.tensor([3])
for E in map(int, a.steps.split(",")):
    upload = [d.detach() for d in unrolled(x, y, E)]
    z = (torch.rand(1, 784, generator=g) * 2 - 1).requires_grad_()
    def once():
        d = unrolled(z, y, E)
        obj = sum(1 - (di * ui).sum() / (di.norm() * ui.norm() + 1e-12) for di, ui in zip(d, upload)) + 1e-4 * tv(z)
        (gz,) = torch.autograd.grad(obj, z)
        return obj.item()
    once()
    ts = []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); once(); ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    print(f"fedavg attack iteration, LeNet, E = {E} unrolled steps, n = b = 1 (PyTorch {torch.__version__}, {torch.get_num_threads()} threads): median {statistics.median(ts):.1f} ms (min {ts[0]:.1f}, max {ts[-1]:.1f}, {a.repeats} repeats)")
