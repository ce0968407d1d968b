"""The gradient of a deep network, layer by layer: plain vs residual, without and with batch norm.

    python visualization.py [--out DIR] [--depths 20 56] [--batch 32]     (default: outputs/ next to this file)

Writes
    gradient_norms.png   |dL/dW| of every weight layer (stem conv ... Linear), at initialisation, for the plain net
                         and the ResNet of each depth, on one batch of real CIFAR-10 training images;
                         left without batch norm (the plain net's gradient vanishes towards the input), right
                         with batch norm (the plain net's gradient grows towards the input); the residual net
                         stays flat in both

The data: the first `--batch` images of CIFAR-10 (dlfs.datasets.load_cifar10, from DLFS_DATA or the download
cache; never downloaded here). When CIFAR-10 is not on this machine the script says so and uses random
smooth images instead (the figure is then titled "synthetic images").
The networks come from this topic (make_plain_net, make_resnet, gradient_norms; your own with DLFS_USE_MINE=14).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dlfs.components import load_topic  # noqa: E402
from dlfs.datasets import missing_reason  # noqa: E402

res = load_topic(14)
HERE = Path(__file__).resolve().parent


def cifar_batch(n, seed=0):
    """(x (n, 3, 32, 32) float32 standardised per channel, y (n,) int, source description)."""
    reason = missing_reason("cifar10")
    if reason is None:
        from dlfs.datasets import load_cifar10

        x_train, y_train, _, _ = load_cifar10(download=False, normalize=True)
        x = x_train[:n].transpose(0, 3, 1, 2)
        y = y_train[:n].astype(np.int64)
        source = f"{n} CIFAR-10 training images (JPEG-decoded copy)"
    else:
        print(f"CIFAR-10 not found ({reason}); using synthetic images instead")
        rng = np.random.default_rng(seed)
        coarse = rng.standard_normal((n, 3, 8, 8))
        x = np.repeat(np.repeat(coarse, 4, axis=2), 4, axis=3) + 0.3 * rng.standard_normal((n, 3, 32, 32))
        y = rng.integers(0, 10, n)
        source = f"{n} synthetic images (CIFAR-10 not found)"
    x = x.astype(np.float32)
    x = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / x.std(axis=(0, 2, 3), keepdims=True)
    return np.ascontiguousarray(x), y, source


def measure(depths, x, y, seed=0):
    """{(batchnorm, kind, depth): array of per-layer gradient norms, input to output}."""
    results = {}
    for batchnorm in (False, True):
        for depth in depths:
            for kind, maker in (("plain", res.make_plain_net), ("ResNet", res.make_resnet)):
                start = time.perf_counter()
                net = maker(depth, rng=seed, batchnorm=batchnorm)
                norms = np.array(list(res.gradient_norms(net, x, y).values()))
                results[(batchnorm, kind, depth)] = norms
                ratio = norms[0] / norms[-1]
                print(f"batchnorm={batchnorm!s:5s} {kind:6s}-{depth:<3d} |dW| first / last layer = {ratio:9.3g}"
                      f"   ({time.perf_counter() - start:.1f} s)")
    return results


def plot(results, depths, source, out_dir):
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=False)
    styles = {"plain": {"color": "tab:red"}, "ResNet": {"color": "tab:blue"}}
    widths = {d: 1.0 + 1.2 * k for k, d in enumerate(depths)}
    for ax, batchnorm in zip(axes, (False, True)):
        for depth in depths:
            for kind in ("plain", "ResNet"):
                norms = results[(batchnorm, kind, depth)]
                layers = np.arange(1, len(norms) + 1)
                ax.semilogy(layers, np.maximum(norms, 1e-30), marker="o", ms=2.5, lw=widths[depth],
                            alpha=0.85, ls="-" if depth == depths[0] else "--",
                            label=f"{kind}-{depth}: first/last = {norms[0] / norms[-1]:.2g}", **styles[kind])
        ax.set_xlabel("weight layer (1 = stem convolution, last = Linear classifier)")
        ax.set_ylabel("|dL/dW| at initialisation")
        title = "without batch norm: the plain net's gradient vanishes" if not batchnorm else \
            "with batch norm: the plain net's gradient explodes"
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Gradient norm per layer, plain vs residual networks ({source}, train mode, one batch)",
                 fontsize=11)
    fig.tight_layout()
    path = out_dir / "gradient_norms.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "outputs", help="folder for the PNG (default outputs/)")
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56], help="network depths (6k + 2)")
    parser.add_argument("--batch", type=int, default=16, help="number of images in the batch")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    x, y, source = cifar_batch(args.batch)
    results = measure(args.depths, x, y)
    plot(results, args.depths, source, args.out)


if __name__ == "__main__":
    main()
