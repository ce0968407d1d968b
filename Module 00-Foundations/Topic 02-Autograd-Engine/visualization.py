"""Draw a computation graph and the backward pass flowing through it (matplotlib only, no graphviz).

    python visualization.py              # writes outputs/computation_graph.png and outputs/backward_flow.png
    python visualization.py --out DIR    # somewhere else
    DLFS_USE_MINE=2 python visualization.py   # draw with YOUR Value (it needs .data, .grad, ._prev, ._op)

The expression is micrograd's neuron, o = tanh(x1*w1 + x2*w2 + b): each box is a Value with its data
and its gradient do/d(box); each circle is the operation that made the box to its right.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from dlfs.components import load_topic

HERE = Path(__file__).resolve().parent
BOX_W, BOX_H, OP_R = 1.55, 0.78, 0.24
COLORS = {"leaf": "#dbeafe", "inner": "#f1f5f9", "output": "#dcfce7", "done": "#fde68a", "active": "#fca5a5"}


def build_neuron(engine):
    """o = tanh(x1*w1 + x2*w2 + b), with readable names for every Value."""
    x1, x2 = engine.Value(2.0), engine.Value(0.0)
    w1, w2 = engine.Value(-3.0), engine.Value(1.0)
    b = engine.Value(6.8813735870195432)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    total = x1w1 + x2w2
    n = total + b
    o = n.tanh()
    names = {id(v): s for v, s in [(x1, "x1"), (x2, "x2"), (w1, "w1"), (w2, "w2"), (b, "b"), (x1w1, "x1*w1"),
                                   (x2w2, "x2*w2"), (total, "x1w1+x2w2"), (n, "n"), (o, "o")]}
    return o, names


def topological_order(root):
    """Values reachable from root, inputs before outputs (iterative, like the engine)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node._prev))
    return order


def layout(root):
    """(x, y) of every Value: x by depth (leaves moved next to their consumer), y tidy-tree style."""
    order = topological_order(root)
    rank = {}
    for v in order:
        rank[id(v)] = 1 + max((rank[id(c)] for c in v._prev), default=-1)
    consumers = {id(v): [] for v in order}
    for v in order:
        for c in v._prev:
            consumers[id(c)].append(v)
    for v in order:   # a leaf sits one column left of its first consumer, not always at the far left
        if not v._prev and consumers[id(v)]:
            rank[id(v)] = min(rank[id(u)] for u in consumers[id(v)]) - 1
    y, slot = {}, [0]

    def place(node):   # leaves get consecutive slots in depth-first order; parents sit between children
        stack = [(node, False)]
        while stack:
            v, done = stack.pop()
            if id(v) in y:
                continue
            if not v._prev:
                y[id(v)] = -slot[0]
                slot[0] += 1
            elif done:
                y[id(v)] = sum(y[id(c)] for c in v._prev) / len(v._prev)
            else:
                stack.append((v, True))
                stack.extend((c, False) for c in reversed(v._prev))
    place(root)
    return {id(v): (2.6 * rank[id(v)], 1.15 * y[id(v)]) for v in order}, order


