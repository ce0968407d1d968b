"""The masked cross-entropy divided by all B * T positions instead of the number of real tokens.

The padded positions are skipped in the sum but still counted in the mean: a batch with much padding gets a smaller
loss and smaller gradients than the same sentences in a tight batch, so the effective learning rate depends on how
the sentences were grouped. PyTorch's cross_entropy(ignore_index=...) with reduction='mean' divides by the real
tokens."""


from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def masked_cross_entropy(logits, targets, mask):
    loss, (log_probs, targets, mask, n_real) = _ref.masked_cross_entropy(logits, targets, mask)
    positions = max(mask.size, 1)
    return loss * n_real / positions, (log_probs, targets, mask, positions)   # every position counted
