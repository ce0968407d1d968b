"""
Level 2: Vectorized Implementation
- Priority: one NumPy call per operation, for whole arrays at once
- Constraints: NumPy only; the scalar `Value` stays pure Python (there is nothing to vectorize in a scalar)
- Target: pass every test quickly; this is the reference the other topics load (utils/autograd_stub.py)

A tensor autograd engine in the style of micrograd, one node per *array* instead of one per number:
each operation computes its output with NumPy and leaves a `_backward` closure that turns the output's
gradient into its inputs' gradients (the vector-Jacobian product), also with NumPy.

    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)     # (1, 3)
    W = Tensor(np.ones((3, 2)), requires_grad=True)       # (3, 2)
    loss = (x @ W).tanh().sum()
    loss.backward()
    x.grad.shape, W.grad.shape                            # (1, 3), (3, 2): a gradient has its tensor's shape

Conventions shared by all four levels (questions.md explains why):
- leaves (tensors you create) ACCUMULATE gradients: calling backward() twice doubles .grad; zero_grad() resets.
- gradients of intermediate results are recomputed by every backward pass (never accumulated across passes).
- backward() on a non-scalar output needs an explicit `grad` of the output's shape (ValueError otherwise).
- this level always keeps the graph; `retain_graph` is accepted so code written for level 3 and PyTorch runs here.
"""

import math
import numbers

import numpy as np


# ---------------------------------------------------------------------------------------------
# Part A: scalar autograd (pure Python, micrograd style)
# ---------------------------------------------------------------------------------------------

# Python's float arithmetic raises where IEEE-754 (NumPy, PyTorch) gives inf or nan: math.exp(1000)
# raises OverflowError, math.log(0) ValueError, 1.0 / 0.0 and 0.0 ** -1 ZeroDivisionError, and
# (-4.0) ** 0.5 is a complex number. These four give the IEEE answers instead, as PyTorch does.

def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:                       # e^x beyond the largest float
        return math.inf


def _log(x):
    if x > 0 or math.isnan(x):
        return math.log(x)
    return -math.inf if x == 0 else math.nan    # ln 0 = -inf, ln of a negative number = nan


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:                   # a / 0: inf with the signs of a and b, nan for 0 / 0
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(x, p):
    try:
        y = x ** p
    except (ZeroDivisionError, OverflowError):  # 0 ** (negative p), or a result beyond the largest float
        odd = float(p).is_integer() and int(p) % 2 == 1
        return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
    return math.nan if isinstance(y, complex) else y    # (negative) ** (non-integer p) = nan


class Value:
    """One scalar in a computation graph: its value, its gradient and how it was made."""

    def __init__(self, data, _children=(), _op=""):
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0                  # d(output)/d(self), filled by backward()
        self._prev = tuple(_children)    # the Values this one was computed from
        self._op = _op                   # the operation that produced it (for printing and drawing)
        self._backward = lambda: None    # pushes self.grad into the children's grads

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        """A Value for `other` (numbers become constant leaves); None when other is not a number."""
        if isinstance(other, Value):
            return other
        if isinstance(other, numbers.Real):
            return Value(other)
        return None

    def __add__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad        # d(a+b)/da = 1
            other.grad += out.grad       # d(a+b)/db = 1
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad   # d(ab)/da = b
            other.grad += self.data * out.grad   # d(ab)/db = a
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** p supports only a number p (int or float), not a Value")
        out = Value(_pow(self.data, exponent), (self,), f"**{exponent:g}")

        def _backward():
            # d(x^p)/dx = p x^(p-1); 0 for p = 0 (x^0 = 1 is flat, even at x = 0 where x^-1 is inf)
            slope = exponent * _pow(self.data, exponent - 1) if exponent != 0 else 0.0
            self.grad += slope * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(_exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad     # d(e^x)/dx = e^x, already computed
        out._backward = _backward
        return out

    def log(self):
        out = Value(_log(self.data), (self,), "log")

        def _backward():
            self.grad += _div(out.grad, self.data)   # d(ln x)/dx = 1/x
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad   # 1 - tanh(x)^2: the OUTPUT squared
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    # the rest is written with the operations above, so it needs no backward of its own
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return self ** -1 * other

    def backward(self):
        """Fill .grad of every Value this one depends on with d(self)/d(that Value)."""
        _backpropagate(self)


def _topological_order(root, parents_of):
    """Every node reachable from root, each listed after all the nodes it was computed from.

    Iterative depth-first search with an explicit stack: a 10,000-deep graph would overflow
    Python's recursion limit (1,000) in the recursive version.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)           # all its inputs are already in `order`
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in parents_of(node):
            if parent not in visited:
                stack.append((parent, False))
    return order


def _backpropagate(root):
    order = _topological_order(root, lambda v: v._prev)
    for node in order:
        if node._prev:
            node.grad = 0.0              # intermediate gradients are recomputed by each pass
    root.grad += 1.0                     # d(root)/d(root); a leaf root accumulates like any leaf
    for node in reversed(order):         # outputs before inputs: a node's grad is complete when used
        node._backward()


# ---------------------------------------------------------------------------------------------
# Parts B and C: tensor autograd with NumPy
# ---------------------------------------------------------------------------------------------

def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the gradient of an operand that NumPy broadcast to grad.shape.

    grad: (*out_shape) ndarray;  shape: the operand's shape, broadcastable to out_shape.
    Returns an ndarray of exactly `shape`.  (3,4) -> (4,): sum over axis 0;  (3,4) -> (3,1): sum over axis 1.
    """
    grad = np.asarray(grad)
    shape = tuple(shape)
    try:
        fits = np.broadcast_shapes(shape, grad.shape) == grad.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad.shape} to shape {shape}: "
                         "that shape does not broadcast to the gradient's shape")
    # 1. dimensions broadcasting added in front: sum them away
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    # 2. dimensions of size 1 that were stretched: sum them, keeping the 1
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return np.asarray(grad)


