"""The decoder's backward pass feeds each step only the gradient of its own logits, dhs[:, t].

The dh_prev coming back from step t + 1 is dropped: every state is trained to predict its own token, never to
carry what the later steps need. Only step 0's gradient reaches the context and the encoder. The loss still
falls a little, which is why this bug survives without a gradient check."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


class Seq2Seq(_ref.Seq2Seq):
    def backward(self):
        if self._cache is None:
            raise RuntimeError("backward called before loss")
        (emb_cache, gru_cache, lengths, hs_shape), step_caches, hs, loss_cache, dec_emb_cache = self._cache
        B, T, H = hs.shape
        dlogits = _ref.masked_cross_entropy_backward(1.0, loss_cache)
        self.out_weight.grad += dlogits.reshape(B * T, -1).T @ hs.reshape(B * T, H)
        self.out_bias.grad += dlogits.sum(axis=(0, 1))
        dhs = dlogits @ self.out_weight.data
        d = self.decoder
        dx = np.empty(hs.shape[:2] + (self.dec_embed.weight.data.shape[1],), dtype=hs.dtype)
        for t in reversed(range(T)):
            dx[:, t], dh, dw_ih, dw_hh, db_ih, db_hh = _ref.gru.gru_step_backward(dhs[:, t], step_caches[t])  # + dh lost
            d.weight_ih.grad += dw_ih
            d.weight_hh.grad += dw_hh
            d.bias_ih.grad += db_ih
            d.bias_hh.grad += db_hh
        self.dec_embed.weight.grad += _ref.emb.embedding_backward(dx, dec_emb_cache)
        denc = np.zeros(hs_shape, dtype=hs.dtype)
        denc[np.arange(B), lengths - 1] = dh
        dsrc, _, *grads = _ref.gru.gru_backward(denc, gru_cache)
        e = self.encoder
        for p, g in zip((e.weight_ih, e.weight_hh, e.bias_ih, e.bias_hh), grads):
            p.grad += g
        self.enc_embed.weight.grad += _ref.emb.embedding_backward(dsrc, emb_cache)
