"""matmul pairs row i of a with ROW j of b: out[i, j] = sum_k a[i, k] * b[j, k] (that is a @ b.T).
It runs on square matrices and gives wrong numbers: [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] gives 17, not 19."""


import numpy as np

from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def matmul(a, b, out=None):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    # for every (i, j): sum over k of a[i, k] * b[j, k]; the right index of b is b[k, j]
    result = (a[..., :, None, :] * b[..., None, :, :]).sum(axis=-1)
    if out is None:
        return result
    out[...] = result
    return out
