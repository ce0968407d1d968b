"""The Topic 02 escape hatch: a working autograd engine to use while yours is not finished.

Topic 02 (Autograd Engine From Scratch) is the hardest step of Module 00. If it blocks you, do not
stop there: take this engine, go on with the next topics, and come back to Topic 02 later. It is
functional but not optimal (vectorized NumPy, no memory savings): it is Topic 02's reference
level 2, loaded from its one source of truth, not a copy.

    from dlfs.autograd_stub import Tensor, Value

    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)     # (1, 3)
    W = Tensor([[0.1], [0.2], [0.3]], requires_grad=True)  # (3, 1)
    loss = ((x @ W).tanh() ** 2).sum()
    loss.backward()
    W.grad                                                 # d(loss)/dW, shape (3, 1)

    a, b = Value(2.0), Value(-3.0)
    (a * b + a).backward()                                 # a.grad == -2.0, b.grad == 2.0

The interface (what each operation and backward() do) is described in
"Module 00-Foundations/Topic 02-Autograd-Engine/questions.md".

Coming back later: copy Topic 02's starter.py to solution.py, fill it in until
    python utils/finite_difference_checker.py --impl "Module 00-Foundations/Topic 02-Autograd-Engine/solution.py"
passes, then run the later topics on your own engine with DLFS_USE_MINE=2 (this module then gives
you your own Tensor too).
"""

from __future__ import annotations

import sys

from dlfs.components import load_topic

_engine = load_topic(2, level=2)

Value = _engine.Value
Tensor = _engine.Tensor
unbroadcast = _engine.unbroadcast

__all__ = ["Value", "Tensor", "unbroadcast"]


if __name__ == "__main__":
    from dlfs.finite_difference_checker import check_autograd, gate_passed

    print(f"utils/autograd_stub.py uses {_engine.__file__}")
    sys.exit(0 if gate_passed(check_autograd(Tensor)) else 1)
