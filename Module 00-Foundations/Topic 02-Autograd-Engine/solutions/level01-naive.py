"""
Level 1: Naive Implementation
- Priority: correctness and readability over speed
- Constraints: pure Python, standard library only (no NumPy: this file never imports it, except lazily in
  Tensor.numpy(), the one conversion for the outside world)
- Target: pass every test, slowly (70 to 120 times slower than level 2 on a small MLP)

Part A is a scalar autograd engine (`Value`, micrograd style). Parts B and C build `Tensor` as a
grid of `Value` objects stored in a flat Python list in row-major order, plus a shape:

    Tensor([[1, 2], [3, 4]])  ->  shape (2, 2), values [Value(1), Value(2), Value(3), Value(4)]

Every tensor operation is a Python loop that creates one `Value` per output number, so the scalar
engine does all of the calculus. Two things then come for free, which levels 2-4 must do by hand:
- broadcasting: an element used by several outputs is the same Value used several times, so its
  gradient contributions add up by themselves (exactly what `unbroadcast` computes in bulk);
- reshape and transpose: the output reuses the input's Value objects in a new order.

Decisions of this level (questions.md lists them too):
- `.data` and `.grad` are nested Python lists of floats (a float for a 0-d tensor): no NumPy inside.
  Tests read them through dlfs.testing.as_array; `numpy()` returns an ndarray.
- float32 input becomes Python floats (float64): pure Python has one float type.
"""

import math
import numbers

# ---------------------------------------------------------------------------------------------
# Part A: scalar autograd
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
        _backpropagate([self], [1.0])


def _topological_order(roots, parents_of):
    """Every node reachable from `roots`, each listed after all the nodes it was computed from.

    Iterative depth-first search with an explicit stack: a 10,000-deep graph would overflow
    Python's recursion limit (1,000) in the recursive version.
    """
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
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


def _backpropagate(roots, seeds):
    """Reverse-mode pass from several output Values at once; seeds[i] = d(loss)/d(roots[i])."""
    order = _topological_order(roots, lambda v: v._prev)
    for node in order:
        if node._prev:
            node.grad = 0.0              # intermediate gradients are recomputed by each pass
    for root, seed in zip(roots, seeds):
        root.grad += seed                # leaves accumulate across passes, like in PyTorch
    for node in reversed(order):         # outputs before inputs: a node's grad is complete when used
        node._backward()


# ---------------------------------------------------------------------------------------------
# Shapes and indices in pure Python (row-major, like NumPy's default)
# ---------------------------------------------------------------------------------------------

def _size(shape):
    return math.prod(shape)


def _unravel(flat_index, shape):
    """Flat position -> multi-index, e.g. 5 in shape (2, 3) -> (1, 2)."""
    index = []
    for n in reversed(shape):
        flat_index, i = divmod(flat_index, n)
        index.append(i)
    return tuple(reversed(index))


def _ravel(index, shape):
    """Multi-index -> flat position, e.g. (1, 2) in shape (2, 3) -> 5."""
    flat = 0
    for i, n in zip(index, shape):
        flat = flat * n + i
    return flat


def _broadcast_shapes(a, b):
    """NumPy's rule: align shapes on the right; each pair of sizes must be equal or contain a 1."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)
    out = []
    for m, n in zip(a, b):
        if m != n and m != 1 and n != 1:
            raise ValueError(f"shapes {a} and {b} cannot be broadcast together")
        out.append(n if m == 1 else m)
    return tuple(out)


def _source_index(out_index, in_shape):
    """Flat position in an input of `in_shape` that broadcasting maps to `out_index` of the output."""
    out_index = out_index[len(out_index) - len(in_shape):]           # leading output axes are new
    return _ravel([0 if n == 1 else i for i, n in zip(out_index, in_shape)], in_shape)


def _normalize_axes(axis, ndim):
    """axis=None|int|tuple -> sorted tuple of non-negative axes; ValueError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimension(s)")
        result.append(a % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(result))


def _flatten(data):
    """(shape, flat list of floats) of a number, nested lists, or anything with .tolist() and .shape."""
    if hasattr(data, "tolist") and hasattr(data, "shape"):   # an ndarray: read its shape, not the lists
        shape = tuple(int(n) for n in data.shape)
        nested = data.tolist()
    else:
        shape, probe = [], data
        while isinstance(probe, (list, tuple)):
            shape.append(len(probe))
            if not probe:
                break
            probe = probe[0]
        shape, nested = tuple(shape), data
    flat = []

    def walk(item, depth):
        if depth == len(shape):
            if not isinstance(item, numbers.Real):
                raise TypeError(f"tensor elements must be real numbers, got {type(item).__name__}")
            flat.append(float(item))
            return
        if not isinstance(item, (list, tuple)) or len(item) != shape[depth]:
            raise ValueError(f"ragged nested lists: expected a list of length {shape[depth]} at depth {depth}")
        for sub in item:
            walk(sub, depth + 1)

    walk(nested, 0)
    return shape, flat


