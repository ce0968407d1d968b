"""Module 03's benchmark: a vanilla RNN, an LSTM and a GRU trained on Tiny Shakespeare for the same wall time.

    python benchmark.py [--seconds 120] [--quick] [--models rnn,lstm,gru,torch-lstm] [--hidden 128]
    python benchmark.py --levels          # this topic's four levels on one (32, 50, 65) -> 128 batch

The three NumPy layers are the level-3 references of Topics 18 (RNN), 19 (LSTM) and 20 (GRU), each followed by
the same linear read-out to the 65 characters and a softmax cross-entropy, trained with Topic 03's Adam
(lr 2e-3), gradients clipped at norm 5 (Topic 18's clip_grad_norm), truncated BPTT over 100 characters with
the state carried between batches (Topic 18's tbptt_batches) on the fixed split of Topic 18's train_val_split.
"torch-lstm" is torch.nn.LSTM + torch.nn.Linear on the CPU, started from the NumPy LSTM's weights, fed the
same batches, with torch.optim.Adam and clip_grad_norm_: the ratio of seconds per iteration NumPy / PyTorch is
measured with the runs interleaved iteration by iteration (whichever model has used the least time goes next),
so that a busy moment of the machine hits every model alike. BLAS and torch run on one thread (--threads).

Printed: parameters, iterations, seconds per iteration (median), validation loss in nats per character over
the validation text (the state carried through it), and a 200-character sample (temperature 0.8) per model.
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_from_argv(default="1"):
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return default


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads_from_argv())  # must be set before NumPy loads its BLAS

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from dlfs.components import load_topic  # noqa: E402

KINDS = {"rnn": 18, "lstm": 19, "gru": 20}
LR, CLIP, SEQ_LEN, BATCH, TEMPERATURE, START = 2e-3, 5.0, 100, 32, 0.8, "ROMEO:"


class CharModel:
    """One recurrent layer (a Topic 18/19/20 layer) + a linear read-out, on one-hot characters."""

    def __init__(self, kind, vocab_size, hidden, seed, optim):
        self.kind = kind
        layer_cls = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind]
        rng = np.random.default_rng(seed)
        self.layer = getattr(load_topic(KINDS[kind], level=3), layer_cls)(vocab_size, hidden, rng=rng)
        bound = 1 / np.sqrt(hidden)                       # torch.nn.Linear's default initialisation
        self.w_out = optim.Parameter(rng.uniform(-bound, bound, size=(vocab_size, hidden)).astype(np.float32))
        self.b_out = optim.Parameter(rng.uniform(-bound, bound, size=(vocab_size,)).astype(np.float32))
        self.V, self.H = vocab_size, hidden
        self.params = self.layer.parameters() + [self.w_out, self.b_out]
        self.opt = optim.Adam(self.params, lr=LR)
        self.state = None
        self.eye = np.eye(vocab_size, dtype=np.float32)

    def n_params(self):
        return int(sum(p.data.size for p in self.params))

    def _logits(self, ids, state):
        out, state = self.layer.forward(self.eye[ids], state)
        return out, out @ self.w_out.data.T + self.b_out.data, state

    def loss(self, ids, targets, state):
        out, logits, state = self._logits(ids, state)
        z = logits - logits.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        loss = -np.take_along_axis(logp, targets[..., None], axis=-1).mean()
        return float(loss), out, logp, state

    def train_step(self, x, y, clip_grad_norm):
        loss, out, logp, self.state = self.loss(x, y, self.state)
        dlogits = np.exp(logp)
        np.put_along_axis(dlogits, y[..., None], np.take_along_axis(dlogits, y[..., None], axis=-1) - 1, axis=-1)
        dlogits /= np.float32(y.size)
        for p in self.params:
            p.grad[...] = 0
        self.w_out.grad += dlogits.reshape(-1, self.V).T @ out.reshape(-1, self.H)
        self.b_out.grad += dlogits.reshape(-1, self.V).sum(axis=0)
        self.layer.backward(dlogits @ self.w_out.data)
        clip_grad_norm(self.params, CLIP)
        self.opt.step()
        return loss

    def step(self, i, state):
        _, logits, state = self._logits(np.array([[i]]), state)
        return logits[0, 0], state


class TorchLSTM:
    """torch.nn.LSTM + Linear started from a NumPy CharModel('lstm')'s weights; the same training recipe."""

    def __init__(self, twin, torch):
        self.torch, self.kind, self.V, self.H = torch, "torch-lstm", twin.V, twin.H
        self.lstm = torch.nn.LSTM(twin.V, twin.H, batch_first=True)
        self.out = torch.nn.Linear(twin.H, twin.V)
        layer = twin.layer
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, name + "_l0").copy_(torch.from_numpy(getattr(layer, name).data.copy()))
            self.out.weight.copy_(torch.from_numpy(twin.w_out.data.copy()))
            self.out.bias.copy_(torch.from_numpy(twin.b_out.data.copy()))
        self.params = list(self.lstm.parameters()) + list(self.out.parameters())
        self.opt = torch.optim.Adam(self.params, lr=LR)
        self.state = None
        self.eye = torch.eye(twin.V)

    def n_params(self):
        return int(sum(p.numel() for p in self.params))

    def _logits(self, ids, state):
        out, state = self.lstm(self.eye[self.torch.from_numpy(ids)], state)
        return self.out(out), state

    def train_step(self, x, y, clip_grad_norm):
        torch = self.torch
        logits, state = self._logits(x, self.state)
        self.state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.from_numpy(y).reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, CLIP)
        self.opt.step()
        return float(loss.detach())

    def loss(self, ids, targets, state):
        torch = self.torch
        with torch.no_grad():
            logits, state = self._logits(ids, state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.from_numpy(targets).reshape(-1))
        return float(loss), None, None, state

    def step(self, i, state):
        with self.torch.no_grad():
            logits, state = self._logits(np.array([[i]]), state)
        return logits[0, 0].numpy(), state


