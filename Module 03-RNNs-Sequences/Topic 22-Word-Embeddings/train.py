"""Train skip-gram word vectors with negative sampling on TinyShakespeare, from scratch, in NumPy.

    python train.py                         # 10 epochs, 1 to 2 minutes on 2 cores; neighbours, then a JSON line
    python train.py --epochs 1 --dim 32     # a quicker look
    DLFS_USE_MINE=22 python train.py        # YOUR solution.py

Every part comes from this topic (level 3 by default, your own file with DLFS_USE_MINE=22): words, vocabulary
(min_count), subsampling (a new draw each epoch), skip-gram pairs with a reduced random window, unigram^0.75
negatives, sparse SGD with the learning rate decayed linearly from --lr towards 0, as word2vec does. The last
line is one JSON object with the settings, the losses, the time and the neighbours of the query words.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from dlfs.components import load_topic, uses_mine
from dlfs.datasets import DatasetNotFoundError, load_tinyshakespeare

HERE = Path(__file__).resolve().parent
TOPIC = 22
QUERIES = ("king", "love", "romeo", "queen", "father", "thou")
ANALOGIES = (("king", "man", "woman"), ("he", "his", "her"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Skip-gram with negative sampling on TinyShakespeare.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dim", type=int, default=64, help="embedding size D")
    parser.add_argument("--window", type=int, default=5, help="largest window (each position draws 1..window)")
    parser.add_argument("--negatives", type=int, default=5, help="K noise words per pair")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--t", type=float, default=1e-3, help="subsampling threshold")
    parser.add_argument("--lr", type=float, default=0.05, help="initial learning rate (per pair), decayed linearly")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=None, help="reference level of Topic 22 (default 3)")
    parser.add_argument("--save", help="write the vocabulary and both matrices to this .npz file")
    parser.add_argument("--data-dir", help="folder holding tinyshakespeare/ (default: $DLFS_DATA or the user cache)")
    return parser.parse_args(argv)


def train(w2v, text, args, log=print):
    """The whole run; returns (vocab, W_in, W_out, history) with history['loss'] one mean per batch."""
    tokens = w2v.tokenize(text)
    vocab = w2v.Vocab(tokens, min_count=args.min_count)
    ids = np.asarray(vocab.encode(tokens))
    V, D = len(vocab), args.dim
    rng = np.random.default_rng(args.seed)
    # word2vec's initialisation: small uniform input vectors, output vectors at zero
    W_in = ((rng.random((V, D)) - 0.5) / D).astype(np.float32)
    W_out = np.zeros((V, D), dtype=np.float32)
    noise = np.asarray(w2v.noise_distribution(vocab.counts))
    log(f"{len(tokens):,} words, vocabulary {V:,} (min_count {args.min_count}), D = {D}")
    history = {"loss": [], "epoch_loss": [], "pairs": []}
    for epoch in range(args.epochs):
        kept = w2v.subsample(ids, vocab.counts, t=args.t, rng=rng)
        centers, contexts = w2v.skipgram_pairs(kept, window=args.window, shrink=True, rng=rng)
        lr = args.lr * max(1 - epoch / args.epochs, 0.05)
        losses = w2v.train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=args.negatives, lr=lr,
                                    batch_size=args.batch_size, rng=rng)
        history["loss"].extend(losses)
        history["epoch_loss"].append(float(np.mean(losses)))
        history["pairs"].append(len(centers))
        log(f"epoch {epoch + 1}/{args.epochs}: {len(kept):,} words kept, {len(centers):,} pairs, lr {lr:.4f}, "
            f"loss per pair {np.mean(losses):.4f}")
    return vocab, W_in, W_out, history


def neighbours(w2v, vocab, W, words, k=8):
    out = {}
    for word in words:
        if word in vocab.index:
            i = vocab.index[word]
            ids, sims = w2v.nearest_neighbors(W, W[i], k=k, exclude=[i])
            out[word] = [[vocab.words[j], round(float(s), 3)] for j, s in zip(ids, sims)]
    return out


def analogies(w2v, vocab, W, triples, k=5):
    out = {}
    for a, b, c in triples:
        if all(w in vocab.index for w in (a, b, c)):
            ids, _ = w2v.analogy(W, vocab.index[a], vocab.index[b], vocab.index[c], k=k)
            out[f"{a} - {b} + {c}"] = [vocab.words[j] for j in ids]
    return out


def main(argv=None):
    args = parse_args(argv)
    level = args.level if args.level is not None else (None if uses_mine(TOPIC) else 3)
    w2v = load_topic(TOPIC, level=level)
    start = time.perf_counter()
    try:
        text = load_tinyshakespeare(data_dir=args.data_dir)
    except DatasetNotFoundError as exc:
        sys.exit(f"train.py: {exc}")
    vocab, W_in, W_out, history = train(w2v, text, args)
    seconds = time.perf_counter() - start
    near = neighbours(w2v, vocab, W_in, QUERIES)
    for word, pairs in near.items():
        print(f"{word:>8}: " + ", ".join(f"{w} {s:.2f}" for w, s in pairs))
    analog = analogies(w2v, vocab, W_in, ANALOGIES)
    for query, answers in analog.items():
        print(f"{query} = " + ", ".join(answers))
    if args.save:
        np.savez(args.save, words=np.array(vocab.words), counts=vocab.counts, W_in=W_in, W_out=W_out)
    result = {"epochs": args.epochs, "dim": args.dim, "window": args.window, "negatives": args.negatives,
              "min_count": args.min_count, "t": args.t, "lr": args.lr, "batch_size": args.batch_size,
              "seed": args.seed, "level": level if level is not None else "yours", "vocab": len(vocab),
              "pairs_per_epoch": history["pairs"], "epoch_loss": [round(x, 4) for x in history["epoch_loss"]],
              "seconds": round(seconds, 1), "neighbours": {w: [p[0] for p in ps] for w, ps in near.items()},
              "analogies": analog}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
