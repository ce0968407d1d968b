"""parameter_count with one bias vector per gate block: 4H(D + H) + 4H.

The textbook equations have one bias per gate; torch.nn.LSTM keeps TWO vectors, bias_ih and bias_hh (cuDNN's
layout), so the count is 4H too small."""

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def parameter_count(input_size, hidden_size):
    return _ref.parameter_count(input_size, hidden_size) - 4 * hidden_size
