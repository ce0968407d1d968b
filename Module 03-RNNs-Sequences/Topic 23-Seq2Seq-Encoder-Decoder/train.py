"""Train the encoder-decoder without attention on the English-French pairs, from scratch, in NumPy.

    python train.py                          # the default run: about 6 minutes on 2 cores, then BLEU and samples
    python train.py --epochs 2 --hidden 64   # a quick look
    DLFS_USE_MINE=23 python train.py         # YOUR solution.py (and DLFS_USE_MINE=20,22,23 for your GRU and Embedding)

The data: the pairs of load_fra_eng() kept by filter_pairs (1 to 10 tokens on both sides, an English prefix of
ENG_PREFIXES: "i am", "he is", "they're", ...), split by split_pairs into training pairs and held-out pairs (10 % of
the distinct English sentences; no English and no French sentence on both sides). Vocabularies from the training
pairs only (min_count 2, the rest is <unk>). Training: Adam (Topic 03), gradients clipped at norm 5, the teacher-
forcing ratio of --teacher-forcing, each epoch's batches in a seeded random order. Evaluation: corpus BLEU on the
held-out English sentences, each decoded once (greedy and beam search) against ALL its held-out French
translations, on lowercased tokens with punctuation. Nothing is written unless --save is given; the last line is
one JSON object with the settings, the losses, the BLEU scores and the times.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small products: one BLAS thread is 5x faster on a busy machine

import argparse
import json
import sys
import time

import numpy as np
from dlfs.components import load_topic, uses_mine
from dlfs.datasets import DatasetNotFoundError, load_fra_eng

TOPIC = 23


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Seq2Seq (GRU encoder-decoder, no attention) on English-French.")
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--minutes", type=float, default=12.0, help="stop training after this many minutes")
    parser.add_argument("--embed", type=int, default=128, help="embedding size E (both languages)")
    parser.add_argument("--hidden", type=int, default=256, help="GRU state size H (encoder and decoder)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--clip", type=float, default=5.0, help="global gradient-norm clipping")
    parser.add_argument("--teacher-forcing", type=float, default=1.0, help="teacher-forcing ratio during training")
    parser.add_argument("--max-len", type=int, default=10, help="the filter's largest sentence, in tokens")
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--held-out", type=float, default=0.1, help="fraction of English sentences held out")
    parser.add_argument("--beam", type=int, default=5, help="beam size of the evaluation")
    parser.add_argument("--alpha", type=float, default=1.0, help="length normalisation log P / len ** alpha")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=None, help="reference level of Topic 23 (default 3)")
    parser.add_argument("--save", help="write the weights and both vocabularies to this .npz file")
    parser.add_argument("--data-dir", help="folder holding fra-eng/ (default: $DLFS_DATA or the user cache)")
    return parser.parse_args(argv)


def prepare(s2s, pairs, args, log=print):
    kept = s2s.filter_pairs(pairs, max_len=args.max_len)
    train, held = s2s.split_pairs(kept, held_out=args.held_out, seed=args.seed)
    src_vocab = s2s.Vocab([e for e, _ in train], min_count=args.min_count)
    tgt_vocab = s2s.Vocab([f for _, f in train], min_count=args.min_count)
    log(f"{len(pairs):,} pairs, {len(kept):,} kept by the filter; {len(train):,} training pairs, {len(held):,} held out; "
        f"vocabularies: English {len(src_vocab):,}, French {len(tgt_vocab):,} (min_count {args.min_count})")
    return kept, train, held, src_vocab, tgt_vocab


def batches(s2s, encoded, batch_size, rng):
    order = rng.permutation(len(encoded))
    for start in range(0, len(order), batch_size):
        chosen = [encoded[i] for i in order[start:start + batch_size]]
        src, _ = s2s.pad_batch([e for e, _ in chosen])
        tgt, _ = s2s.pad_batch([f for _, f in chosen])
        yield src, tgt


def train(s2s, model, encoded, args, log=print):
    optim = load_topic(3)
    adam = optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history, start = {"epoch_loss": [], "epoch_seconds": []}, time.perf_counter()
    for epoch in range(args.epochs):
        t0, losses = time.perf_counter(), []
        for src, tgt in batches(s2s, encoded, args.batch_size, rng):
            adam.zero_grad()
            losses.append(model.loss(src, tgt, teacher_forcing=args.teacher_forcing, rng=rng))
            model.backward()
            optim.clip_grad_norm(model.parameters(), args.clip)
            adam.step()
        history["epoch_loss"].append(float(np.mean(losses)))
        history["epoch_seconds"].append(time.perf_counter() - t0)
        log(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.3f} ({time.perf_counter() - t0:.0f} s)")
        if time.perf_counter() - start > 60 * args.minutes:
            log(f"stopping: the {args.minutes:g}-minute budget is spent")
            break
    return history


def held_out_loss(s2s, model, encoded, batch_size=128):
    total = count = 0.0
    for start in range(0, len(encoded), batch_size):
        chosen = encoded[start:start + batch_size]
        src, _ = s2s.pad_batch([e for e, _ in chosen])
        tgt, mask = s2s.pad_batch([f for _, f in chosen])
        n = int(np.asarray(mask).sum())
        total += model.loss(src, tgt, teacher_forcing=1.0) * n
        count += n
    return total / count


def evaluate(s2s, model, held, src_vocab, tgt_vocab, args):
    """Corpus BLEU of greedy and beam decoding: one hypothesis per held-out English sentence, all its references."""
    refs = {}
    for e, f in held:
        refs.setdefault(tuple(e), []).append(list(f))
    english = list(refs)
    sources = [src_vocab.encode(list(e)) for e in english]
    greedy = []
    for start in range(0, len(sources), 256):
        src, _ = s2s.pad_batch(sources[start:start + 256])
        greedy += [tgt_vocab.decode(ids) for ids in s2s.greedy_decode(model, src, max_len=args.max_len + 2)]
    beam = [tgt_vocab.decode(list(s2s.beam_search(model, s, beam_size=args.beam, max_len=args.max_len + 2,
                                                  alpha=args.alpha)[0])) for s in sources]
    references = [refs[e] for e in english]
    return english, references, greedy, beam, s2s.corpus_bleu(greedy, references), s2s.corpus_bleu(beam, references)


def main(argv=None):
    args = parse_args(argv)
    level = args.level if args.level is not None else (None if uses_mine(TOPIC) else 3)
    s2s = load_topic(TOPIC, level=level)
    start = time.perf_counter()
    try:
        pairs = load_fra_eng(data_dir=args.data_dir)
    except DatasetNotFoundError as exc:
        sys.exit(f"train.py: {exc}")
    kept, train_pairs, held, src_vocab, tgt_vocab = prepare(s2s, pairs, args)
    encoded = [(src_vocab.encode(e), tgt_vocab.encode(f)) for e, f in train_pairs]
    held_encoded = [(src_vocab.encode(e), tgt_vocab.encode(f)) for e, f in held]
    model = s2s.Seq2Seq(len(src_vocab), len(tgt_vocab), args.embed, args.hidden, rng=args.seed)
    history = train(s2s, model, encoded, args)
    train_seconds = sum(history["epoch_seconds"])
    val_loss = held_out_loss(s2s, model, held_encoded)
    t0 = time.perf_counter()
    english, references, greedy, beam, bleu_greedy, bleu_beam = evaluate(s2s, model, held, src_vocab, tgt_vocab, args)
    eval_seconds = time.perf_counter() - t0
    print(f"held-out loss {val_loss:.3f}; corpus BLEU on {len(english):,} held-out English sentences: "
          f"greedy {100 * bleu_greedy:.2f}, beam {args.beam} {100 * bleu_beam:.2f}")
    samples = []
    for i in np.random.default_rng(1).choice(len(english), size=min(8, len(english)), replace=False):
        samples.append({"english": " ".join(english[i]), "reference": " ".join(references[i][0]),
                        "greedy": " ".join(greedy[i]), "beam": " ".join(beam[i])})
        print(f"  {samples[-1]['english']}\n    = {samples[-1]['reference']}\n    greedy: {samples[-1]['greedy']}"
              f"\n    beam:   {samples[-1]['beam']}")
    if args.save:
        np.savez(args.save, src_words=np.array(src_vocab.words), tgt_words=np.array(tgt_vocab.words),
                 **model.state_dict())
    result = {"epochs_run": len(history["epoch_loss"]), "embed": args.embed, "hidden": args.hidden,
              "batch_size": args.batch_size, "lr": args.lr, "clip": args.clip, "teacher_forcing": args.teacher_forcing,
              "max_len": args.max_len, "min_count": args.min_count, "seed": args.seed,
              "level": level if level is not None else "yours", "pairs_kept": len(kept), "train_pairs": len(train_pairs),
              "held_out_pairs": len(held), "held_out_sentences": len(english), "src_vocab": len(src_vocab),
              "tgt_vocab": len(tgt_vocab), "epoch_loss": [round(x, 4) for x in history["epoch_loss"]],
              "held_out_loss": round(val_loss, 4), "bleu_greedy": round(100 * bleu_greedy, 2),
              "bleu_beam": round(100 * bleu_beam, 2), "beam": args.beam, "alpha": args.alpha,
              "train_seconds": round(train_seconds, 1), "eval_seconds": round(eval_seconds, 1),
              "total_seconds": round(time.perf_counter() - start, 1), "samples": samples}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
