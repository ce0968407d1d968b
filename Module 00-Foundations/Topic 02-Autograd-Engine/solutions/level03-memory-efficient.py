"""
Level 3: Memory-Efficient Implementation
- Priority: the least memory for the same gradients as level 2
- Constraints: NumPy only; same interface and results as levels 1, 2 and 4
- Target: lower peak memory than level 2 on deep graphs, same speed

What it saves, and how (measured on a 2-core CPU with tracemalloc, see README.md "Solution levels"):
1. No reference cycles. Level 2's closures capture their own output (`out._backward` reads `out.grad`),
   so every graph is a cycle that only Python's cyclic garbage collector frees, whenever it runs.
   Here a backward function receives the output gradient as an argument and captures arrays only, so
   reference counting frees a graph the moment the last tensor of it is dropped.
2. Gradients of intermediate results live only during backward() and are freed as soon as they have
   been pushed to the inputs (level 2 keeps one on every node, as large again as the activations).
3. The graph is released while backward() runs, unless retain_graph=True: once a node has pushed its
   gradient, its backward function (and the activations it captured) are dropped, as PyTorch does.
4. Gradients accumulate in place (np.add(g, contribution, out=g)) into buffers this pass owns; views
   such as np.broadcast_to (sum), reshape and transpose gradients are passed on without a copy.
5. __slots__ on Value and Tensor (no per-object __dict__) and no closure on leaves: a leaf Value takes
   96 bytes here, 288 bytes in level 2.
6. dtypes are kept: float32 data gives float32 activations and gradients, half the memory of float64.
Measured on a 2-core CPU (tracemalloc peak; reproduce with the snippet in README.md):
- a 30-layer MLP-like graph, h = tanh(h @ W + b), batch 256, width 64, float64, forward + backward:
  12.0 MB here vs 24.7 MB for level 2 (0.49x); 6.0 MB with float32 data;
- five such training steps in a row with the cyclic garbage collector paused (as between two of its
  runs): 1.0 MB still allocated afterwards here, 80 MB of dead graphs for level 2;
- a 10,000-step scalar chain y = tanh(0.999 y + x) (50,000 Value nodes): 16.1 MB vs 22.1 MB (0.73x).

Conventions shared by all four levels: leaves accumulate .grad (backward twice doubles it, zero_grad()
resets); backward() on a non-scalar output needs grad= of its shape. Here intermediate tensors never
keep a .grad, and a second backward() through a released graph raises RuntimeError (pass
retain_graph=True to the first call to keep the graph, as in PyTorch).
"""

import math
import numbers

import numpy as np


# ---------------------------------------------------------------------------------------------
# Part A: scalar autograd (pure Python, __slots__, no reference cycles)
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
    """One scalar in a computation graph. `_backward(g)` returns d(out)/d(child) * g for each child."""

    __slots__ = ("data", "grad", "_prev", "_op", "_backward")

    def __init__(self, data, _children=(), _op="", _backward=None):
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = _backward     # None for a leaf

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        if isinstance(other, Value):
            return other
        if isinstance(other, numbers.Real):
            return Value(other)
        return None

    def __add__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        return Value(self.data + other.data, (self, other), "+", lambda g: (g, g))

    def __mul__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data     # capture floats, never the output Value: no cycle
        return Value(a * b, (self, other), "*", lambda g: (b * g, a * g))

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** p supports only a number p (int or float), not a Value")
        x = self.data
        slope = exponent * _pow(x, exponent - 1) if exponent != 0 else 0.0   # x^0 = 1 is flat, even at 0
        return Value(_pow(x, exponent), (self,), f"**{exponent:g}", lambda g: (slope * g,))

    def exp(self):
        y = _exp(self.data)
        return Value(y, (self,), "exp", lambda g: (y * g,))

    def log(self):
        x = self.data
        return Value(_log(x), (self,), "log", lambda g: (_div(g, x),))

    def tanh(self):
        y = math.tanh(self.data)
        return Value(y, (self,), "tanh", lambda g: ((1.0 - y * y) * g,))   # the OUTPUT squared

    def relu(self):
        slope = 1.0 if self.data > 0 else 0.0
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu", lambda g: (slope * g,))

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
        """Fill .grad of every Value this one depends on (leaves accumulate, intermediates are recomputed)."""
        order = _topological_order(self, lambda v: v._prev)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            if node._backward is not None:
                for child, g in zip(node._prev, node._backward(node.grad)):
                    child.grad += g


