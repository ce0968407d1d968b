"""
Level 4: PyTorch Reference
- Priority: an independent answer to check the other levels against (PyTorch's own autograd)
- Constraints: the same interface as levels 1-3: numbers and NumPy arrays in, NumPy arrays out, torch inside
- Target: write the golden files: python level04-pytorch-reference.py --make-golden  (tests/golden/*.npz)

`Value` wraps a 0-d float64 torch tensor and `Tensor` wraps a torch tensor; every operation is the
torch operation and backward() is torch.autograd. What this level adds to the shared interface:
- errors: torch raises RuntimeError/IndexError for shapes that do not fit; here they become ValueError,
  as in NumPy and levels 1-3;
- intermediate Values keep their gradient (retain_grad) like micrograd, recomputed by each backward();
- Tensor.grad is None for intermediate tensors, as in PyTorch.
"""

import argparse
import numbers

import numpy as np
import torch

from dlfs.reference import write_golden


def _topological_order(root, parents_of):
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
# Part A: scalar autograd on 0-d torch tensors
# ---------------------------------------------------------------------------------------------

class Value:
    """A scalar: a 0-d float64 torch tensor that requires grad, plus the graph links for drawing."""

    def __init__(self, data, _children=(), _op=""):
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds a real number, got {type(data).__name__}")
        self._t = torch.tensor(float(data), dtype=torch.float64, requires_grad=True)
        self._prev = tuple(_children)
        self._op = _op

    @classmethod
    def _wrap(cls, t, children, op):
        out = cls.__new__(cls)
        out._t = t
        out._t.retain_grad()         # keep intermediate gradients, as micrograd does
        out._prev = tuple(children)
        out._op = op
        return out

    @property
    def data(self):
        return float(self._t.detach())

    @data.setter
    def data(self, value):
        with torch.no_grad():
            self._t.fill_(float(value))

    @property
    def grad(self):
        return 0.0 if self._t.grad is None else float(self._t.grad)

    @grad.setter
    def grad(self, value):
        self._t.grad = torch.tensor(float(value), dtype=torch.float64)

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
        return Value._wrap(self._t + other._t, (self, other), "+")

    def __mul__(self, other):
        other = self._lift(other)
        if other is None:
            return NotImplemented
        return Value._wrap(self._t * other._t, (self, other), "*")

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** p supports only a number p (int or float), not a Value")
        return Value._wrap(self._t ** exponent, (self,), f"**{exponent:g}")

    def exp(self):
        return Value._wrap(torch.exp(self._t), (self,), "exp")

    def log(self):
        return Value._wrap(torch.log(self._t), (self,), "log")

    def tanh(self):
        return Value._wrap(torch.tanh(self._t), (self,), "tanh")

    def relu(self):
        return Value._wrap(torch.relu(self._t), (self,), "relu")

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
        for node in _topological_order(self, lambda v: v._prev):
            if node._prev:
                node._t.grad = None   # intermediate gradients are recomputed by each pass
        self._t.backward(retain_graph=True)   # the Value graph is always kept, as in micrograd


# ---------------------------------------------------------------------------------------------
# Parts B and C: Tensor on torch tensors
# ---------------------------------------------------------------------------------------------

