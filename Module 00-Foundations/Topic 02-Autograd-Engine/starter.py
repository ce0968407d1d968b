"""
Topic 02: Autograd Engine From Scratch - your implementation.

Copy this file to solution.py (same folder), then fill in the tasks of questions.md in order:
    Part A  Tasks 1-4   Value: scalar autograd in pure Python (a + b * c, then tanh, exp, ...)
    Part B  Tasks 5-8   Tensor on vectors: elementwise operations, sum, mean, backward
    Part C  Tasks 9-12  Tensor on any shape: broadcasting, matmul, reshape, transpose, axis reductions

    python utils/test_runner.py --day 2                        # every test, grouped by category
    python utils/test_runner.py --day 2 -k partA               # only Part A
    python utils/finite_difference_checker.py --impl "Module 00-Foundations/Topic 02-Autograd-Engine/solution.py"

Stuck on autograd? `from dlfs.autograd_stub import Tensor` gives you a working one for the next
topics; come back here later.
"""

import math  # noqa: F401  (math.exp, math.log, math.tanh for Value)
import numbers  # noqa: F401  (isinstance(x, numbers.Real) accepts int, float and NumPy scalars)

import numpy as np  # noqa: F401  (Parts B and C; Part A must not need it)

# ---------------------------------------------------------------------------------------------
# Part A: scalar autograd
# ---------------------------------------------------------------------------------------------

class Value:
    """One scalar in a computation graph (pure Python, like micrograd).

    Attributes
        data: float            the value (an int given to the constructor becomes a float)
        grad: float            d(output)/d(self) after output.backward(); 0.0 before
        _prev: tuple[Value]    the Values this one was computed from (empty for a leaf)
        _op: str               the operation that made it ("+", "*", "tanh", ...); visualization.py draws it
        _backward: callable    adds this node's contribution to the grads of _prev (a leaf's does nothing)

    Example
        a, b, c = Value(2.0), Value(-3.0), Value(10.0)
        f = a * b + c           # f.data == 4.0
        f.backward()            # a.grad == -3.0 (= b), b.grad == 2.0 (= a), c.grad == 1.0
    """

    def __init__(self, data, _children=(), _op=""):
        """Task 1. data: a real number (int, float or NumPy scalar); anything else -> TypeError."""
        raise NotImplementedError("Task 1: Value.__init__ (see questions.md)")

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        """Task 1. self + other, other a Value or a number. Local derivatives: 1 and 1."""
        raise NotImplementedError("Task 1: Value.__add__ (see questions.md)")

    def __mul__(self, other):
        """Task 1. self * other, other a Value or a number. Local derivatives: other.data and self.data."""
        raise NotImplementedError("Task 1: Value.__mul__ (see questions.md)")

    def backward(self):
        """Task 2. Fill .grad of every Value this one depends on with d(self)/d(that Value).

        Iterative topological sort (no recursion: a 10,000-deep graph must work), seed self.grad with 1,
        run the _backward of every node from the output back to the inputs. Leaves ACCUMULATE across
        calls (calling backward() twice doubles their grad); intermediate grads are reset first.
        """
        raise NotImplementedError("Task 2: Value.backward (see questions.md)")

    def __pow__(self, exponent):
        """Task 3. self ** exponent for a NUMBER exponent (a Value exponent -> TypeError). d/dx x^p = p x^(p-1)."""
        raise NotImplementedError("Task 3: Value.__pow__ (see questions.md)")

    def __neg__(self):
        """Task 3. -self (write it with the operations you have)."""
        raise NotImplementedError("Task 3: Value.__neg__ (see questions.md)")

    def __radd__(self, other):
        """Task 3. other + self, when other is a number (Python calls this for 2 + Value)."""
        raise NotImplementedError("Task 3: Value.__radd__ (see questions.md)")

    def __sub__(self, other):
        """Task 3. self - other."""
        raise NotImplementedError("Task 3: Value.__sub__ (see questions.md)")

    def __rsub__(self, other):
        """Task 3. other - self, when other is a number."""
        raise NotImplementedError("Task 3: Value.__rsub__ (see questions.md)")

    def __rmul__(self, other):
        """Task 3. other * self, when other is a number."""
        raise NotImplementedError("Task 3: Value.__rmul__ (see questions.md)")

    def __truediv__(self, other):
        """Task 3. self / other (hint: a / b = a * b**-1)."""
        raise NotImplementedError("Task 3: Value.__truediv__ (see questions.md)")

    def __rtruediv__(self, other):
        """Task 3. other / self, when other is a number."""
        raise NotImplementedError("Task 3: Value.__rtruediv__ (see questions.md)")

    def exp(self):
        """Task 4. e^x; derivative e^x (reuse the output)."""
        raise NotImplementedError("Task 4: Value.exp (see questions.md)")

    def log(self):
        """Task 4. natural log; derivative 1/x."""
        raise NotImplementedError("Task 4: Value.log (see questions.md)")

    def tanh(self):
        """Task 4. tanh; derivative 1 - tanh(x)^2, computed from the OUTPUT t = tanh(x)."""
        raise NotImplementedError("Task 4: Value.tanh (see questions.md)")

    def relu(self):
        """Task 4. max(x, 0); derivative 1 where x > 0, else 0."""
        raise NotImplementedError("Task 4: Value.relu (see questions.md)")


