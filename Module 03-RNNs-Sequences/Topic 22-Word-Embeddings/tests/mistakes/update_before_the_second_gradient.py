"""The SGD step moves W_in first and only then computes the gradient of W_out, from the NEW center vectors.

Each gradient must be taken at the weights before the step: du_o = dL/ds * v_c uses the old v_c. Updating one
matrix before the other's gradient is computed gives a different (and order-dependent) step."""


from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def sgd_step(W_in, W_out, centers, contexts, negatives, lr):
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    _, dW_in, _ = _ref.sgns_gradients(W_in, W_out, centers, contexts, negatives)
    W_in -= lr * dW_in                                              # W_in moves first ...
    loss, _, dW_out = _ref.sgns_gradients(W_in, W_out, centers, contexts, negatives)   # ... then W_out's gradient
    W_out -= lr * dW_out
    return loss