def _checked(fn, *args, **kwargs):
    """Call a torch function; a shape that does not fit raises ValueError, as in NumPy."""
    try:
        return fn(*args, **kwargs)
    except (RuntimeError, IndexError) as err:
        raise ValueError(str(err)) from None


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape` (torch's sum_to_size). grad: ndarray; returns an ndarray of `shape`."""
    grad = np.asarray(grad)
    shape = tuple(shape)
    try:
        fits = np.broadcast_shapes(shape, grad.shape) == grad.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad.shape} to shape {shape}")
    g = torch.from_numpy(np.array(grad, dtype=np.float64))
    if len(shape) < g.dim():
        g = g.sum(dim=tuple(range(g.dim() - len(shape))))
    return g.sum_to_size(shape).numpy() if shape else g.sum().numpy()


class Tensor:
    """A torch tensor behind the NumPy-facing interface of this topic."""

    __array_ufunc__ = None   # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, _parents=(), _op=""):
        if isinstance(data, Tensor):
            data = data.data
        arr = np.asarray(data)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        if not (arr.flags.c_contiguous and arr.flags.writeable):
            arr = arr.copy()
        self._t = torch.from_numpy(arr).requires_grad_(bool(requires_grad))
        self._parents = tuple(_parents)
        self._op = _op

    @classmethod
    def _wrap(cls, t, parents, op):
        out = cls.__new__(cls)
        out._t = t
        out._parents = tuple(parents)
        out._op = op
        return out

    @property
    def data(self):
        return self._t.detach().numpy()

    @property
    def grad(self):
        if not self._t.is_leaf or self._t.grad is None:
            return None
        return self._t.grad.numpy()

    @property
    def requires_grad(self):
        return self._t.requires_grad

    @property
    def shape(self):
        return tuple(self._t.shape)

    @property
    def ndim(self):
        return self._t.dim()

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, separator=', ')}{grad})"

    def numpy(self):
        return self.data

    def detach(self):
        return Tensor._wrap(self._t.detach(), (), "detach")

    def zero_grad(self):
        self._t.grad = None

    def _torch(self, other):
        if isinstance(other, Tensor):
            return other._t
        if isinstance(other, numbers.Number):
            return torch.tensor(other, dtype=self._t.dtype)
        return Tensor(other)._t

    def _binary(self, other, fn, op):
        other_t = self._torch(other)
        other = other if isinstance(other, Tensor) else Tensor._wrap(other_t, (), "const")
        return Tensor._wrap(_checked(fn, self._t, other_t), (self, other), op)

    def __add__(self, other):
        return self._binary(other, torch.add, "+")

    def __sub__(self, other):
        return self._binary(other, torch.sub, "-")

    def __mul__(self, other):
        return self._binary(other, torch.mul, "*")

    def __truediv__(self, other):
        return self._binary(other, torch.div, "/")

    def __matmul__(self, other):
        return self._binary(other, torch.matmul, "@")

    def __radd__(self, other):
        return Tensor._wrap(self._torch(other), (), "const") + self

    def __rsub__(self, other):
        return Tensor._wrap(self._torch(other), (), "const") - self

    def __rmul__(self, other):
        return Tensor._wrap(self._torch(other), (), "const") * self

    def __rtruediv__(self, other):
        return Tensor._wrap(self._torch(other), (), "const") / self

    def __rmatmul__(self, other):
        return Tensor._wrap(self._torch(other), (), "const") @ self

    def __neg__(self):
        return Tensor._wrap(-self._t, (self,), "neg")

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            raise TypeError("Tensor ** p supports only a number p, not a Tensor or an array")
        return Tensor._wrap(self._t ** exponent, (self,), f"**{exponent:g}")

    def exp(self):
        return Tensor._wrap(torch.exp(self._t), (self,), "exp")

    def log(self):
        return Tensor._wrap(torch.log(self._t), (self,), "log")

    def tanh(self):
        return Tensor._wrap(torch.tanh(self._t), (self,), "tanh")

    def relu(self):
        return Tensor._wrap(torch.relu(self._t), (self,), "relu")

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor._wrap(_checked(self._t.reshape, tuple(shape)), (self,), "reshape")

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = tuple(axes) or tuple(reversed(range(self.ndim)))
        if len(axes) != self.ndim:
            raise ValueError(f"transpose: axes {axes} do not match a tensor with {self.ndim} dimensions")
        return Tensor._wrap(_checked(self._t.permute, axes), (self,), "transpose")

    @property
    def T(self):
        return self.transpose()

    def _reduce(self, fn, axis, keepdims, op):
        if axis is None:
            out = fn(self._t)
            if keepdims:
                out = out.reshape((1,) * self.ndim)
        else:
            out = _checked(fn, self._t, dim=axis, keepdim=keepdims)
        return Tensor._wrap(out, (self,), op)

    def sum(self, axis=None, keepdims=False):
        return self._reduce(torch.sum, axis, keepdims, "sum")

    def mean(self, axis=None, keepdims=False):
        return self._reduce(torch.mean, axis, keepdims, "mean")

    def backward(self, grad=None, retain_graph=False):
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: create the leaves "
                               "with Tensor(..., requires_grad=True)")
        if grad is None:
            if self._t.numel() != 1:
                raise ValueError(f"backward() without grad needs a scalar output, this one has shape {self.shape}: "
                                 "reduce it first (e.g. .sum()) or pass grad= of the same shape")
            grad = torch.ones_like(self._t)
        else:
            grad = torch.as_tensor(np.asarray(grad), dtype=self._t.dtype)
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"grad has shape {tuple(grad.shape)}, the tensor has shape {self.shape}")
        self._t.backward(grad, retain_graph=retain_graph)


# ---------------------------------------------------------------------------------------------
# Golden files: inputs and PyTorch's answers, read back by the tests
# ---------------------------------------------------------------------------------------------

def _micrograd_expression(a, b):
    """The example of micrograd's README: every scalar operation, nodes used many times."""
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def make_golden():
    """{file name: {array name: array}} for tests/golden/ (inputs and the expected results)."""
    golden = {}

    a, b = Value(-4.0), Value(2.0)
    g = _micrograd_expression(a, b)
    g.backward()
    golden["value_expression"] = {"a": np.array(-4.0), "b": np.array(2.0), "g": np.array(g.data),
                                  "a_grad": np.array(a.grad), "b_grad": np.array(b.grad)}

    rng = np.random.default_rng(2)
    arrays = {"X": rng.standard_normal((6, 3)), "Y": rng.standard_normal((6, 2)),
              "W1": rng.standard_normal((3, 5)) * 0.5, "b1": rng.standard_normal(5) * 0.1,
              "W2": rng.standard_normal((5, 2)) * 0.5, "b2": rng.standard_normal(2) * 0.1}
    X, Y = Tensor(arrays["X"]), Tensor(arrays["Y"])
    W1, b1, W2, b2 = (Tensor(arrays[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2"))
    hidden = (X @ W1 + b1).tanh()
    loss = ((hidden @ W2 + b2 - Y) ** 2).mean()
    loss.backward()
    golden["mlp"] = dict(arrays, loss=loss.numpy().copy(), dW1=W1.grad.copy(), db1=b1.grad.copy(),
                         dW2=W2.grad.copy(), db2=b2.grad.copy())

    rng = np.random.default_rng(3)
    arrays = {"X": rng.standard_normal((4, 3)), "W": rng.standard_normal((3, 5)),
              "onehot": np.eye(5)[[0, 3, 1, 4]]}
    X, W = Tensor(arrays["X"], requires_grad=True), Tensor(arrays["W"], requires_grad=True)
    logits = X @ W
    log_probs = logits - logits.exp().sum(axis=1, keepdims=True).log()
    loss = -(log_probs * arrays["onehot"]).sum() / 4
    loss.backward()
    golden["softmax_xent"] = dict(arrays, loss=loss.numpy().copy(), dX=X.grad.copy(), dW=W.grad.copy())

    rng = np.random.default_rng(4)
    arrays = {"A": rng.standard_normal((2, 3, 4)), "B": rng.standard_normal((4, 5)),
              "c": rng.uniform(0.5, 2.0, 5)}
    A, B, c = (Tensor(arrays[k], requires_grad=True) for k in ("A", "B", "c"))
    loss = _tensor_ops_loss(A, B, c)
    loss.backward()
    golden["tensor_ops"] = dict(arrays, loss=loss.numpy().copy(), dA=A.grad.copy(), dB=B.grad.copy(),
                                dc=c.grad.copy())
    return golden


def _tensor_ops_loss(A, B, c):
    """Batched matmul with a broadcast batch, transpose, reshape, division, axis reductions, .T."""
    y = A @ B                                          # (2, 3, 4) @ (4, 5) -> (2, 3, 5)
    z = y.transpose(0, 2, 1).reshape(2, 15)
    w = (z / (1 + z ** 2)).mean(axis=1)                # (2,)
    r = (A.relu() * A.exp()).sum(axis=(0, 2))          # (3,)
    s = (B.T - c.reshape(5, 1)).tanh()                 # (5, 4)
    return (w * w).sum() + r.mean() + s.sum() * 0.1 + c.log().sum()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PyTorch reference of Topic 02; writes the golden files.")
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()

    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    f = a * b + c
    f.backward()
    print(f"f = {f.data}, df/da = {a.grad}, df/db = {b.grad}, df/dc = {c.grad}")
    assert (f.data, a.grad, b.grad, c.grad) == (4.0, -3.0, 2.0, 1.0)

    a, b = Value(-4.0), Value(2.0)
    g = _micrograd_expression(a, b)
    g.backward()
    print(f"micrograd's example: g = {g.data:.4f}, dg/da = {a.grad:.4f}, dg/db = {b.grad:.4f}")
    assert abs(g.data - 24.7041) < 1e-4 and abs(a.grad - 138.8338) < 1e-4 and abs(b.grad - 645.5773) < 1e-4

    x = Tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)
    y = Tensor(np.array([[10.0, 20.0, 30.0, 40.0]]), requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and np.allclose(x.grad, 100.0) and np.allclose(y.grad, 6.0)
    print("level 4 self-test passed")
    if args.make_golden:
        write_golden(make_golden(), __file__)
