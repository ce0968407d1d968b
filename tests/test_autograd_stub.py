"""utils/autograd_stub.py: the Topic 02 escape hatch works and is Topic 02's reference, not a copy."""

import ast
from pathlib import Path

import numpy as np

from dlfs import autograd_stub
from dlfs.components import load_topic
from dlfs.finite_difference_checker import check_autograd, gate_passed


def test_stub_passes_the_finite_difference_gate():
    results = check_autograd(autograd_stub.Tensor, verbose=False)
    assert gate_passed(results), f"the escape hatch fails the Topic 02 gate: {results}"


def test_stub_re_exports_topic_02_level_2():
    engine = load_topic(2, level=2)
    assert autograd_stub.Tensor is engine.Tensor
    assert autograd_stub.Value is engine.Value
    assert autograd_stub.unbroadcast is engine.unbroadcast


def test_stub_defines_no_engine_code_of_its_own():
    tree = ast.parse(Path(autograd_stub.__file__).read_text(encoding="utf-8"))
    defined = [node.name for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef))]
    assert not defined, f"the stub must only re-export Topic 02's reference, but it defines {defined}"


def test_stub_value_and_tensor_work_as_documented():
    a, b = autograd_stub.Value(2.0), autograd_stub.Value(-3.0)
    (a * b + a).backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)
    x = autograd_stub.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    W = autograd_stub.Tensor([[0.1], [0.2], [0.3]], requires_grad=True)
    loss = ((x @ W).tanh() ** 2).sum()
    loss.backward()
    h = np.tanh(1.4)
    assert np.allclose(W.grad, (2 * h * (1 - h ** 2)) * np.array([[1.0], [2.0], [3.0]]))
    assert W.grad.shape == (3, 1)
