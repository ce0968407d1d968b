"""The context taken as the encoder's LAST state, hs[:, -1], for every sentence of a padded batch.

For the longest sentence that is right; for the others the GRU has kept running over <pad> embeddings after their
<eos>, and the context is what those pads made of it. The model still trains (it learns to survive the pads), but a
sentence gets another translation depending on the batch it is in."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


class Seq2Seq(_ref.Seq2Seq):
    def _encode(self, src):
        context, (emb_cache, gru_cache, lengths, shape) = super()._encode(src)
        src = np.asarray(src)
        x, _ = _ref.emb.embedding_forward(src, self.enc_embed.weight.data)
        e = self.encoder
        hs, _ = _ref.gru.gru_forward(x, np.zeros((src.shape[0], self.hidden_size), dtype=context.dtype),
                                e.weight_ih.data, e.weight_hh.data, e.bias_ih.data, e.bias_hh.data)
        last = np.full_like(lengths, src.shape[1])                 # every sentence read to the end of the batch
        return hs[:, -1].copy(), (emb_cache, gru_cache, last, shape)