def _nest(flat, shape):
    """Flat list -> nested lists of `shape` (a bare number for shape ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = _size(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# ---------------------------------------------------------------------------------------------
# Parts B and C: a tensor is a grid of Values
# ---------------------------------------------------------------------------------------------

def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the gradient of an operand that was broadcast to grad's shape.

    grad: nested lists (or an ndarray) of the output's shape;  shape: the operand's shape.
    Returns nested lists of exactly `shape`. Example: a (3, 4) gradient of ones -> shape (4,): [3, 3, 3, 3].
    """
    grad_shape, flat = _flatten(grad)
    shape = tuple(shape)
    if len(shape) > len(grad_shape) or _broadcast_shapes(shape, grad_shape) != grad_shape:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad_shape} to shape {shape}")
    summed = [0.0] * _size(shape)
    for i, g in enumerate(flat):   # every output element adds into the operand element it came from
        summed[_source_index(_unravel(i, grad_shape), shape)] += g
    return _nest(summed, shape)


class Tensor:
    """A grid of Values with a shape; every operation builds new Values with Python loops."""

    __array_ufunc__ = None   # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, _parents=(), _op=""):
        if isinstance(data, Tensor):
            data = data.data
        self.shape, flat = _flatten(data)
        self._values = [Value(x) for x in flat]   # row-major, like NumPy
        self.requires_grad = bool(requires_grad)
        self._parents = tuple(_parents)
        self._op = _op
        self._reached = False                     # has a backward pass reached this tensor?

    @classmethod
    def _from_values(cls, values, shape, parents, op):
        """The output tensor of an operation, built around already computed Values."""
        out = cls.__new__(cls)
        out.shape = tuple(shape)
        out._values = values
        out.requires_grad = any(p.requires_grad for p in parents)
        out._parents = tuple(parents) if out.requires_grad else ()
        out._op = op
        out._reached = False
        return out

    # --- data and grad as nested lists ---------------------------------------------------------
    @property
    def data(self):
        return _nest([v.data for v in self._values], self.shape)

    @data.setter
    def data(self, new):
        shape, flat = _flatten(new)
        if shape != self.shape:
            raise ValueError(f"new data has shape {shape}, the tensor has shape {self.shape}")
        for v, x in zip(self._values, flat):
            v.data = x

    @property
    def grad(self):
        if not (self.requires_grad and self._reached):
            return None
        return _nest([v.grad for v in self._values], self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data}{grad})"

    def numpy(self):
        """The data as an ndarray (NumPy is imported here only, to hand results to the outside)."""
        import numpy as np
        return np.array([v.data for v in self._values], dtype=float).reshape(self.shape)

    def detach(self):
        return Tensor._from_values([Value(v.data) for v in self._values], self.shape, (), "detach")

    def zero_grad(self):
        for v in self._values:
            v.grad = 0.0
        self._reached = False

    def _lift(self, other):
        if isinstance(other, Tensor):
            return other
        return Tensor(other)   # numbers, nested lists, ndarrays

    # --- elementwise operations ----------------------------------------------------------------
    def _elementwise(self, other, op, name):
        other = self._lift(other)
        shape = _broadcast_shapes(self.shape, other.shape)
        values = []
        for i in range(_size(shape)):
            index = _unravel(i, shape)
            a = self._values[_source_index(index, self.shape)]
            b = other._values[_source_index(index, other.shape)]
            values.append(op(a, b))      # the Value engine records the gradient of this one number
        return Tensor._from_values(values, shape, (self, other), name)

    def _map(self, op, name):
        return Tensor._from_values([op(v) for v in self._values], self.shape, (self,), name)

    def __add__(self, other):
        return self._elementwise(other, lambda a, b: a + b, "+")

    def __sub__(self, other):
        return self._elementwise(other, lambda a, b: a - b, "-")

    def __mul__(self, other):
        return self._elementwise(other, lambda a, b: a * b, "*")

    def __truediv__(self, other):
        return self._elementwise(other, lambda a, b: a / b, "/")

    def __radd__(self, other):
        return self._lift(other) + self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return self._map(lambda v: -v, "neg")

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            raise TypeError("Tensor ** p supports only a number p, not a Tensor or an array")
        return self._map(lambda v: v ** exponent, f"**{exponent:g}")

    def exp(self):
        return self._map(Value.exp, "exp")

    def log(self):
        return self._map(Value.log, "log")

    def tanh(self):
        return self._map(Value.tanh, "tanh")

    def relu(self):
        return self._map(Value.relu, "relu")

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
        m, n = self.shape[-2:]
        n2, p = other.shape[-2:]
        if n != n2:
            raise ValueError(f"matmul: shapes {self.shape} and {other.shape} do not align ({n} != {n2})")
        batch = _broadcast_shapes(self.shape[:-2], other.shape[:-2])
        values = []
        for flat_batch in range(_size(batch)):
            batch_index = _unravel(flat_batch, batch)
            a0 = _source_index(batch_index, self.shape[:-2]) * m * n    # where this batch's matrix starts
            b0 = _source_index(batch_index, other.shape[:-2]) * n * p
            for i in range(m):
                for k in range(p):
                    total = Value(0.0)
                    for j in range(n):
                        total = total + self._values[a0 + i * n + j] * other._values[b0 + j * p + k]
                    values.append(total)
        return Tensor._from_values(values, batch + (m, p), (self, other), "@")

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(n) for n in shape)
        if shape.count(-1) > 1:
            raise ValueError("reshape: only one dimension can be -1")
        if -1 in shape:
            known = _size([n for n in shape if n != -1])
            if known == 0 or len(self._values) % known:
                raise ValueError(f"cannot reshape a tensor of shape {self.shape} into {shape}")
            shape = tuple(len(self._values) // known if n == -1 else n for n in shape)
        if _size(shape) != len(self._values) or any(n < 0 for n in shape):
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} into {shape}")
        # same Values, new shape: the gradient needs no code at all
        return Tensor._from_values(list(self._values), shape, (self,), "reshape")

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = tuple(axes) or tuple(reversed(range(self.ndim)))
        if sorted(a % self.ndim if -self.ndim <= a < self.ndim else -1 for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {self.ndim} dimensions")
        axes = tuple(a % self.ndim for a in axes)
        new_shape = tuple(self.shape[a] for a in axes)
        values = []
        for i in range(_size(new_shape)):
            out_index = _unravel(i, new_shape)
            in_index = [0] * self.ndim
            for k, a in enumerate(axes):
                in_index[a] = out_index[k]    # output axis k is input axis axes[k]
            values.append(self._values[_ravel(in_index, self.shape)])
        return Tensor._from_values(values, new_shape, (self,), "transpose")

    @property
    def T(self):
        return self.transpose()

    def sum(self, axis=None, keepdims=False):
        axes = _normalize_axes(axis, self.ndim)
        kept_shape = tuple(1 if d in axes else n for d, n in enumerate(self.shape))
        groups = [[] for _ in range(_size(kept_shape))]
        for i, v in enumerate(self._values):   # send each element to the output position it sums into
            index = _unravel(i, self.shape)
            groups[_ravel([0 if d in axes else k for d, k in enumerate(index)], kept_shape)].append(v)
        values = []
        for group in groups:
            total = Value(0.0)
            for v in group:
                total = total + v
            values.append(total)
        shape = kept_shape if keepdims else tuple(n for d, n in enumerate(self.shape) if d not in axes)
        return Tensor._from_values(values, shape, (self,), "sum")

    def mean(self, axis=None, keepdims=False):
        count = _size([self.shape[a] for a in _normalize_axes(axis, self.ndim)])
        return self.sum(axis=axis, keepdims=keepdims) / count

    # --- backward ------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Fill .grad of every tensor (requiring grad) this one depends on.

        grad: d(loss)/d(self) with self's shape (nested lists or an ndarray); may be omitted only
        when self has one element. retain_graph: accepted for compatibility; the graph is always kept.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: create the leaves "
                               "with Tensor(..., requires_grad=True)")
        if grad is None:
            if len(self._values) != 1:
                raise ValueError(f"backward() without grad needs a scalar output, this one has shape {self.shape}: "
                                 "reduce it first (e.g. .sum()) or pass grad= of the same shape")
            seeds = [1.0]
        else:
            grad_shape, seeds = _flatten(grad)
            if grad_shape != self.shape:
                raise ValueError(f"grad has shape {grad_shape}, the tensor has shape {self.shape}")
        for tensor in _topological_order([self], lambda t: t._parents):
            tensor._reached = True             # these tensors now have a .grad to show
        _backpropagate(self._values, seeds)     # the scalar engine does the rest


