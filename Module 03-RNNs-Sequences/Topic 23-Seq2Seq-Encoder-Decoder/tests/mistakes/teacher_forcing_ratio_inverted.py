"""The teacher-forcing test written the other way round: u < ratio feeds the model's OWN prediction.

Ratio 1 then never shows the decoder the targets, ratio 0 always does: training with a ratio that is meant to
decay from 1 to 0 runs backwards, from free running to full teacher forcing."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


class Seq2Seq(_ref.Seq2Seq):
    def loss(self, src, tgt, teacher_forcing=1.0, rng=None):
        draws = np.random.default_rng(rng)
        context, enc_cache = self._encode(src)
        tgt = _ref._check_ids(tgt, self.tgt_vocab_size, "tgt", ndim=2)
        B, T = tgt.shape
        if B != context.shape[0] or T == 0 or not 0 <= teacher_forcing <= 1:
            raise ValueError("bad tgt or teacher_forcing")
        d, W, b = self.decoder, self.out_weight.data, self.out_bias.data
        inputs = np.empty((B, T), dtype=np.int64)
        hs = np.empty((B, T, self.hidden_size), dtype=context.dtype)
        logits = np.empty((B, T, self.tgt_vocab_size), dtype=np.result_type(context, W))
        step_caches, forced, h = [], [], context
        for t in range(T):
            if t == 0:
                inputs[:, 0] = _ref.SOS
            else:
                teacher = not bool(draws.random() < teacher_forcing)      # inverted
                forced.append(teacher)
                inputs[:, t] = tgt[:, t - 1] if teacher else logits[:, t - 1].argmax(axis=1)
            x, _ = _ref.emb.embedding_forward(inputs[:, t], self.dec_embed.weight.data)
            h, c = _ref.gru.gru_step_forward(x, h, d.weight_ih.data, d.weight_hh.data, d.bias_ih.data, d.bias_hh.data)
            step_caches.append(c)
            hs[:, t] = h
            logits[:, t] = h @ W.T + b
        loss, loss_cache = _ref.masked_cross_entropy(logits, tgt, tgt != _ref.PAD)
        _, dec_emb_cache = _ref.emb.embedding_forward(inputs, self.dec_embed.weight.data)
        self.teacher_forced = forced
        self._cache = (enc_cache, step_caches, hs, loss_cache, dec_emb_cache)
        return loss
