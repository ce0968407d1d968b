"""See a network learn: weights and gradients per layer, gradient flow, activation maps, learning curves.

Works with every curriculum model that follows the Layer protocol of Topic 06 (a `Sequential` with
`.layers`, or a list of layers, whose `parameters()` hold Parameter objects with `.data` and `.grad`):

    from dlfs import visualizer
    loss = ...; model.backward(dlogits)                       # after a backward pass
    visualizer.plot_distributions(model, "weights.png")       # histogram of every parameter's values
    visualizer.plot_distributions(model, "grads.png", which="grad")
    visualizer.plot_gradient_flow(model, "flow.png")          # mean and max |grad| per parameter
    acts = visualizer.capture_activations(model, x)           # every layer's output for x
    visualizer.plot_activation_maps(acts[0][1], "maps.png")   # a conv layer's (N, C, H, W) output
    visualizer.plot_learning_curves(history, "curves.png")    # fit()'s history dict

Every plot function writes one PNG and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_PARAMETER_NAMES = ("weight", "bias", "gamma", "beta")


def layers_of(model) -> list:
    """The layers of a Sequential (`.layers`), or the model itself as a list."""
    if hasattr(model, "layers"):
        return list(model.layers)
    if isinstance(model, (list, tuple)):
        return list(model)
    return [model]


def named_parameters(model) -> list[tuple[str, object]]:
    """[("0.Linear.weight", Parameter), ...] in layer order, named after the layer attribute that holds them."""
    named = []
    for i, layer in enumerate(layers_of(model)):
        params = layer.parameters() if hasattr(layer, "parameters") else []
        by_id = {id(getattr(layer, a)): a for a in _PARAMETER_NAMES if hasattr(layer, a)}
        for j, p in enumerate(params):
            named.append((f"{i}.{type(layer).__name__}.{by_id.get(id(p), j)}", p))
    return named


def gradient_norms(model) -> dict[str, float]:
    """{parameter name: L2 norm of its gradient}; a parameter without a gradient is an error, not a zero."""
    norms = {}
    for name, p in named_parameters(model):
        if getattr(p, "grad", None) is None:
            raise ValueError(f"{name} has no gradient: run a backward pass first")
        norms[name] = float(np.linalg.norm(np.asarray(p.grad, dtype=np.float64)))
    return norms


def _figure(n_panels: int, cols: int = 4, size=(3.2, 2.4)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, -(-n_panels // cols))
    cols = min(cols, max(1, n_panels))
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    return plt, fig, axes.flat


def _save(plt, fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_distributions(model, path, which: str = "data", bins: int = 50) -> Path:
    """Histogram of every parameter's values (which="data") or gradients (which="grad"), one panel each."""
    if which not in ("data", "grad"):
        raise ValueError(f"which must be 'data' or 'grad', got {which!r}")
    named = named_parameters(model)
    if not named:
        raise ValueError("the model has no parameters to plot")
    plt, fig, axes = _figure(len(named))
    for ax, (name, p) in zip(axes, named):
        values = getattr(p, which)
        if values is None:
            raise ValueError(f"{name}.{which} is None: run a backward pass first")
        values = np.asarray(values, dtype=np.float64).ravel()
        ax.hist(values, bins=bins, color="tab:blue" if which == "data" else "tab:orange")
        ax.set_title(f"{name}\nmean {values.mean():.3g}, std {values.std():.3g}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("parameter values" if which == "data" else "gradients", fontsize=10)
    return _save(plt, fig, path)


def plot_gradient_flow(model, path) -> Path:
    """Mean and max |gradient| per parameter, on a log scale: vanishing or exploding layers stand out."""
    named = named_parameters(model)
    if not named:
        raise ValueError("the model has no parameters to plot")
    names, means, maxes = [], [], []
    for name, p in named:
        if getattr(p, "grad", None) is None:
            raise ValueError(f"{name} has no gradient: run a backward pass first")
        g = np.abs(np.asarray(p.grad, dtype=np.float64))
        names.append(name)
        means.append(g.mean())
        maxes.append(g.max())
    plt, fig, axes = _figure(1, cols=1, size=(max(6, 0.5 * len(names)), 3.6))
    ax = next(iter(axes))
    x = np.arange(len(names))
    floor = 1e-12  # log scale: an exactly-zero gradient is drawn at the floor, not dropped
    ax.bar(x, np.maximum(maxes, floor), color="lightsteelblue", label="max |grad|")
    ax.bar(x, np.maximum(means, floor), color="tab:blue", label="mean |grad|")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("|gradient|")
    ax.set_title("gradient flow, input layer on the left")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def capture_activations(model, x) -> list[tuple[str, np.ndarray]]:
    """Run x through the layers one by one; [(layer name, its output)], the model's output last."""
    out = []
    for i, layer in enumerate(layers_of(model)):
        x = layer.forward(x)
        out.append((f"{i}.{type(layer).__name__}", np.asarray(x)))
    return out


def plot_activation_maps(activations, path, sample: int = 0, max_channels: int = 16) -> Path:
    """The first channels of one sample of a convolution layer's output, (N, C, H, W) or (C, H, W)."""
    a = np.asarray(activations)
    if a.ndim == 4:
        if not 0 <= sample < a.shape[0]:
            raise ValueError(f"sample {sample} is out of range for a batch of {a.shape[0]}")
        a = a[sample]
    if a.ndim != 3:
        raise ValueError(f"activation maps need (N, C, H, W) or (C, H, W), got shape {np.shape(activations)}")
    channels = min(max_channels, a.shape[0])
    plt, fig, axes = _figure(channels, cols=min(8, channels), size=(1.6, 1.6))
    for c, ax in zip(range(channels), axes):
        ax.imshow(a[c], cmap="viridis")
        ax.set_title(f"channel {c}", fontsize=7)
        ax.axis("off")
    return _save(plt, fig, path)


def plot_learning_curves(history: dict, path) -> Path:
    """Losses (left) and accuracies (right) per epoch from a fit() history: keys ending in _loss / _acc."""
    losses = {k: v for k, v in history.items() if k.endswith("loss") and len(v)}
    accs = {k: v for k, v in history.items() if k.endswith("acc") and len(v)}
    if not losses and not accs:
        raise ValueError(f"the history has no *_loss or *_acc series: keys {sorted(history)}")
    plt, fig, axes = _figure(2 if accs and losses else 1, cols=2, size=(4.5, 3.2))
    axes = list(axes)
    for ax, series, label in ((axes[0], losses or accs, "loss" if losses else "accuracy"),
                              (axes[-1], accs, "accuracy")):
        for name, values in series.items():
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        if not accs:
            break
    return _save(plt, fig, path)