def validation_loss(model, val_ids, tbptt_batches, max_chars=None):
    """Mean nats per character over the validation text, in (BATCH, SEQ_LEN) windows with the state carried."""
    ids = val_ids if max_chars is None else val_ids[:max_chars]
    total, count, state = 0.0, 0, None
    for x, y in tbptt_batches(ids, BATCH, SEQ_LEN):
        loss, _, _, state = model.loss(x, y, state)
        total += loss * y.size
        count += y.size
    return total / count


def run_flagship(args):
    rnn_topic = load_topic(18, level=3)
    optim = load_topic(3)
    from dlfs.datasets import load_tinyshakespeare

    text = load_tinyshakespeare()
    vocab = rnn_topic.CharVocab(text)
    train_text, val_text = rnn_topic.train_val_split(text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    models = {}
    for kind in kinds:
        if kind in KINDS:
            models[kind] = CharModel(kind, len(vocab), args.hidden, args.seed, optim)
    if "torch-lstm" in kinds:
        import torch

        torch.set_num_threads(int(args.threads))
        torch.manual_seed(args.seed)
        twin = models.get("lstm") or CharModel("lstm", len(vocab), args.hidden, args.seed, optim)
        models["torch-lstm"] = TorchLSTM(twin, torch)
    seconds = 4.0 if args.quick else float(args.seconds)
    streams = {k: rnn_topic.tbptt_batches(train_ids, BATCH, SEQ_LEN) for k in models}
    used = {k: 0.0 for k in models}
    times = {k: [] for k in models}
    losses = {k: [] for k in models}
    while True:
        pending = [k for k in models if used[k] < seconds]
        if not pending:
            break
        kind = min(pending, key=lambda k: used[k])       # interleaved: the model that has used least goes next
        try:
            x, y = next(streams[kind])
        except StopIteration:                             # one epoch done: start again, state reset
            streams[kind] = rnn_topic.tbptt_batches(train_ids, BATCH, SEQ_LEN)
            models[kind].state = None
            x, y = next(streams[kind])
        t0 = time.perf_counter()
        losses[kind].append(models[kind].train_step(x, y, rnn_topic.clip_grad_norm))
        dt = time.perf_counter() - t0
        used[kind] += dt
        times[kind].append(dt)
    max_val = 20_000 if args.quick else None
    rows = []
    for kind, model in models.items():
        val = validation_loss(model, val_ids, rnn_topic.tbptt_batches, max_val)
        text_out = rnn_topic.sample(model.step, vocab, START, 200, np.random.default_rng(args.seed), TEMPERATURE)
        rows.append((kind, model.n_params(), len(times[kind]), statistics.median(times[kind]), val,
                     float(np.mean(losses[kind][-20:])), text_out))
    print(f"Tiny Shakespeare, {len(train_ids):,} training / {len(val_ids):,} validation characters, vocabulary "
          f"{len(vocab)}; hidden {args.hidden}, batch {BATCH} x {SEQ_LEN}, Adam lr {LR}, clip {CLIP}; "
          f"{seconds:g} s of training per model, {args.threads} thread(s)"
          + (f"; validation on the first {max_val:,} characters" if max_val else ""))
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print()
    print("| model | parameters | iterations | s / iteration | train loss (last 20) | validation loss (nats/char) |")
    print("|---|---|---|---|---|---|")
    for kind, n, iters, sec, val, tr, _ in rows:
        print(f"| {kind} | {n:,} | {iters} | {sec:.4f} | {tr:.3f} | {val:.3f} |")
    by = {r[0]: r for r in rows}
    if "lstm" in by and "torch-lstm" in by:
        print(f"\ntime per iteration, NumPy LSTM / PyTorch LSTM: {by['lstm'][3] / by['torch-lstm'][3]:.2f}")
    print()
    for kind, *_, sample_text in rows:
        print(f"--- {kind} sample (temperature {TEMPERATURE}):\n{sample_text}\n")


def run_levels(args):
    """Forward / backward time (median) and tracemalloc peak of this topic's four levels."""
    import tracemalloc

    rng = np.random.default_rng(0)
    N, T, D, H = 32, 50, 65, 128
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s).astype(np.float32) for s in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h0 = np.zeros((N, H), np.float32)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)
    print(f"GRU forward/backward, x {x.shape} float32, H = {H}; median of {args.repeats} runs (level 1: one)")
    print("| level | forward | backward | peak memory, forward | peak memory, backward |")
    print("|---|---|---|---|---|")
    for level in (1, 2, 3, 4):
        try:
            m = load_topic(20, level=level)
        except ImportError as exc:
            print(f"| {level} | not measured: {exc} | | | |")
            continue
        fwd, bwd = [], []
        for _ in range(1 if level == 1 else args.repeats):
            t0 = time.perf_counter()
            _, cache = m.gru_forward(x, h0, *w)
            t1 = time.perf_counter()
            m.gru_backward(dhs, cache)
            fwd.append(t1 - t0)
            bwd.append(time.perf_counter() - t1)
            del cache
        tracemalloc.start()
        hs, cache = m.gru_forward(x, h0, *w)
        peak_f = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        grads = m.gru_backward(dhs, cache)
        peak_b = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del hs, cache, grads
        print(f"| {level} | {statistics.median(fwd) * 1e3:.1f} ms | {statistics.median(bwd) * 1e3:.1f} ms | "
              f"{peak_f / 2**20:.2f} MiB | {peak_b / 2**20:.2f} MiB |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="training wall time per model (default 120)")
    parser.add_argument("--quick", action="store_true", help="4 s per model, validation on 20,000 characters")
    parser.add_argument("--models", default="rnn,lstm,gru,torch-lstm", help="comma-separated subset")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", default="1", help="BLAS and torch threads (default 1)")
    parser.add_argument("--levels", action="store_true", help="time this topic's four levels instead")
    parser.add_argument("--repeats", type=int, default=9, help="runs per level with --levels")
    args = parser.parse_args()
    if args.levels:
        run_levels(args)
    else:
        run_flagship(args)


if __name__ == "__main__":
    main()