if __name__ == "__main__":
    # Part A: the example of math-refresh.md, f = a*b + c
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    f = a * b + c
    f.backward()
    print(f"f = {f.data}, df/da = {a.grad}, df/db = {b.grad}, df/dc = {c.grad}")
    assert (f.data, a.grad, b.grad, c.grad) == (4.0, -3.0, 2.0, 1.0), "Value gradients are wrong"

    # Part C: a broadcast product: each x[i] meets 4 y's, each y[j] meets 3 x's
    x = Tensor([[1.0], [2.0], [3.0]], requires_grad=True)     # (3, 1)
    y = Tensor([[10.0, 20.0, 30.0, 40.0]], requires_grad=True)  # (1, 4)
    (x * y).sum().backward()
    print(f"x.grad = {x.grad}, y.grad = {y.grad}")
    assert x.grad == [[100.0], [100.0], [100.0]] and y.grad == [[6.0, 6.0, 6.0, 6.0]]

    W = Tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], requires_grad=True)   # (2, 3)
    v = Tensor([[1.0] * 4] * 3, requires_grad=True)                      # (3, 4)
    (W @ v).sum().backward()
    print(f"W.grad = {W.grad}")
    assert W.grad == [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]], "d(sum W@v)/dW[i,j] = sum_k v[j,k] = 4"
    print("level 1 self-test passed")