def draw_graph(ax, root, names, pos, shown_grads=None, done=(), active=None, title="", font=1.0):
    """One picture of the graph. shown_grads: {id: grad} to print (None = every grad); done/active: highlights.

    Grey arrows show the forward pass (inputs -> output); for the `active` node, red arrows point the
    other way: its gradient flowing back through its operation into its inputs.
    """
    order = topological_order(root)
    for v in order:
        vx, vy = pos[id(v)]
        if v._prev:   # the operation's circle, with arrows child -> op -> v
            ox, oy = vx - 1.3, vy
            flowing = active is not None and v is active
            style = {"arrowstyle": "-|>", "mutation_scale": 10, "zorder": 1,
                     "color": "#dc2626" if flowing else "#64748b", "lw": 2.4 if flowing else 1.0}
            for c in v._prev:
                cx, cy = pos[id(c)]
                ends = ((ox - OP_R, oy), (cx + BOX_W / 2, cy)) if flowing else ((cx + BOX_W / 2, cy), (ox - OP_R, oy))
                ax.add_patch(FancyArrowPatch(*ends, **style))
            ends = ((vx - BOX_W / 2, vy), (ox + OP_R, oy)) if flowing else ((ox + OP_R, oy), (vx - BOX_W / 2, vy))
            ax.add_patch(FancyArrowPatch(*ends, **style))
            ax.add_patch(Circle((ox, oy), OP_R, facecolor="white", edgecolor="#334155", zorder=2))
            ax.text(ox, oy, v._op, ha="center", va="center", fontsize=8 * font, zorder=3)
        kind = "output" if v is root else ("inner" if v._prev else "leaf")
        face = COLORS["active"] if v is active else (COLORS["done"] if id(v) in done else COLORS[kind])
        ax.add_patch(FancyBboxPatch((vx - BOX_W / 2, vy - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0.02",
                                    facecolor=face, edgecolor="#334155", zorder=2))
        grad = v.grad if shown_grads is None else shown_grads.get(id(v))
        grad_text = "grad  ?" if grad is None else f"grad {grad:+.4f}"
        ax.text(vx, vy + 0.2, names.get(id(v), v._op), ha="center", va="center", fontsize=8.5 * font, weight="bold",
                zorder=3)
        ax.text(vx, vy - 0.02, f"data {v.data:+.4f}", ha="center", va="center", fontsize=7.5 * font, zorder=3)
        ax.text(vx, vy - 0.22, grad_text, ha="center", va="center", fontsize=7.5 * font, zorder=3,
                color="#b91c1c" if grad is not None else "#94a3b8")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)


def figure_graph(engine, path):
    root, names = build_neuron(engine)
    root.backward()
    pos, _ = layout(root)
    fig, ax = plt.subplots(figsize=(11, 4.6))
    draw_graph(ax, root, names, pos)
    ax.set_title("o = tanh(x1*w1 + x2*w2 + b): forward values left to right, gradients do/d(box) from backward()",
                 fontsize=11)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=COLORS[k], edgecolor="#334155") for k in ("leaf", "inner", "output")]
    ax.legend(handles, ["input / weight (leaf)", "intermediate", "output"], loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return root, names


def figure_flow(engine, path):
    """The backward pass step by step, in reverse topological order: each step pushes one node's gradient
    to its inputs (red arrows). A node's gradient is final once every node that uses it has run."""
    root, names = build_neuron(engine)
    root.backward()
    pos, order = layout(root)
    steps = [v for v in reversed(order) if v._prev]   # nodes whose _backward does something
    fig, axes = plt.subplots(3, 2, figsize=(15, 13))
    known = {id(root): root.grad}
    processed = set()
    panels = [(None, "step 0: seed do/do = 1")] + [(v, f"step {k}: {names[id(v)]} pushes its gradient back")
                                                   for k, v in enumerate(steps, start=1)]
    for ax, (active, title) in zip(axes.ravel(), panels):
        if active is not None:
            for child in active._prev:
                known[id(child)] = child.grad
        draw_graph(ax, root, names, pos, shown_grads=dict(known), done=set(processed), active=active, title=title,
                   font=0.95)
        if active is not None:
            processed.add(id(active))
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.suptitle("Backward pass in reverse topological order: red = the gradient flowing back in this step, "
                 "yellow = nodes already processed, ? = not known yet", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return len(steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files (default: outputs/)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    engine = load_topic(2)
    root, _ = figure_graph(engine, out / "computation_graph.png")
    n_steps = figure_flow(engine, out / "backward_flow.png")
    print(f"o = {root.data:.4f}; wrote {out / 'computation_graph.png'} and {out / 'backward_flow.png'} "
          f"({n_steps} backward steps)")


if __name__ == "__main__":
    main()
