"""Kaiming init with fan_in = in_channels, forgetting the kernel area: the weights of a 3x3 layer are drawn
from U(-1/sqrt(C_in), 1/sqrt(C_in)), 3 times too wide.

Each output of a convolution sums C_in * kH * kW products, so that is its fan-in; with the smaller number
the activations grow by about sqrt(kH * kW) per layer at initialisation."""

import math

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


class Conv2d(_ref.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, rng, dtype)
        kH, kW = self.kernel_size
        # the same uniform draws, scaled from 1/sqrt(C_in * kH * kW) to 1/sqrt(C_in)
        self.weight.data *= math.sqrt(kH * kW)
        if self.bias is not None:
            self.bias.data *= math.sqrt(kH * kW)
