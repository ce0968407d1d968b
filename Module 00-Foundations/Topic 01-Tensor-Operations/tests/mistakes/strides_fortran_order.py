"""contiguous_strides gives the FIRST axis the smallest stride (Fortran order) instead of the last.
(2, 3, 4) in float64 gets (8, 16, 48) instead of (96, 32, 8): every address computed from it is wrong."""


from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 3


def contiguous_strides(shape, itemsize):
    strides, step = [], int(itemsize)
    for n in shape:  # walks from the first axis: that is column-major
        strides.append(step)
        step *= int(n)
    return tuple(strides)
