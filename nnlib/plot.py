"""Figures the chapters draw again and again: training curves, decision boundaries, activation
functions, grids of images; and the book's one figure style.

matplotlib is imported inside each function, so ``import nnlib`` needs numpy only. Every function
returns what it drew on (Axes, or the Figure for a grid), so a page can add titles or limits.
"""
import math
from pathlib import Path

import numpy as np

from .conv import conv_output_size

#: the book's style file: sizes and fonts chosen for the HTML book's text column
STYLE = Path(__file__).with_name("book.mplstyle")
#: width of the text column in inches (at the browser's 96 px per inch): a figure this wide or
#: narrower is shown at its drawn size, so its text reads at the size the style sets
COLUMN_WIDTH = 7.0


def use_book_style():
    """Apply the book's figure style; in a notebook, also have figures shown as SVG.

    Every chapter calls this once, after its imports. Figures are then drawn at most the text
    column wide, with their text a little smaller than the body text, and stay sharp at any zoom.
    """
    import matplotlib.pyplot as plt
    plt.style.use(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("svg")


def _subplots(*args, **kwargs):
    import matplotlib.pyplot as plt
    return plt.subplots(*args, **kwargs)


def _series(history, key):
    """``history.key`` or ``history[key]``; an empty list when the history has no such curve."""
    value = history.get(key) if isinstance(history, dict) else getattr(history, key, None)
    return list(value) if value is not None else []


def plot_history(history, ax=None):
    """Loss (left) and accuracy (right) per epoch, training and validation.

    ``history``: a ``nnlib.train.History`` or a dict with lists ``loss``, ``val_loss``,
    ``accuracy``, ``val_accuracy`` (missing or empty curves are skipped) and optionally
    ``best_epoch`` (0-based), marked by a dotted vertical line.

    ``ax``: None (a new figure, two panels when there is an accuracy curve), one Axes (the
    losses only) or a pair of Axes. Returns the list of Axes drawn on.
    """
    has_acc = bool(_series(history, "accuracy") or _series(history, "val_accuracy"))
    if ax is None:
        _, ax = _subplots(1, 2 if has_acc else 1, squeeze=False,
                          figsize=(COLUMN_WIDTH if has_acc else COLUMN_WIDTH * 0.6, 3.2))
        axes = list(ax.ravel())
    else:
        axes = list(np.ravel(ax))
    panels = [("loss", "loss"), ("accuracy", "accuracy")][:len(axes)]
    best = history.get("best_epoch") if isinstance(history, dict) else getattr(
        history, "best_epoch", None)
    for a, (key, ylabel) in zip(axes, panels):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = _series(history, prefix + key)
            if values:
                epochs = np.arange(1, len(values) + 1)
                a.plot(epochs, values, style, marker="." if len(values) < 30 else None,
                       label=("validation " if prefix else "training ") + key)
        if best is not None:
            a.axvline(best + 1, color="0.5", linestyle=":", label="best epoch")
        a.set_xlabel("epoch")
        a.set_ylabel(ylabel)
        a.legend()
        a.grid(alpha=0.3)
    return axes


def plot_decision_boundary(predict_fn, X, y, ax=None, resolution=200, margin=0.5, cmap="coolwarm"):
    """Colour the plane by the class ``predict_fn`` gives each point, and scatter the data on top.

    ``predict_fn``: maps an array (m, 2) to class labels (m,); scores (m, C) are turned into
    labels by argmax, a single column of probabilities (m, 1) by thresholding at 0.5.
    ``X`` (n, 2) and ``y`` (n,) are the data; the grid covers them plus ``margin`` on every side
    with ``resolution`` points per axis. Returns the Axes.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if ax is None:
        _, ax = _subplots(figsize=(5, 4.5))
    (x0, y0), (x1, y1) = X.min(0) - margin, X.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    out = np.asarray(predict_fn(np.column_stack([gx.ravel(), gy.ravel()])))
    if out.ndim == 2:
        out = out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0.5)
    labels = out.astype(int).reshape(gx.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(labels)]))
    levels = np.append(classes, classes[-1] + 1) - 0.5
    vmin, vmax = classes.min(), classes.max()
    ax.contourf(gx, gy, labels, levels=levels, cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=vmin, vmax=vmax, s=14, edgecolors="k",
               linewidths=0.4)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_activation(fn, grad_fn=None, x=None, ax=None, label=None):
    """Plot an activation function ``fn`` and, if given, its derivative ``grad_fn`` (dashed).

    ``x`` defaults to 401 points on [-5, 5]. ``label`` defaults to the function's name; the
    derivative is labelled with a prime. Returns the Axes.
    """
    if x is None:
        x = np.linspace(-5, 5, 401)
    if ax is None:
        _, ax = _subplots(figsize=(5, 3.5))
    if label is None:
        label = getattr(fn, "__name__", type(fn).__name__)
    ax.plot(x, fn(x), label=label)
    if grad_fn is not None:
        ax.plot(x, grad_fn(x), "--", label=label + "'")
    ax.set_xlabel("x")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def show_images(images, labels=None, ncols=8, cmap="gray", size=None):
    """Show images in a grid: digits, convolution filters, feature maps.

    ``images``: (n, H, W); (n, 1, H, W) (one channel, as convolutions store it); (n, H, W, 3)
    (RGB); or (n, D) with D a square number (flattened square images, as ``load_digits``
    returns them). ``labels``: optional titles, one per image. Each image is scaled to its own
    range, which is what filters need. ``size``: inches per image, by default what fits
    ``ncols`` images in the text column (at most 1.2). Returns the Figure.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"show_images: flattened images must have a square number of "
                             f"pixels, got {images.shape[1]}")
        images = images.reshape(-1, side, side)
    elif images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
        raise ValueError(f"show_images: expected images of shape (n, H, W), (n, 1, H, W), "
                         f"(n, H, W, 3) or (n, H*W), got {images.shape}")
    n = len(images)
    if labels is not None and len(labels) != n:
        raise ValueError(f"show_images: {n} images but {len(labels)} labels")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    if size is None:
        size = min(1.2, COLUMN_WIDTH / ncols)
    fig, axes = _subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * nrows),
                          squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    return fig


