"""Train an MLP on the full MNIST set, from scratch, in NumPy.

    python train.py                        # the flagship run: >= 98% test accuracy in well under a minute
    python train.py --subset 1000 --epochs 5     # the 1,000-sample logic check (seconds)
    python train.py --level 2              # another reference level
    DLFS_USE_MINE=10 python train.py       # YOUR solution.py (and DLFS_USE_MINE=3,6,8,9,10 for all your parts)
    python train.py --checkpoint run.npz --stop-after-epoch 4; python train.py --checkpoint run.npz --resume

Writes learning curves, a grid of misclassified digits and the confusion matrix to outputs/ (or --out), and ends by printing one
JSON line with the results, e.g. {"test_accuracy": 0.9841, "wall_seconds": 31.2, ...}. wall_seconds covers
everything from loading the data to the final test evaluation (not the plots).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
from dlfs.components import load_module, load_topic, uses_mine
from dlfs.dashboard import live_dashboard
from dlfs.datasets import DatasetNotFoundError

TOPIC = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train an MLP on MNIST with this curriculum's own parts.")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of Adam (cosine decay to 0)")
    parser.add_argument("--hidden", default="512,256", help="hidden layer sizes, comma-separated")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batchnorm", action="store_true")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--subset", type=int, default=None, help="train on this many samples only")
    parser.add_argument("--val-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=None,
                        help="reference level of Topic 10 (and its parts) to use; default 3, or your own files "
                             "for the topics DLFS_USE_MINE names")
    parser.add_argument("--checkpoint", help="save a checkpoint here after every epoch")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--stop-after-epoch", type=int, help="stop after this epoch, as if interrupted (then --resume)")
    parser.add_argument("--data-dir", help="folder holding mnist/ (default: $DLFS_DATA or the user cache)")
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG figures")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.add_argument("--dashboard", type=int, nargs="?", const=0, default=None, metavar="PORT",
                        help="serve a live dashboard on 127.0.0.1 (a free port unless PORT is given)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    # an explicit --level always wins; otherwise DLFS_USE_MINE picks the learner's files, else the fast level 3
    level = args.level if args.level is not None else (None if uses_mine(TOPIC) else 3)
    mnist = load_topic(TOPIC, level=level)
    optim = load_topic(3, level=None if args.level is None and uses_mine(3) else (level if level in (2, 3) else 2))
    try:
        data = mnist.load_data(subset=args.subset, val_size=args.val_size, seed=args.seed, data_dir=args.data_dir)
    except DatasetNotFoundError as exc:  # offline and not cached: the loader's message says what to do
        sys.exit(f"train.py: {exc}")
    hidden = [int(h) for h in args.hidden.split(",") if h]
    model = mnist.build_mlp([784, *hidden, 10], dropout=args.dropout, batchnorm=args.batchnorm, seed=args.seed)
    optimizer = mnist.make_optimizer(model, "adamw" if args.weight_decay else "adam", lr=args.lr,
                                     weight_decay=args.weight_decay)
    steps_per_epoch = -(-len(data["train"][0]) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs

    def schedule(step):
        return optim.cosine_lr(step, args.lr, total_steps)

    start_epoch, history = 0, None
    if args.resume:
        if not args.checkpoint or not os.path.exists(args.checkpoint):
            sys.exit("--resume needs an existing --checkpoint file")
        state = mnist.load_checkpoint(args.checkpoint, model, optimizer)
        start_epoch, history = state["epoch"], state["history"]
        print(f"resumed from {args.checkpoint} after epoch {start_epoch}")
    stop = min(args.epochs, args.stop_after_epoch or args.epochs)
    with live_dashboard(mnist, args.out, args.dashboard, total_steps, start_epoch * steps_per_epoch, start_epoch,
                        title="Topic 10 · MNIST MLP"):
        history = mnist.fit(model, optimizer, data["train"], data["val"], epochs=stop,
                            batch_size=args.batch_size, seed=args.seed, lr_schedule=schedule,
                            checkpoint_path=args.checkpoint, start_epoch=start_epoch, history=history,
                            progress=not args.quiet)
    test_loss, test_acc = mnist.evaluate(model, *data["test"])
    wall = time.perf_counter() - start
    print(f"test accuracy {test_acc:.2%} (loss {test_loss:.4f}) in {wall:.1f} s")
    if not args.no_plots:
        run = f"train.py: {len(data['train'][0]):,} training images, {args.epochs} epochs, hidden {args.hidden}"
        figures = load_module(HERE / "visualization.py").save_run_figures(mnist, model, data, history, args.out, run)
        print("figures: " + ", ".join(str(f) for f in figures))
    result = {
        "test_accuracy": round(test_acc, 4), "test_loss": round(test_loss, 4), "wall_seconds": round(wall, 2),
        "train_seconds": round(sum(history["epoch_seconds"]), 2),
        "val_accuracy": round(history["val_acc"][-1], 4) if history["val_acc"] else None,
        "epochs": args.epochs, "batch_size": args.batch_size, "hidden": hidden, "lr": args.lr,
        "level": level if level is not None else "yours", "train_samples": int(len(data["train"][0])), "seed": args.seed,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
