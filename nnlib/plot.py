"""Figures the chapters draw again and again: training curves, decision boundaries, activation
functions, grids of images.

matplotlib is imported inside each function, so ``import nnlib`` needs numpy only. Every function
returns what it drew on (Axes, or the Figure for a grid), so a page can add titles or limits.
"""
import math

import numpy as np


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
        _, ax = _subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5, 3.5),
                          squeeze=False)
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


def show_images(images, labels=None, ncols=8, cmap="gray", size=1.2):
    """Show images in a grid: digits, convolution filters, feature maps.

    ``images``: (n, H, W); (n, 1, H, W) (one channel, as convolutions store it); (n, H, W, 3)
    (RGB); or (n, D) with D a square number (flattened square images, as ``load_digits``
    returns them). ``labels``: optional titles, one per image. Each image is scaled to its own
    range, which is what filters need. Returns the Figure.
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
    fig, axes = _subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * nrows),
                          squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    return fig
