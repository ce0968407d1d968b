"""Numerical gradients by central finite differences, and the validation gate of Topic 02.

The derivative of f at x is approximated by the symmetric difference quotient

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2h)

whose error shrinks like h^2. In float64 with h = 1e-5 that is about 1e-10 for smooth functions, far
below the 1e-5 relative error a correct analytic gradient must reach.

Use it two ways:
    numerical_gradient(f, x)                     # gradient of a scalar function of one array
    python utils/finite_difference_checker.py --impl "Module 00-Foundations/Topic 02-Autograd-Engine/solution.py"
        # the Topic 02 gate: checks your autograd Tensor op by op against finite differences
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of the scalar function f at x (x is perturbed in place and restored).

    f: callable taking no arguments (it reads x) or one argument (x), returning a float.
    """
    if not np.issubdtype(np.asarray(x).dtype, np.floating):
        raise TypeError("numerical_gradient needs a floating-point array (use float64)")
    call = (lambda: f(x)) if _takes_argument(f) else f
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        original = x[i].copy()
        x[i] = original + h
        f_plus = float(call())
        x[i] = original - h
        f_minus = float(call())
        x[i] = original  # restore before the next coordinate
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_jacobian_vector(f, x: np.ndarray, upstream: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of sum(f(x) * upstream) w.r.t. x: what a layer's backward must return for `upstream`."""
    return numerical_gradient(lambda: float(np.sum(np.asarray(f(x)) * upstream)), x, h)


def relative_error(analytic, numerical, floor: float = 1e-8) -> float:
    """max |a - n| / max(|a| + |n|, floor), elementwise, the usual gradient-check measure."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradient shape {a.shape} does not match the numerical gradient's shape {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)))


def _takes_argument(f) -> bool:
    import inspect

    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


# ---------------------------------------------------------------------------------------------
# The Topic 02 gate: an autograd Tensor class is checked op by op.
# Each case builds a scalar loss from float64 leaf tensors; the loss's gradient w.r.t. every leaf
# (from .backward()) is compared with finite differences of the same expression on plain arrays.
# ---------------------------------------------------------------------------------------------

def _gate_cases():
    rng = np.random.default_rng(0)
    pos = lambda *s: rng.uniform(0.5, 2.0, s)  # noqa: E731  strictly positive, for log and division
    r = lambda *s: rng.standard_normal(s)      # noqa: E731
    return [
        ("add", [r(3, 4), r(3, 4)], lambda a, b: (a + b).sum()),
        ("sub", [r(3, 4), r(3, 4)], lambda a, b: ((a - b) * (a - b)).sum()),
        ("mul", [r(3, 4), r(3, 4)], lambda a, b: (a * b).sum()),
        ("div", [r(3, 4), pos(3, 4)], lambda a, b: (a / b).sum()),
        ("pow", [pos(3, 4)], lambda a: (a ** 3).sum()),
        ("neg", [r(5)], lambda a: (-a * a).sum()),
        ("matmul", [r(3, 4), r(4, 2)], lambda a, b: (a @ b).sum()),
        ("matmul batched", [r(2, 3, 4), r(2, 4, 5)], lambda a, b: ((a @ b) * (a @ b)).sum()),
        ("broadcast add (3,4)+(4,)", [r(3, 4), r(4)], lambda a, b: ((a + b) * (a + b)).sum()),
        ("broadcast mul (3,1)*(1,4)", [r(3, 1), r(1, 4)], lambda a, b: ((a * b) ** 2).sum()),
        ("sum axis keepdims", [r(3, 4)], lambda a: (a.sum(axis=1, keepdims=True) * a).sum()),
        ("mean", [r(3, 4)], lambda a: (a.mean(axis=0) ** 2).sum()),
        ("reshape", [r(2, 6)], lambda a: (a.reshape(3, 4) @ a.reshape(4, 3)).sum()),
        ("transpose", [r(3, 4)], lambda a: (a.transpose() @ a).sum()),
        ("exp", [r(3, 4)], lambda a: a.exp().sum()),
        ("log", [pos(3, 4)], lambda a: (a.log() * a).sum()),
        ("tanh", [r(3, 4)], lambda a: (a.tanh() ** 2).sum()),
        ("relu", [r(3, 4) + 0.05], lambda a: (a.relu() * a).sum()),
        ("reused node", [r(3)], lambda a: (a * a * a + a).sum()),
    ]


class TensorLikeArray(np.ndarray):
    """ndarray with the Tensor method names, so one expression serves both the autograd and the numbers.

    `arr.view(TensorLikeArray)` gives `.exp() .log() .tanh() .relu()` to a plain array.
    """

    def relu(self):
        return np.maximum(self, 0).view(TensorLikeArray)

    def exp(self):
        return np.exp(self).view(TensorLikeArray)

    def log(self):
        return np.log(self).view(TensorLikeArray)

    def tanh(self):
        return np.tanh(self).view(TensorLikeArray)

    def transpose(self, *axes):
        return np.ndarray.transpose(self, *axes)


def check_autograd(tensor_cls, cases=None, tol: float = 1e-5, verbose: bool = True) -> dict:
    """Run the gate on `tensor_cls` (a class like Topic 02's Tensor). Returns {case: relative error or error text}."""
    results = {}
    for name, arrays, expr in cases or _gate_cases():
        try:
            leaves = [tensor_cls(a.copy(), requires_grad=True) for a in arrays]
            loss = expr(*leaves)
            loss.backward()
            worst = 0.0
            for leaf, a in zip(leaves, arrays):
                arr = a.copy()
                others = [x.copy().view(TensorLikeArray) for x in arrays]
                idx = [i for i, x in enumerate(arrays) if x is a][0]

                def f(v, idx=idx, others=others):
                    others[idx] = v.view(TensorLikeArray)
                    return float(expr(*others))

                num = numerical_gradient(f, arr)
                if leaf.grad is None:
                    raise AssertionError("grad is None after backward(): the leaf was not reached")
                worst = max(worst, relative_error(np.asarray(leaf.grad), num))
            results[name] = worst
        except Exception as exc:  # a learner's bug: report it, carry on with the next op
            results[name] = f"{type(exc).__name__}: {exc}"
        if verbose:
            value = results[name]
            ok = isinstance(value, float) and value < tol
            shown = f"rel. error {value:.1e}" if isinstance(value, float) else value
            print(f"  {'PASS' if ok else 'FAIL'}  {name:<28} {shown}")
    return results


def gate_passed(results: dict, tol: float = 1e-5) -> bool:
    return all(isinstance(v, float) and v < tol for v in results.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an autograd Tensor against finite differences (Topic 02 gate).")
    parser.add_argument("--impl", help="file defining class Tensor (default: Topic 02 reference level 2)")
    parser.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args(argv)
    from dlfs.components import load_module, load_topic

    module = load_module(args.impl) if args.impl else load_topic(2)
    print(f"Checking {getattr(module, '__file__', module)} against finite differences:")
    results = check_autograd(module.Tensor, tol=args.tol)
    passed = sum(isinstance(v, float) and v < args.tol for v in results.values())
    print(f"{passed}/{len(results)} operations agree within {args.tol:g}.")
    if gate_passed(results, args.tol):
        print("Gate passed: your autograd is ready for the rest of the curriculum.")
        return 0
    print("Gate not passed yet: fix the failing operations (see Topic 02 hints), or use utils/autograd_stub.py meanwhile.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