# Diagrams: schematic drawings built from three shapes (a node, a box, an arrow) on an Axes with
# equal scale and no frame. Each part carries its label as its matplotlib ``gid``, so a test (or a
# page) can find it; a new diagram (an attention block, say) is drawn from the same three shapes.

def _canvas(ax, width, height, figsize):
    if ax is None:
        _, ax = _subplots(figsize=figsize)
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(-0.2, height + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _node(ax, xy, text, gid, radius=0.32, color="white", fontsize=None):
    """A circle with a label inside: an input, a neuron, a sum or a product."""
    from matplotlib.patches import Circle
    ax.add_patch(Circle(xy, radius, facecolor=color, edgecolor="0.2", lw=1.2, gid=gid, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=4, gid=gid + " label")


def _box(ax, xy, width, height, text, gid, color="#e8eef7", fontsize=None):
    """A rounded box centred at ``xy`` with a label: an activation, a gate, a layer."""
    from matplotlib.patches import FancyBboxPatch
    x, y = xy[0] - width / 2, xy[1] - height / 2
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor="0.2", lw=1.2, gid=gid, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=4, gid=gid + " label")


def _arrow(ax, start, end, gid, text=None, text_at=0.5, offset=(0, 0.12), head=True, color="0.25"):
    """A straight arrow from ``start`` to ``end``, with an optional label along it."""
    from matplotlib.patches import FancyArrowPatch
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-", mutation_scale=12,
                                 color=color, lw=1.1, shrinkA=0, shrinkB=0, gid=gid, zorder=2))
    if text is not None:
        x = start[0] + text_at * (end[0] - start[0]) + offset[0]
        y = start[1] + text_at * (end[1] - start[1]) + offset[1]
        ax.text(x, y, text, ha="center", va="bottom", zorder=4, gid=gid + " label")


def parts(ax):
    """The labelled parts of a diagram: the ``gid`` of every shape and text on ``ax``."""
    return {artist.get_gid() for artist in ax.get_children() if artist.get_gid()}


