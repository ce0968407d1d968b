"""matmul accumulates into the caller's out buffer without resetting it to zero first.
The first call into a fresh np.zeros buffer looks right; a reused buffer adds the old result to the new one."""


from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 3
_reference_matmul = _ref.matmul


def matmul(a, b, out=None):
    result = _reference_matmul(a, b)
    if out is None:
        return result
    out += result  # the sum starts from whatever the buffer held, not from 0
    return out