# ---------------------------------------------------------------------------------------------
# Parts B and C: tensor autograd
# ---------------------------------------------------------------------------------------------

def unbroadcast(grad, shape):
    """Task 9. Sum `grad` down to `shape`: the gradient of an operand that was broadcast.

    grad:  array of the operation's output shape, e.g. (2, 3, 4)
    shape: the operand's shape, broadcastable to grad's shape, e.g. (3, 1)
    returns: an array of exactly `shape` (here: summed over axis 0 and over axis 2, keeping the 1)
    raises: ValueError if `shape` does not broadcast to grad's shape, e.g. (3, 4) -> (5,)
    """
    raise NotImplementedError("Task 9: unbroadcast (see questions.md)")


class Tensor:
    """An array that remembers how it was computed, so that backward() can find its gradients.

    Attributes
        data: ndarray          float64 by default; float32 data stays float32; integers become float64
        grad: ndarray or None  None until a backward() reaches it, then an array of data's shape
        requires_grad: bool    True for the leaves you want gradients of (and for results computed from them)
        shape: tuple           data's shape

    Example
        x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)   # (1, 3)
        W = Tensor(np.ones((3, 2)), requires_grad=True)     # (3, 2)
        (x @ W).tanh().sum().backward()
        x.grad.shape, W.grad.shape                          # (1, 3) and (3, 2)
    """

    __array_ufunc__ = None   # given: makes `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, _parents=(), _op=""):
        """Task 5. data: number, nested lists or ndarray (integers -> float64). grad starts as None."""
        raise NotImplementedError("Task 5: Tensor.__init__ (see questions.md)")

    @property
    def shape(self):
        """Task 5. The shape as a tuple, e.g. (3, 4); () for a 0-d tensor."""
        raise NotImplementedError("Task 5: Tensor.shape (see questions.md)")

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def numpy(self):
        """Task 5. The data as an ndarray."""
        raise NotImplementedError("Task 5: Tensor.numpy (see questions.md)")

    def detach(self):
        """Task 5. A new Tensor with the same data, requires_grad=False, cut from the graph."""
        raise NotImplementedError("Task 5: Tensor.detach (see questions.md)")

    def zero_grad(self):
        """Task 5. Reset the gradient (to None) before the next backward()."""
        raise NotImplementedError("Task 5: Tensor.zero_grad (see questions.md)")

    # elementwise operations: Task 6 for equal shapes and numbers, Task 9 adds broadcasting
    def __add__(self, other):
        """Task 6/9. self + other; other a Tensor, a number or an ndarray. Output: the broadcast shape."""
        raise NotImplementedError("Task 6: Tensor.__add__ (see questions.md)")

    def __sub__(self, other):
        """Task 6/9. self - other."""
        raise NotImplementedError("Task 6: Tensor.__sub__ (see questions.md)")

    def __mul__(self, other):
        """Task 6/9. self * other (elementwise)."""
        raise NotImplementedError("Task 6: Tensor.__mul__ (see questions.md)")

    def __truediv__(self, other):
        """Task 6/9. self / other (elementwise)."""
        raise NotImplementedError("Task 6: Tensor.__truediv__ (see questions.md)")

    def __radd__(self, other):
        """Task 6. other + self for a number or an ndarray other."""
        raise NotImplementedError("Task 6: Tensor.__radd__ (see questions.md)")

    def __rsub__(self, other):
        """Task 6. other - self."""
        raise NotImplementedError("Task 6: Tensor.__rsub__ (see questions.md)")

    def __rmul__(self, other):
        """Task 6. other * self."""
        raise NotImplementedError("Task 6: Tensor.__rmul__ (see questions.md)")

    def __rtruediv__(self, other):
        """Task 6. other / self."""
        raise NotImplementedError("Task 6: Tensor.__rtruediv__ (see questions.md)")

    def __neg__(self):
        """Task 6. -self."""
        raise NotImplementedError("Task 6: Tensor.__neg__ (see questions.md)")

    def __pow__(self, exponent):
        """Task 6. self ** exponent for a NUMBER exponent (a Tensor or array exponent -> TypeError)."""
        raise NotImplementedError("Task 6: Tensor.__pow__ (see questions.md)")

    def backward(self, grad=None, retain_graph=False):
        """Task 7. Fill .grad of every tensor with requires_grad=True that this one depends on.

        grad: d(loss)/d(self), an array of self's shape. Optional only when self has one element
              (then it is 1); otherwise ValueError. A grad of the wrong shape -> ValueError.
              backward() on a tensor that does not require grad -> RuntimeError.
        retain_graph: keep the graph for a second backward() (you may always keep it).
        Leaves ACCUMULATE: a second backward() adds to .grad (zero_grad() resets it).
        """
        raise NotImplementedError("Task 7: Tensor.backward (see questions.md)")

    def exp(self):
        """Task 8. Elementwise e^x."""
        raise NotImplementedError("Task 8: Tensor.exp (see questions.md)")

    def log(self):
        """Task 8. Elementwise natural log."""
        raise NotImplementedError("Task 8: Tensor.log (see questions.md)")

    def tanh(self):
        """Task 8. Elementwise tanh (derivative from the output)."""
        raise NotImplementedError("Task 8: Tensor.tanh (see questions.md)")

    def relu(self):
        """Task 8. Elementwise max(x, 0)."""
        raise NotImplementedError("Task 8: Tensor.relu (see questions.md)")

    def sum(self, axis=None, keepdims=False):
        """Task 8 (axis=None: sum of all elements, shape ()) and Task 12 (axis: int or tuple, keepdims).

        (3, 4).sum(axis=1) -> (3,);  .sum(axis=1, keepdims=True) -> (3, 1);  bad axis -> ValueError.
        """
        raise NotImplementedError("Task 8: Tensor.sum (see questions.md)")

    def mean(self, axis=None, keepdims=False):
        """Task 8 / Task 12. The sum divided by the number of elements summed."""
        raise NotImplementedError("Task 8: Tensor.mean (see questions.md)")

    def __matmul__(self, other):
        """Task 10. Matrix product like np.matmul: (m, n) @ (n, p) -> (m, p); batched (..., m, n) @ (..., n, p)
        with broadcast batch dimensions; 1-D operands as in NumPy. Shapes that do not align -> ValueError."""
        raise NotImplementedError("Task 10: Tensor.__matmul__ (see questions.md)")

    def __rmatmul__(self, other):
        """Task 10. other @ self for an ndarray other."""
        raise NotImplementedError("Task 10: Tensor.__rmatmul__ (see questions.md)")

    def reshape(self, *shape):
        """Task 11. reshape(3, 4), reshape((3, 4)) or with one -1; a size that does not fit -> ValueError."""
        raise NotImplementedError("Task 11: Tensor.reshape (see questions.md)")

    def transpose(self, *axes):
        """Task 11. Permute the axes; no axes reverses them (like NumPy). Not a permutation -> ValueError."""
        raise NotImplementedError("Task 11: Tensor.transpose (see questions.md)")

    @property
    def T(self):
        """Task 11. transpose() with no axes."""
        raise NotImplementedError("Task 11: Tensor.T (see questions.md)")