def _topological_order(root, parents_of):
    """Every node reachable from root, each after the nodes it was computed from (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in parents_of(node):
            if parent not in visited:
                stack.append((parent, False))
    return order


# ---------------------------------------------------------------------------------------------
# Parts B and C: tensor autograd
# ---------------------------------------------------------------------------------------------

def unbroadcast(grad, shape):
    """Sum `grad` down to `shape` (the operand's shape before broadcasting), in one reduction.

    grad: (*out_shape) ndarray;  shape: broadcastable to out_shape.  Returns an ndarray of `shape`
    (grad itself, without a copy, when nothing was broadcast).
    """
    grad = np.asarray(grad)
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    try:
        fits = np.broadcast_shapes(shape, grad.shape) == grad.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad.shape} to shape {shape}: "
                         "that shape does not broadcast to the gradient's shape")
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes).reshape(shape)   # one pass over grad, one small result


class Tensor:
    """An ndarray that remembers how it was computed. `_backward(g)` returns one gradient per parent."""

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_released")
    __array_ufunc__ = None   # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, _parents=(), _op="", _backward=None):
        if isinstance(data, Tensor):
            data = data.data
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = tuple(_parents)
        self._backward = _backward     # None for a leaf
        self._op = _op
        self._released = False         # True once backward() has dropped this node's graph

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
        return self.data

    def detach(self):
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def _lift(self, other):
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    @staticmethod
    def _result(data, parents, backward, op):
        """Output of an operation; without an input that requires grad there is no graph to keep."""
        if any(p.requires_grad for p in parents):
            return Tensor(data, True, parents, op, backward)
        return Tensor(data)

    # --- elementwise operations ----------------------------------------------------------------
    def __add__(self, other):
        other = self._lift(other)
        sa, sb = self.shape, other.shape
        return self._result(self.data + other.data, (self, other),
                            lambda g: (unbroadcast(g, sa), unbroadcast(g, sb)), "+")

    def __sub__(self, other):
        other = self._lift(other)
        sa, sb = self.shape, other.shape
        return self._result(self.data - other.data, (self, other),
                            lambda g: (unbroadcast(g, sa), unbroadcast(np.negative(g), sb)), "-")

    def __mul__(self, other):
        other = self._lift(other)
        a, b = self.data, other.data
        need_a, need_b = self.requires_grad, other.requires_grad

        def backward(g):
            return (unbroadcast(g * b, a.shape) if need_a else None,
                    unbroadcast(g * a, b.shape) if need_b else None)
        return self._result(a * b, (self, other), backward, "*")

    def __truediv__(self, other):
        other = self._lift(other)
        a, b = self.data, other.data
        y = a / b
        need_a, need_b = self.requires_grad, other.requires_grad

        def backward(g):
            g_over_b = g / b                               # d(a/b)/da = 1/b
            gb = None
            if need_b:                                     # d(a/b)/db = -a/b^2 = -(g/b) * (a/b)
                gb = np.asarray(np.multiply(g_over_b, y))     # asarray: 0-d results come back as scalars
                np.negative(gb, out=gb)
                gb = unbroadcast(gb, b.shape)
            return (unbroadcast(g_over_b, a.shape) if need_a else None, gb)
        return self._result(y, (self, other), backward, "/")

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            raise TypeError("Tensor ** p supports only a number p, not a Tensor or an array")
        x = self.data

        def backward(g):
            if exponent == 0:                              # x^0 = 1 is flat (0 * 0^-1 would be NaN at 0)
                return (np.zeros(np.shape(x), dtype=np.result_type(x, g)),)
            local = np.asarray(x ** (exponent - 1))        # one buffer, reused for the whole product
            np.multiply(local, exponent, out=local)
            np.multiply(local, g, out=local)
            return (local,)
        return self._result(x ** exponent, (self,), backward, f"**{exponent:g}")

    def __neg__(self):
        return self._result(-self.data, (self,), lambda g: (np.negative(g),), "neg")

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def exp(self):
        y = np.exp(self.data)
        return self._result(y, (self,), lambda g: (g * y,), "exp")

    def log(self):
        x = self.data
        return self._result(np.log(x), (self,), lambda g: (g / x,), "log")

    def tanh(self):
        y = np.tanh(self.data)

        def backward(g):
            local = np.asarray(np.multiply(y, y))          # 1 - y^2 computed in one buffer
            np.subtract(1.0, local, out=local)
            np.multiply(local, g, out=local)
            return (local,)
        return self._result(y, (self,), backward, "tanh")

    def relu(self):
        y = np.maximum(self.data, 0.0)
        return self._result(y, (self,), lambda g: (np.multiply(g, y > 0),), "relu")

    # --- Part C: matrix product, shapes, reductions --------------------------------------------
    def __matmul__(self, other):
        other = self._lift(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError("matmul needs operands with at least 1 dimension (use * for scalars)")
        if self.ndim == 1 and other.ndim == 1:   # (n,) @ (n,): a dot product, shape ()
            return (self.reshape(1, -1) @ other.reshape(-1, 1)).reshape(())
        if self.ndim == 1:
            out = self.reshape(1, -1) @ other
            return out.reshape(*out.shape[:-2], out.shape[-1])
        if other.ndim == 1:
            return (self @ other.reshape(-1, 1)).reshape(*self.shape[:-1])
        a, b = self.data, other.data
        need_a, need_b = self.requires_grad, other.requires_grad

        def backward(g):   # C = A B  =>  dA = dC B^T,  dB = A^T dC
            return (unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape) if need_a else None,
                    unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape) if need_b else None)
        return self._result(a @ b, (self, other), backward, "@")

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        old = self.shape
        return self._result(self.data.reshape(shape), (self,), lambda g: (g.reshape(old),), "reshape")

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        out = self.data.transpose(axes)                    # validates the axes
        inverse = tuple(np.argsort([a % self.ndim for a in axes]))
        return self._result(out, (self,), lambda g: (g.transpose(inverse),), "transpose")

    @property
    def T(self):
        return self.transpose()

    def sum(self, axis=None, keepdims=False):
        out = self.data.sum(axis=axis, keepdims=keepdims)
        shape, axes = self.shape, _normalize_axes(axis, self.ndim)

        def backward(g):   # a read-only broadcast view: no copy of the input's size
            return (np.broadcast_to(g if keepdims else np.expand_dims(g, axes), shape),)
        return self._result(out, (self,), backward, "sum")

    def mean(self, axis=None, keepdims=False):
        axes = _normalize_axes(axis, self.ndim)
        count = math.prod(self.shape[a] for a in axes)
        out = self.data.mean(axis=axis, keepdims=keepdims)
        shape = self.shape

        def backward(g):
            g = g / count
            return (np.broadcast_to(g if keepdims else np.expand_dims(g, axes), shape),)
        return self._result(out, (self,), backward, "mean")

    # --- backward ------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into .grad of every leaf (requiring grad) this tensor depends on.

        grad: d(loss)/d(self), an array of self's shape; may be omitted only when self has one element.
        retain_graph: keep the graph for another backward(); by default it is released on the way.
        """
        if self._released:
            raise RuntimeError("this graph was released by a previous backward(); "
                               "call the first backward(retain_graph=True) to run backward twice")
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

        order = _topological_order(self, _live_parents)
        pending = {self: grad}   # gradient waiting at each node, freed as soon as it is used
        owned = set()            # nodes whose pending array was allocated here (safe to add into)
        while order:
            node = order.pop()   # reverse topological order; popping drops our reference to the node
            g = pending.pop(node, None)
            owns = node in owned
            owned.discard(node)
            if g is None:
                continue
            if node._backward is None:   # a leaf: accumulate across passes
                if node.requires_grad:
                    if node.grad is None:
                        # take over a buffer this pass allocated; copy anything borrowed
                        node.grad = g.astype(node.data.dtype, copy=False) if owns else np.array(g, dtype=node.data.dtype)
                    else:
                        np.add(node.grad, g, out=node.grad)
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                current = pending.get(parent)
                if current is None:
                    pending[parent] = pg                         # borrowed: may be shared with a sibling
                elif parent in owned:
                    np.add(current, pg, out=current)             # in place into our own buffer
                else:
                    pending[parent] = np.asarray(current + pg)   # first sum: allocate a buffer we own
                    owned.add(parent)
            del g
            if not retain_graph:         # release this node's closure and captured activations now
                node._backward = None
                node._parents = ()
                node._released = True


def _live_parents(node):
    if node._released:
        raise RuntimeError("part of this graph was released by a previous backward(); "
                           "call the first backward(retain_graph=True) to backpropagate through it again")
    return node._parents


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


if __name__ == "__main__":
    import tracemalloc

    # the usual checks: gradients by hand
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    f = a * b + c
    f.backward()
    print(f"f = {f.data}, df/da = {a.grad}, df/db = {b.grad}, df/dc = {c.grad}")
    assert (f.data, a.grad, b.grad, c.grad) == (4.0, -3.0, 2.0, 1.0)

    x = Tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)
    y = Tensor(np.array([[10.0, 20.0, 30.0, 40.0]]), requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and np.allclose(x.grad, 100.0) and np.allclose(y.grad, 6.0)

    # what this level is about: peak memory of a deep MLP-like graph, forward + backward
    def deep_mlp_peak(dtype, depth=30, batch=256, width=64):
        rng = np.random.default_rng(0)
        weights = [Tensor((rng.standard_normal((width, width)) / 8).astype(dtype), requires_grad=True)
                   for _ in range(depth)]
        biases = [Tensor(np.zeros(width, dtype=dtype), requires_grad=True) for _ in range(depth)]
        h0 = rng.standard_normal((batch, width)).astype(dtype)
        tracemalloc.start()
        h = Tensor(h0)
        for W, bias in zip(weights, biases):
            h = (h @ W + bias).tanh()
        h.mean().backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert weights[0].grad.shape == (width, width) and weights[0].grad.dtype == dtype
        return peak

    for dtype in (np.float64, np.float32):
        print(f"deep MLP-like graph (30 x tanh(h @ W + b), batch 256, width 64, {np.dtype(dtype).name}): "
              f"peak {deep_mlp_peak(dtype) / 1e6:.1f} MB during forward + backward")

    h = Tensor(np.ones(3), requires_grad=True)
    out = (h * h).sum()
    out.backward()
    try:
        out.backward()
        raise AssertionError("a second backward through a released graph must raise")
    except RuntimeError as err:
        print(f"second backward() without retain_graph: RuntimeError ({err})")
    print("level 3 self-test passed")
