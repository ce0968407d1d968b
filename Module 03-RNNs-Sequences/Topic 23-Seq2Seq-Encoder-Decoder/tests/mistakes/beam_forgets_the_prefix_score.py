"""Beam search ranks the extensions by the log-probability of the NEW token only.

scores = log_softmax(logits) without + logp of the hypothesis: each step picks the locally likeliest tokens,
whatever the prefix cost, and the winner's score is that of its last token. It is a greedy search with extra
steps, and it reports scores that are not log P."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def beam_search(model, src, beam_size=5, max_len=20, alpha=1.0):
    _ref._check_max_len(max_len)
    if isinstance(beam_size, bool) or not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise ValueError("beam_size must be an integer >= 1")
    if not alpha >= 0:
        raise ValueError("alpha must be >= 0")
    src = np.asarray(src)
    if src.ndim != 1:
        raise ValueError("src must be one sentence")
    h = model.encode(src[None, :])
    tokens, logp = [[]], np.zeros(1)
    ids = np.array([_ref.SOS], dtype=np.int64)
    finished = []
    for _ in range(max_len):
        logits, h = model.decoder_step(ids, h)
        scores = _ref._log_softmax(np.asarray(logits, dtype=np.float64))     # + logp[:, None] forgotten
        V = scores.shape[1]
        best = np.argsort(-scores.ravel(), kind="stable")[:beam_size]
        keep = []
        for flat in best:
            i, w = divmod(int(flat), V)
            if w == _ref.EOS:
                finished.append((tokens[i], float(scores[i, w]), len(tokens[i]) + 1))
            else:
                keep.append((i, w))
        if not keep:
            break
        rows = np.array([i for i, _ in keep])
        tokens = [tokens[i] + [w] for i, w in keep]
        logp = scores[rows, [w for _, w in keep]]
        ids, h = np.array([w for _, w in keep], dtype=np.int64), h[rows]
    else:
        finished += [(t, float(s), len(t)) for t, s in zip(tokens, logp)]
    return max(((t, s / n ** alpha) for t, s, n in finished), key=lambda ts: ts[1])
