"""parameter_count with one bias vector per layer (G*H*(D + H) + G*H), as in the textbook equations.

PyTorch's RNN, LSTM and GRU each keep TWO bias vectors, bias_ih and bias_hh (cuDNN's layout); for the GRU they are
not even redundant, since b_hn sits inside the reset gate. The count is G*H too small."""

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def parameter_count(kind, input_size, hidden_size):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind] if kind in ("rnn", "lstm", "gru") else None
    full = _ref.parameter_count(kind, input_size, hidden_size)
    return full - G * hidden_size
