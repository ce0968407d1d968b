"""Gradient check for your Topic 06 code: analytic vs numerical gradients, every layer and every parameter.

    python check_gradients.py                  # your solution.py (the reference while you have none)
    python check_gradients.py --impl FILE      # any file with the Topic 06 interface
    python check_gradients.py --reg 0.5        # the TwoLayerNet check with L2 regularisation

A correct backward pass agrees with finite differences to a relative error below 1e-5 in float64
(usually 1e-8 or better); 1e-2 and above is a bug. The exit status is 0 when every check passes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dlfs.components import load_module, load_topic
from dlfs.gradient_check import GradientReport, check_layer, check_model

HERE = Path(__file__).resolve().parent


def checks(bp, reg: float = 0.0, seed: int = 0) -> dict:
    """{check name: function returning a GradientReport} for the layers and every TwoLayerNet parameter."""
    rng = np.random.default_rng(seed)

    def linear():
        x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
        r = check_layer(bp.linear_forward, bp.linear_backward, x, W, b)
        return GradientReport({"dx": r["input0"], "dW": r["input1"], "db": r["input2"]})

    def relu():
        x = rng.standard_normal((4, 6))
        x[np.abs(x) < 0.1] = 0.5  # finite differences across the kink at 0 are meaningless
        return GradientReport({"dx": check_layer(bp.relu_forward, bp.relu_backward, x)["input0"]})

    def softmax_ce():
        logits, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
        _, dlogits = bp.softmax_cross_entropy(logits, y)
        return check_model(lambda: float(bp.softmax_cross_entropy(logits, y)[0]), {"dlogits": logits},
                           {"dlogits": np.asarray(dlogits)})

    def two_layer_net():
        X, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
        net = bp.TwoLayerNet(6, 10, 4, seed=seed, reg=reg)
        net.params["b1"] = rng.standard_normal(10) * 0.1  # non-zero biases, so that their gradients matter
        net.params["b2"] = rng.standard_normal(4) * 0.1
        _, grads = net.loss(X, y)
        return check_model(lambda: float(net.loss(X, y)[0]), net.params, {k: np.asarray(v) for k, v in grads.items()})

    return {"linear_backward": linear, "relu_backward": relu, "softmax_cross_entropy": softmax_ce,
            f"TwoLayerNet (reg={reg:g})": two_layer_net}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--impl", type=Path, help="file to check (default: solution.py next to this script)")
    parser.add_argument("--reg", type=float, default=0.0, help="L2 strength for the TwoLayerNet check")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    path = args.impl or HERE / "solution.py"
    if path.is_file():
        bp = load_module(path)
    else:
        print(f"{path.name} not found: checking the reference instead (copy starter.py to solution.py to start)")
        bp = load_topic(6)
    print(f"Gradient check of {Path(bp.__file__).name}\n")
    passed = True
    for name, check in checks(bp, reg=args.reg, seed=args.seed).items():
        try:
            report = check()
        except NotImplementedError as exc:
            print(f"{name}\n  not implemented yet: {exc}\n")
            passed = False
            continue
        except Exception as exc:  # a crash in the learner's code: show it and go on with the next check
            print(f"{name}\n  {type(exc).__name__}: {exc}\n")
            passed = False
            continue
        print(f"{name}\n{report}\n")
        passed &= report.passed
    print("PASSED: every analytic gradient matches its numerical estimate." if passed else
          "FAILED: see the checks above (rows marked WRONG or suspicious; hints/hint-1-shapes.md).")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
