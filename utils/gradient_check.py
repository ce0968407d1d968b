"""Analytic vs numerical gradients for every parameter of a layer or a model.

A silent bug in a backward pass still lets the loss go down, a little slower: the only reliable test is to
compare each analytic gradient with a finite-difference estimate. In float64 a correct gradient agrees to a
relative error below 1e-5 (usually 1e-8 or better); 1e-2 and above means a bug.

    from dlfs.gradient_check import check_model, check_layer

    # a model: loss_fn() reads the parameter arrays, grads holds your analytic gradients
    report = check_model(lambda: model.loss(X, y)[0], model.params, grads)

    # a layer in CS231n style: forward(x, *params) -> out, backward(dout, cache) -> (dx, *dparams)
    report = check_layer(forward, backward, x, W, b)

    python utils/gradient_check.py    # runnable example on a small linear + softmax model

This is the one module tests import gradient checks from. The finite differences themselves (and Topic 02's
op-by-op gate) live in dlfs.finite_difference_checker; `numerical_gradient` and `relative_error` are
re-exported here so that a test needs one import.
"""

from __future__ import annotations

import numpy as np

from dlfs.finite_difference_checker import numerical_gradient, numerical_jacobian_vector, relative_error

__all__ = ["GradientReport", "check_layer", "check_model", "numerical_gradient", "numerical_jacobian_vector",
           "relative_error", "TOLERANCE"]

TOLERANCE = 1e-5


class GradientReport(dict):
    """{parameter name: relative error}, with a readable table and a pass/fail verdict."""

    def __init__(self, errors: dict, tol: float = TOLERANCE):
        super().__init__(errors)
        self.tol = tol

    @property
    def passed(self) -> bool:
        return all(err < self.tol for err in self.values())

    @property
    def worst(self) -> tuple[str, float]:
        return max(self.items(), key=lambda kv: kv[1]) if self else ("", 0.0)

    def __str__(self) -> str:
        lines = [f"{'parameter':<12} {'relative error':>15}  verdict"]
        for name, err in self.items():
            verdict = "ok" if err < self.tol else ("suspicious" if err < 1e-2 else "WRONG")
            lines.append(f"{name:<12} {err:>15.2e}  {verdict}")
        return "\n".join(lines)


def check_model(loss_fn, params: dict, grads: dict, h: float = 1e-5, tol: float = TOLERANCE) -> GradientReport:
    """Compare grads[name] with the numerical gradient of loss_fn() w.r.t. params[name], for every name.

    loss_fn takes no arguments and must read the arrays in `params` (they are perturbed in place).
    """
    missing = set(params) - set(grads)
    if missing:
        raise KeyError(f"no analytic gradient for parameter(s) {sorted(missing)}")
    errors = {}
    for name, value in params.items():
        if np.asarray(value).dtype != np.float64:
            raise TypeError(f"parameter {name!r} is {np.asarray(value).dtype}: gradient checks need float64")
        numeric = numerical_gradient(lambda: loss_fn(), value, h)
        errors[name] = relative_error(grads[name], numeric)
    return GradientReport(errors, tol)


def check_layer(forward, backward, *inputs, h: float = 1e-5, tol: float = TOLERANCE, seed: int = 0) -> GradientReport:
    """Check a CS231n-style layer: forward(*inputs) -> (out, cache); backward(dout, cache) -> one gradient per input.

    A random upstream gradient `dout` is used, so every output element matters (a sum would hide
    errors that cancel). Returns the relative error for each input, named input0, input1, ...
    """
    rng = np.random.default_rng(seed)
    out, cache = forward(*inputs)
    dout = rng.standard_normal(np.shape(out))
    analytic = backward(dout, cache)
    if not isinstance(analytic, tuple):
        analytic = (analytic,)
    if len(analytic) != len(inputs):
        raise ValueError(f"backward returned {len(analytic)} gradients for {len(inputs)} inputs")
    errors = {}
    for k, x in enumerate(inputs):
        numeric = numerical_jacobian_vector(lambda _x: forward(*inputs)[0], x, dout, h)
        errors[f"input{k}"] = relative_error(analytic[k], numeric)
    return GradientReport(errors, tol)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 4)), np.array([0, 2, 1, 2, 0])
    params = {"W": rng.standard_normal((4, 3)) * 0.1, "b": np.zeros(3)}

    def loss_and_grads():
        scores = X @ params["W"] + params["b"]
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(len(y)), y]).mean()
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}

    _, grads = loss_and_grads()
    report = check_model(lambda: loss_and_grads()[0], params, grads)
    print(report)
    print("PASSED" if report.passed else "FAILED")

    wrong = {"W": grads["W"], "b": grads["b"] * len(y)}  # the classic bug: forgot to divide by the batch size
    print("\nWith db not averaged over the batch:")
    print(check_model(lambda: loss_and_grads()[0], params, wrong))
