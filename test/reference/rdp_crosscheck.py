"""Google's dp-accounting (0.6.0) on the cases of test/optim/rdp.test.ts: reads a JSON list of
{noise_multiplier, rounds, delta} from argv[1], prints a JSON list of {epsilon, order}."""
import json
import sys

import dp_accounting
from dp_accounting.rdp import rdp_privacy_accountant as rdp

out = []
for case in json.load(open(sys.argv[1])):
    acc = rdp.RdpAccountant()  # default orders, add-or-remove-one neighbours
    acc.compose(dp_accounting.GaussianDpEvent(case["noise_multiplier"]), case["rounds"])
    eps, order = acc.get_epsilon_and_optimal_order(case["delta"])
    out.append({"epsilon": float(eps), "order": float(order)})
print(json.dumps(out))
