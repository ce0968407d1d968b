"""LSTM.forward returns its final state as (c_n, h_n) instead of (h_n, c_n).

Both are (N, H) arrays, so nothing crashes: the next call, forward(x, state), then starts from the cell as its
hidden state and the hidden state as its cell. PyTorch's order, and this topic's, is (h_n, c_n)."""

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


class LSTM(_ref.LSTM):
    def forward(self, x, state=None):
        out, (h_n, c_n) = super().forward(x, state)
        return out, (c_n, h_n)                                # swapped
