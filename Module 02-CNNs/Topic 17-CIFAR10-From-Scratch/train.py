"""Train a small ResNet on CIFAR-10, from scratch, in NumPy.

    python train.py                              # the flagship run (reference level 3, about 10 minutes on 2 cores)
    python train.py --subset 2000 --epochs 2     # a logic check on 2,000 images (well under a minute)
    python train.py --level 4                    # the same recipe on PyTorch (same weights, batches and crops)
    DLFS_USE_MINE=17 python train.py             # YOUR solution.py (DLFS_USE_MINE=3,6,12,13,14,17 for all your parts)
    python train.py --checkpoint run.npz --stop-after-epoch 2; python train.py --checkpoint run.npz --resume

The recipe: random crop (pad 4) + horizontal flip written by hand, label smoothing, SGD with Nesterov momentum,
linear warmup then cosine decay, weight decay on the conv filters and the Linear weight only, and optionally
flip test-time augmentation (--tta). Writes learning curves and the confusion matrix to outputs/ (or --out) and
ends with one JSON line, e.g. {"test_accuracy": 0.81, "wall_seconds": 590.2, ...}; wall_seconds covers everything
from loading the data to the final test evaluation (not the plots).
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

TOPIC = 17


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a small ResNet on CIFAR-10 with this curriculum's own parts.")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.2, help="peak learning rate (after the warmup)")
    parser.add_argument("--warmup", type=float, default=0.5, help="warmup length in epochs")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="on conv filters and the Linear weight only")
    parser.add_argument("--smoothing", type=float, default=0.1, help="label smoothing")
    parser.add_argument("--widths", default="32,64,128", help="channels of the stem and of each stage")
    parser.add_argument("--no-augment", action="store_true", help="train without random crops and flips")
    parser.add_argument("--tta", action="store_true", help="flip test-time augmentation for validation and test")
    parser.add_argument("--subset", type=int, default=None, help="train on this many images only")
    parser.add_argument("--val-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=None,
                        help="reference level of Topic 17 (and its parts); default 3, or your own files "
                             "for the topics DLFS_USE_MINE names; 4 is PyTorch")
    parser.add_argument("--checkpoint", help="save a checkpoint here after every epoch")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--stop-after-epoch", type=int, help="stop after this epoch, as if interrupted (then --resume)")
    parser.add_argument("--data-dir", help="folder holding cifar-10/ (default: $DLFS_DATA or the user cache)")
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
    cifar = load_topic(TOPIC, level=level)
    try:
        data = cifar.load_data(subset=args.subset, val_size=args.val_size, seed=args.seed, data_dir=args.data_dir)
    except DatasetNotFoundError as exc:  # offline and not cached: the loader's message says what to do
        sys.exit(f"train.py: {exc}")
    widths = tuple(int(w) for w in args.widths.split(",") if w)
    model = cifar.build_resnet(widths, seed=args.seed)
    optimizer = cifar.make_optimizer(model, args.optimizer, lr=args.lr, momentum=args.momentum,
                                     weight_decay=args.weight_decay)
    steps_per_epoch = -(-len(data["train"][0]) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    schedule = cifar.make_lr_schedule(args.lr, total_steps, warmup_steps=min(total_steps, round(args.warmup * steps_per_epoch)))
    augment = None if args.no_augment else cifar.RandomCropFlip(padding=4, flip=True, seed=args.seed + 1)

    start_epoch, history = 0, None
    if args.resume:
        if not args.checkpoint or not os.path.exists(args.checkpoint):
            sys.exit("--resume needs an existing --checkpoint file")
        state = cifar.load_checkpoint(args.checkpoint, model, optimizer, augment)
        start_epoch, history = state["epoch"], state["history"]
        print(f"resumed from {args.checkpoint} after epoch {start_epoch}")
    stop = min(args.epochs, args.stop_after_epoch or args.epochs)
    with live_dashboard(cifar, args.out, args.dashboard, total_steps, start_epoch * steps_per_epoch, start_epoch,
                        title="Topic 17 · CIFAR-10 ResNet"):
        history = cifar.fit(model, optimizer, data["train"], data["val"], epochs=stop, batch_size=args.batch_size,
                            seed=args.seed, lr_schedule=schedule, smoothing=args.smoothing, augment=augment,
                            checkpoint_path=args.checkpoint, start_epoch=start_epoch, history=history,
                            progress=not args.quiet, tta=args.tta)
    test_loss, test_acc = cifar.evaluate(model, *data["test"], tta=args.tta)
    wall = time.perf_counter() - start
    print(f"test accuracy {test_acc:.2%} (loss {test_loss:.4f}) in {wall:.1f} s")
    if not args.no_plots:
        run = f"train.py: {len(data['train'][0]):,} training images, {args.epochs} epochs, widths {args.widths}"
        figures = load_module(HERE / "visualization.py").save_run_figures(cifar, model, data, history, args.out, run,
                                                                          tta=args.tta)
        print("figures: " + ", ".join(str(f) for f in figures))
    result = {
        "test_accuracy": round(test_acc, 4), "test_loss": round(test_loss, 4), "wall_seconds": round(wall, 2),
        "train_seconds": round(sum(history["epoch_seconds"]), 2),
        "val_accuracy": round(history["val_acc"][-1], 4) if history["val_acc"] else None,
        "epochs": args.epochs, "batch_size": args.batch_size, "widths": list(widths), "lr": args.lr,
        "smoothing": args.smoothing, "augment": not args.no_augment, "tta": args.tta,
        "level": level if level is not None else "yours", "train_samples": len(data["train"][0]), "seed": args.seed,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