def draw_neuron(n_inputs=3, activation="f", ax=None):
    """A neuron: inputs x_1..x_n, each arrow weighted by w_i, into a sum with the bias b, giving
    z = w . x + b, then the activation f, giving the output a = f(z).

    Parts (gids): ``input i``, ``weight i`` (i from 1), ``bias``, ``sum``, ``activation``,
    ``output``. Returns the Axes.
    """
    if n_inputs < 1:
        raise ValueError(f"draw_neuron: n_inputs must be at least 1, got {n_inputs}")
    height = max(2.0, 1.0 * n_inputs)
    ax = _canvas(ax, 8.2, height, figsize=(COLUMN_WIDTH * 0.8, max(2.2, 0.75 * height + 0.6)))
    mid = height / 2
    total = (3.6, mid)
    names = [f"$x_{{{i}}}$" if n_inputs <= 4 or i < n_inputs else "$x_n$"
             for i in range(1, n_inputs + 1)]
    for k, name in enumerate(names, start=1):
        y = height - (k - 0.5) * height / n_inputs
        _node(ax, (0.4, y), name, f"input {k}")
        weight = name.replace("x", "w")
        _arrow(ax, (0.72, y), (total[0] - 0.34, total[1] + 0.3 * (y - mid) / max(mid, 1)),
               f"weight {k}", text=weight, text_at=0.35, offset=(0, 0.05))
    _node(ax, (total[0], height - 0.05 if height > 2 else height), "1", "bias input", radius=0.22,
          color="0.92")
    _arrow(ax, (total[0], (height - 0.05 if height > 2 else height) - 0.22),
           (total[0], total[1] + 0.34), "bias", text="$b$", text_at=0.5, offset=(0.22, -0.1))
    _node(ax, total, r"$\Sigma$", "sum", radius=0.36)
    _box(ax, (5.6, mid), 1.0, 0.8, f"${activation}$", "activation")
    _arrow(ax, (total[0] + 0.36, mid), (5.1, mid), "pre-activation", text="$z$")
    _arrow(ax, (6.1, mid), (7.5, mid), "output", text=f"$a = {activation}(z)$", text_at=0.55)
    return ax