class Tensor:
    """An ndarray that remembers how it was computed, so that backward() can find its gradients."""

    __array_ufunc__ = None   # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, _parents=(), _op=""):
        if isinstance(data, Tensor):
            data = data.data
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)   # integers (and bools) become float64: gradients are real
        self.data = data
        self.grad = None                     # an ndarray of data's shape after backward()
        self.requires_grad = bool(requires_grad)
        self._parents = tuple(_parents)
        self._op = _op
        self._backward = lambda: None

    # --- small conveniences -------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, separator=', ')}{grad})"

    def numpy(self):
        """The data as an ndarray (shares memory with the tensor)."""
        return self.data

    def detach(self):
        """The same data, cut from the graph: no gradient flows through the result."""
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def _lift(self, other):
        """A Tensor for `other`; Python numbers take self's dtype so float32 stays float32."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    def _make(self, data, parents, op):
        """The output tensor of an operation; it joins the graph only if an input requires grad."""
        requires_grad = any(p.requires_grad for p in parents)
        return Tensor(data, requires_grad, parents if requires_grad else (), op)

    def _accumulate(self, grad):
        grad = np.asarray(grad)
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype)   # a copy: never alias another node's array
        else:
            self.grad = self.grad + grad

    # --- elementwise operations (Parts B and C: broadcasting handled by unbroadcast) -----------
    def __add__(self, other):
        other = self._lift(other)
        out = self._make(self.data + other.data, (self, other), "+")

        def _backward():
            if self.requires_grad:
                self._accumulate(unbroadcast(out.grad, self.shape))
            if other.requires_grad:
                other._accumulate(unbroadcast(out.grad, other.shape))
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = self._make(self.data * other.data, (self, other), "*")

        def _backward():
            if self.requires_grad:
                self._accumulate(unbroadcast(out.grad * other.data, self.shape))
            if other.requires_grad:
                other._accumulate(unbroadcast(out.grad * self.data, other.shape))
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = self._lift(other)
        out = self._make(self.data / other.data, (self, other), "/")

        def _backward():
            if self.requires_grad:
                self._accumulate(unbroadcast(out.grad / other.data, self.shape))           # d(a/b)/da = 1/b
            if other.requires_grad:
                other._accumulate(unbroadcast(-out.grad * out.data / other.data, other.shape))  # -a/b^2
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            raise TypeError("Tensor ** p supports only a number p, not a Tensor or an array")
        out = self._make(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():
            if exponent == 0:   # x^0 = 1 is flat: slope 0 everywhere (0 * 0^-1 would be NaN at x = 0)
                self._accumulate(np.zeros_like(out.grad))
            else:
                self._accumulate(out.grad * exponent * self.data ** (exponent - 1))
        out._backward = _backward
        return out

    def __neg__(self):
        out = self._make(-self.data, (self,), "neg")

        def _backward():
            self._accumulate(-out.grad)
        out._backward = _backward
        return out

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self._lift(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def exp(self):
        out = self._make(np.exp(self.data), (self,), "exp")

        def _backward():
            self._accumulate(out.grad * out.data)
        out._backward = _backward
        return out

    def log(self):
        out = self._make(np.log(self.data), (self,), "log")

        def _backward():
            self._accumulate(out.grad / self.data)
        out._backward = _backward
        return out

    def tanh(self):
        out = self._make(np.tanh(self.data), (self,), "tanh")

        def _backward():
            self._accumulate(out.grad * (1.0 - out.data ** 2))
        out._backward = _backward
        return out

    def relu(self):
        out = self._make(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():
            self._accumulate(out.grad * (self.data > 0))
        out._backward = _backward
        return out

    # --- Part C: matrix product, shapes, reductions --------------------------------------------
    def __matmul__(self, other):
        other = self._lift(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError("matmul needs operands with at least 1 dimension (use * for scalars)")
        if self.ndim == 1 and other.ndim == 1:   # (n,) @ (n,): a dot product, shape ()
            return (self.reshape(1, -1) @ other.reshape(-1, 1)).reshape(())
        if self.ndim == 1:   # (n,) @ (..., n, p): treat as a (1, n) row, then drop that axis
            out = self.reshape(1, -1) @ other
            return out.reshape(*out.shape[:-2], out.shape[-1])
        if other.ndim == 1:  # (..., m, n) @ (n,): treat as an (n, 1) column, then drop that axis
            return (self @ other.reshape(-1, 1)).reshape(*self.shape[:-1])
        out = self._make(self.data @ other.data, (self, other), "@")

        def _backward():
            # C = A B  =>  dA = dC B^T,  dB = A^T dC  (batch dims broadcast like any other op)
            if self.requires_grad:
                self._accumulate(unbroadcast(out.grad @ np.swapaxes(other.data, -1, -2), self.shape))
            if other.requires_grad:
                other._accumulate(unbroadcast(np.swapaxes(self.data, -1, -2) @ out.grad, other.shape))
        out._backward = _backward
        return out

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        out = self._make(self.data.reshape(shape), (self,), "reshape")

        def _backward():
            self._accumulate(out.grad.reshape(self.shape))
        out._backward = _backward
        return out

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        out = self._make(self.data.transpose(axes), (self,), "transpose")

        def _backward():
            self._accumulate(out.grad.transpose(np.argsort(axes)))   # the inverse permutation
        out._backward = _backward
        return out

    @property
    def T(self):
        return self.transpose()

    def sum(self, axis=None, keepdims=False):
        out = self._make(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")
        axes = _normalize_axes(axis, self.ndim)

        def _backward():
            grad = out.grad if keepdims else np.expand_dims(out.grad, axes)   # put the summed axes back as 1s
            self._accumulate(np.broadcast_to(grad, self.shape))              # every input got the same grad
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        count = math.prod(self.shape[a] for a in _normalize_axes(axis, self.ndim))
        return self.sum(axis=axis, keepdims=keepdims) / count

    # --- backward ------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Fill .grad of every tensor (requiring grad) this one depends on.

        grad: d(loss)/d(self), an array of self's shape; may be omitted only when self has one element.
        retain_graph: accepted for compatibility with level 3 and PyTorch; this level keeps the graph.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: create the leaves "
                               "with Tensor(..., requires_grad=True)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without grad needs a scalar output, this one has shape {self.shape}: "
                                 "reduce it first (e.g. .sum()) or pass grad= of the same shape")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=self.data.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"grad has shape {grad.shape}, the tensor has shape {self.shape}")
        order = _topological_order(self, lambda t: t._parents)
        for node in order:
            if node._parents:
                node.grad = None       # intermediate gradients are recomputed by each pass
        self._accumulate(grad)
        for node in reversed(order):
            if node._parents and node.grad is not None:
                node._backward()


def _normalize_axes(axis, ndim):
    """axis=None|int|tuple -> tuple of non-negative axes (the forward op has already validated them)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


