"""torch.optim.LBFGS on small float64 problems, for test/attack/lbfgs.test.ts: the same problem, start and
options as ours; prints the iterate and the loss after every .step(closure), and torch's func_evals.
Problems: "rosenbrock" (sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2) and "quadratic"
(0.5 x^T A x - b^T x, A and b given)."""
import json
import sys

import torch

spec = json.load(open(sys.argv[1]))
x = torch.tensor(spec["x0"], dtype=torch.float64, requires_grad=True)
o = spec["options"]
opt = torch.optim.LBFGS(
    [x], lr=o["lr"], max_iter=o["maxIter"], max_eval=o["maxEval"], tolerance_grad=o["toleranceGrad"],
    tolerance_change=o["toleranceChange"], history_size=o["historySize"],
    line_search_fn=None if o["lineSearch"] == "none" else o["lineSearch"],
)
if spec["problem"] == "quadratic":
    A = torch.tensor(spec["A"], dtype=torch.float64)
    b = torch.tensor(spec["b"], dtype=torch.float64)
    f = lambda v: 0.5 * v @ A @ v - b @ v
else:
    f = lambda v: (100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2).sum()


def closure():
    opt.zero_grad()
    loss = f(x)
    loss.backward()
    return loss


iterates, losses = [], []
for _ in range(spec["steps"]):
    losses.append(float(opt.step(closure)))
    iterates.append(x.detach().tolist())
print(json.dumps({"iterates": iterates, "losses": losses, "funcEvals": opt.state[x]["func_evals"]}))