def draw_network(layer_sizes=(2, 3, 1), layer_names=None, ax=None):
    """A fully connected network: one column of neurons per layer, every neuron joined to every
    neuron of the next layer (the weights of a ``Linear`` layer).

    ``layer_sizes``: neurons per layer, input first. ``layer_names``: one caption per layer,
    by default "input", "hidden 1", ..., "output". Parts (gids): ``layer l neuron j`` and
    ``weight l j k`` (from neuron j of layer l to neuron k of layer l + 1), ``layer l name``.
    Returns the Axes.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"draw_network: need at least two layers of at least one neuron, got "
                         f"{tuple(layer_sizes)}")
    if layer_names is None:
        layer_names = ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"]
    if len(layer_names) != len(sizes):
        raise ValueError(f"draw_network: {len(sizes)} layers but {len(layer_names)} names")
    gap, step = 2.2, 0.9
    height = step * max(sizes)
    width = gap * (len(sizes) - 1) + 0.8
    ax = _canvas(ax, width, height + 0.5, figsize=(min(COLUMN_WIDTH, 1.2 + 1.5 * len(sizes)),
                                                  0.55 * (height + 0.5) + 0.4))
    ax.set_ylim(-0.6, height + 0.3)

    def centre(layer, j):
        return (0.4 + gap * layer, height - (j + 0.5) * height / sizes[layer])

    for layer in range(len(sizes) - 1):
        for j in range(sizes[layer]):
            for k in range(sizes[layer + 1]):
                (x0, y0), (x1, y1) = centre(layer, j), centre(layer + 1, k)
                ax.plot([x0, x1], [y0, y1], color="0.55", lw=0.8, zorder=1,
                        gid=f"weight {layer} {j} {k}")
    for layer, size in enumerate(sizes):
        for j in range(size):
            _node(ax, centre(layer, j), "", f"layer {layer} neuron {j}", radius=0.28,
                  color="#e8eef7" if 0 < layer < len(sizes) - 1 else "white")
        ax.text(0.4 + gap * layer, -0.45, layer_names[layer], ha="center", va="center",
                gid=f"layer {layer} name")
    return ax


def draw_convolution(size=5, kernel_size=3, stride=1, padding=0, position=(0, 0), ax=None):
    """A convolution window on its input, and the output cell it computes.

    Left: the ``size`` x ``size`` input, with ``padding`` rings of zeros (hatched) around it,
    and the ``kernel_size`` window at output ``position`` (row, column), which starts at input
    cell (row * stride, column * stride) of the padded grid; a dashed outline shows where the
    window goes next, ``stride`` cells to the right. Right: the output grid, of side
    floor((size + 2 padding - kernel_size) / stride) + 1, with the cell the window computes.
    Call it for successive positions (one Axes each) to show the window sliding.

    Parts (gids): ``input cell r c`` and ``padding cell r c`` (in padded coordinates),
    ``window``, ``next window``, ``output cell r c``, ``computed cell``, ``input name``,
    ``output name``. Returns the Axes.
    """
    from matplotlib.patches import Rectangle
    out = conv_output_size(size, kernel_size, stride, padding)
    if out < 1:
        raise ValueError(f"draw_convolution: a {kernel_size} x {kernel_size} kernel does not fit a "
                         f"{size} x {size} input with padding {padding}")
    row, col = position
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"draw_convolution: position {position} is outside the {out} x {out} "
                         f"output")
    full = size + 2 * padding
    gap = 1.5
    ax = _canvas(ax, full + gap + out, full + 1.0,
                 figsize=(min(COLUMN_WIDTH, 0.34 * (full + gap + out) + 0.4), 0.34 * full + 0.8))
    ax.set_ylim(-1.0, full + 0.2)

    def cell(x0, r, c, gid, **style):
        ax.add_patch(Rectangle((x0 + c, full - 1 - r), 1, 1, gid=gid, **style))

    for r in range(full):
        for c in range(full):
            pad = not (padding <= r < padding + size and padding <= c < padding + size)
            cell(0, r, c, f"{'padding' if pad else 'input'} cell {r} {c}", facecolor="0.93"
                 if pad else "white", edgecolor="0.6", lw=0.6, hatch="///" if pad else None)
    top, left = row * stride, col * stride
    ax.add_patch(Rectangle((left, full - top - kernel_size), kernel_size, kernel_size,
                           facecolor="#1f77b4", alpha=0.3, edgecolor="#1f77b4", lw=2, gid="window",
                           zorder=3))
    if left + stride + kernel_size <= full:
        ax.add_patch(Rectangle((left + stride, full - top - kernel_size), kernel_size, kernel_size,
                               fill=False, edgecolor="#1f77b4", lw=1.2, ls="--", gid="next window",
                               zorder=3))
    x_out = full + gap
    y_shift = (full - out) / 2
    for r in range(out):
        for c in range(out):
            computed = (r, c) == (row, col)
            ax.add_patch(Rectangle((x_out + c, full - 1 - r - y_shift), 1, 1,
                                   facecolor="#1f77b4" if computed else "white",
                                   alpha=0.6 if computed else 1, edgecolor="0.4", lw=0.8,
                                   gid="computed cell" if computed else f"output cell {r} {c}"))
    _arrow(ax, (left + kernel_size, full - top - kernel_size / 2),
           (x_out + col, full - row - 0.5 - y_shift), "window to output", color="#1f77b4")
    ax.text(full / 2, -0.55, f"input {size}×{size}" + (f", padding {padding}" if padding else "")
            + f", stride {stride}", ha="center", va="center", gid="input name")
    ax.text(x_out + out / 2, -0.55, f"output {out}×{out}", ha="center", va="center",
            gid="output name")
    return ax


def draw_lstm_cell(ax=None):
    """An LSTM cell: the cell state c runs along the top, scaled by the forget gate and added to by
    the input gate times the candidate; the output gate reads tanh(c_t) into the new hidden state.

        f = σ(W_f [h_{t-1}, x_t] + b_f)    i = σ(W_i [...] + b_i)
        g = tanh(W_g [...] + b_g)          o = σ(W_o [...] + b_o)
        c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)

    Parts (gids): ``forget gate``, ``input gate``, ``candidate``, ``output gate``, ``forget
    product``, ``input product``, ``cell sum``, ``output tanh``, ``output product``, ``c_prev``,
    ``c_next``, ``h_prev``, ``x``, ``h_next``. Returns the Axes.
    """
    ax = _canvas(ax, 10.0, 5.6, figsize=(COLUMN_WIDTH * 0.85, COLUMN_WIDTH * 0.85 * 0.56))
    top, gates_y, bottom = 4.8, 2.0, 0.35
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch(
        (1.3, 0.9), 7.4, 4.5, boxstyle="round,pad=0.05,rounding_size=0.3", facecolor="#f7f7f7",
        edgecolor="0.5", lw=1.0, zorder=0, gid="cell"))
    xs = {"forget gate": 2.4, "input gate": 4.0, "candidate": 5.4, "output gate": 7.0}
    faces = {"forget gate": r"$\sigma$", "input gate": r"$\sigma$", "candidate": r"$\tanh$",
             "output gate": r"$\sigma$"}
    letters = {"forget gate": "$f$", "input gate": "$i$", "candidate": "$g$", "output gate": "$o$"}
    # the shared input [h_{t-1}, x_t] runs along the bottom and up into each gate
    ax.plot([1.0, 7.0], [1.3, 1.3], color="0.25", lw=1.1, zorder=1, gid="gate input")
    _node(ax, (0.3, 1.3), "$h_{t-1}$", "h_prev", radius=0.45, fontsize=9)
    _node(ax, (2.4, bottom), "$x_t$", "x", radius=0.3)
    _arrow(ax, (0.72, 1.3), (1.0, 1.3), "h_prev in", head=False)
    _arrow(ax, (2.4, bottom + 0.3), (2.4, 1.3), "x in", head=False)
    for name, x in xs.items():
        _arrow(ax, (x, 1.3), (x, gates_y - 0.3), f"{name} in")
        _box(ax, (x, gates_y), 0.9, 0.6, faces[name], name, color="#fde9c9")
        ax.text(x + 0.55, gates_y - 0.45, letters[name], gid=f"{name} letter")
    # the cell state along the top
    _node(ax, (0.3, top), "$c_{t-1}$", "c_prev", radius=0.45, fontsize=9)
    _arrow(ax, (0.72, top), (2.4 - 0.25, top), "c in")
    _node(ax, (2.4, top), r"$\times$", "forget product", radius=0.25)
    _arrow(ax, (2.4 + 0.25, top), (4.7 - 0.25, top), "c kept")
    _node(ax, (4.7, top), "$+$", "cell sum", radius=0.25)
    _arrow(ax, (4.7 + 0.25, top), (9.28, top), "c out")
    _node(ax, (9.7, top), "$c_t$", "c_next", radius=0.42, color="white")
    _arrow(ax, (2.4, gates_y + 0.3), (2.4, top - 0.25), "forget to product")
    _node(ax, (4.7, 3.3), r"$\times$", "input product", radius=0.25)
    _arrow(ax, (4.0, gates_y + 0.3), (4.55, 3.3 - 0.2), "input to product")
    _arrow(ax, (5.4, gates_y + 0.3), (4.85, 3.3 - 0.2), "candidate to product")
    _arrow(ax, (4.7, 3.55), (4.7, top - 0.25), "product to sum")
    # the output: h_t = o * tanh(c_t)
    _box(ax, (8.0, 3.9), 0.8, 0.45, r"$\tanh$", "output tanh", color="#e8eef7")
    _arrow(ax, (8.0, top), (8.0, 3.9 + 0.23), "c to tanh")
    _node(ax, (8.0, 2.9), r"$\times$", "output product", radius=0.25)
    _arrow(ax, (8.0, 3.9 - 0.23), (8.0, 3.15), "tanh to product")
    _arrow(ax, (7.0 + 0.45, gates_y), (8.0 - 0.22, 2.9 - 0.12), "output to product")
    _arrow(ax, (8.25, 2.9), (9.28, 2.9), "h out")
    _node(ax, (9.7, 2.9), "$h_t$", "h_next", radius=0.42, color="white")
    return ax


def draw_transformer_block(norm_first=False, ax=None):
    """A transformer encoder block, as ``TransformerEncoderLayer`` computes it, left to right:
    multi-head self-attention (queries, keys and values all from the input x), added back to its
    input by a residual connection, then a position-wise feed-forward network (linear1, the
    activation, linear2), added back the same way. Post-norm (``norm_first=False``, the 2017
    paper and PyTorch's default) puts LayerNorm after each sum:

        x = norm1(x + self_attn(x));   x = norm2(x + ff(x))

    pre-norm (``norm_first=True``) puts it at the start of each branch, so the residual path from
    input to output passes through nothing but sums:

        x = x + self_attn(norm1(x));   x = x + ff(norm2(x))

    Parts (gids): ``input``, ``self-attention``, ``feed-forward``, ``norm1``, ``norm2``,
    ``add 1``, ``add 2``, ``residual 1``, ``residual 2``, ``output``, ``queries``, ``keys``,
    ``values``. Returns the Axes.
    """
    ax = _canvas(ax, 12.4, 3.4, figsize=(COLUMN_WIDTH, COLUMN_WIDTH * 3.6 / 12.8))
    mid, arc = 1.3, 2.9
    _node(ax, (0.4, mid), "$x$", "input", radius=0.36)
    # each stage: (x position, gid, label, width); the norms go where norm_first puts them
    if norm_first:
        stages = [(2.2, "norm1", "layer\nnorm", 1.2), (4.1, "self-attention", "multi-head\nattention", 1.8),
                  (5.6, "add 1", None, None), (7.2, "norm2", "layer\nnorm", 1.2),
                  (9.1, "feed-forward", "feed-\nforward", 1.4), (10.5, "add 2", None, None)]
        branches = {"residual 1": (1.1, 5.6), "residual 2": (6.1, 10.5)}
    else:
        stages = [(2.2, "self-attention", "multi-head\nattention", 1.8), (3.8, "add 1", None, None),
                  (5.4, "norm1", "layer\nnorm", 1.2), (7.3, "feed-forward", "feed-\nforward", 1.4),
                  (8.8, "add 2", None, None), (10.4, "norm2", "layer\nnorm", 1.2)]
        branches = {"residual 1": (1.0, 3.8), "residual 2": (6.3, 8.8)}
    right_edge = 0.76
    for x, gid, label, width in stages:
        left = x - (width / 2 if width else 0.25)
        _arrow(ax, (right_edge, mid), (left, mid), f"into {gid}")
        if width:
            color = "#fde9c9" if gid in ("self-attention", "feed-forward") else "#e8eef7"
            _box(ax, (x, mid), width, 1.0, label, gid, color=color, fontsize=9)
            right_edge = x + width / 2
        else:
            _node(ax, (x, mid), "$+$", gid, radius=0.25)
            right_edge = x + 0.25
    _arrow(ax, (right_edge, mid), (11.9, mid), "into output")
    ax.text(12.2, mid, "$y$", ha="center", va="center", gid="output")
    # the residual connections: up from the branch point, along the top, down into the sum
    for gid, (x0, x1) in branches.items():
        ax.plot([x0, x0, x1], [mid, arc, arc], color="0.25", lw=1.1, zorder=1, gid=gid)
        _arrow(ax, (x1, arc), (x1, mid + 0.25), gid + " in")
    # queries, keys and values all come from the same input: self-attention
    attn_x = next(x for x, gid, *_ in stages if gid == "self-attention")
    for k, name in enumerate(("queries", "keys", "values")):
        ax.text(attn_x - 0.5 + 0.5 * k, mid - 0.85, "QKV"[k], ha="center", va="center",
                fontsize=9, gid=name)
    ax.text(6.2, 0.05, "pre-norm: x + f(LayerNorm(x))" if norm_first else
            "post-norm: LayerNorm(x + f(x))", ha="center", va="center", gid="rule")
    return ax