if __name__ == "__main__":
    # Part A: the example of math-refresh.md, f = a*b + c
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    f = a * b + c
    f.backward()
    print(f"f = {f.data}, df/da = {a.grad}, df/db = {b.grad}, df/dc = {c.grad}")
    assert (f.data, a.grad, b.grad, c.grad) == (4.0, -3.0, 2.0, 1.0), "Value gradients are wrong"

    # Part C: a broadcast product and a matrix product
    x = Tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)   # (3, 1)
    y = Tensor(np.array([[10.0, 20.0, 30.0, 40.0]]), requires_grad=True)   # (1, 4)
    (x * y).sum().backward()
    print(f"x.grad {x.grad.shape} = {x.grad.ravel()}, y.grad {y.grad.shape} = {y.grad.ravel()}")
    assert x.grad.shape == (3, 1) and y.grad.shape == (1, 4), "broadcast gradients must be summed back"
    assert np.allclose(x.grad, 100.0) and np.allclose(y.grad, 6.0)

    W = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v = Tensor(np.ones((3, 4)), requires_grad=True)
    (W @ v).tanh().sum().backward()
    print(f"W.grad shape {W.grad.shape}, v.grad shape {v.grad.shape}")
    assert W.grad.shape == (2, 3) and v.grad.shape == (3, 4)
    print("level 2 self-test passed")
