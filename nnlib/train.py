"""The training loop, written once so every chapter after "training" can call ``fit``.

One epoch is the loop every framework runs:

    model.train()
    for xb, yb in mini-batches (a new shuffle each epoch):
        optimizer.zero_grad()                  # .grad = 0, backward adds into it
        pred = model(xb)                       # forward
        loss = loss_fn(pred, yb)
        model.backward(loss_fn.backward())     # dL/dpred, then the chain rule layer by layer
        optimizer.step()                       # update the weights from .grad
    model.eval(); evaluate on the validation set

``fit`` adds the bookkeeping around it: a ``History`` of the curves, a learning-rate schedule,
early stopping that puts back the best epoch's weights, and one line of progress per epoch
(on stdout: notebooks and nbgrader treat anything on stderr as an error).
"""
import math
import time

import numpy as np

from .data import batches


class History:
    """Per-epoch curves of one ``fit``: lists ``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``, ``lr`` (index 0 is the first epoch), and

    * ``best_epoch``: the epoch (0-based) with the best monitored value (the validation loss when
      there is validation data, else the training loss; early stopping's own choice when given);
    * ``stopped_early``: True when early stopping ended training (the best weights were then put
      back into the model); ``diverged``: True when the loss became inf or nan.
    """

    def __init__(self):
        self.loss, self.accuracy, self.val_loss, self.val_accuracy, self.lr = [], [], [], [], []
        self.best_epoch = None
        self.stopped_early = False
        self.diverged = False

    @property
    def epochs(self):
        return len(self.loss)

    def __repr__(self):
        last = {k: round(v[-1], 4) for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                if (v := getattr(self, k))}
        return f"History(epochs={self.epochs}, best_epoch={self.best_epoch}, last={last})"


def _threshold(loss_fn):
    """Binary outputs are logits (threshold 0) for BCEWithLogitsLoss, else probabilities (0.5)."""
    return 0.0 if type(loss_fn).__name__ == "BCEWithLogitsLoss" else 0.5


def _labels(pred, threshold):
    """Class labels from model outputs: argmax of scores (n, C); a threshold for one column."""
    pred = np.asarray(pred)
    if pred.ndim == 2 and pred.shape[1] > 1:
        return pred.argmax(axis=1)
    pred = pred.reshape(len(pred))
    return pred if pred.dtype.kind in "iub" else (pred > threshold).astype(np.int64)


def accuracy(pred, y, threshold=0.5):
    """Fraction of correct predictions.

    ``pred``: scores or logits (n, C) (the class is the argmax), one column (n,) or (n, 1) of
    probabilities (class 1 when above ``threshold``; use 0 for logits), or integer labels (n,).
    ``y``: labels (n,), binary targets (n, 1), or one-hot rows (n, C).
    """
    y = np.asarray(y)
    if len(pred) != len(y):
        raise ValueError(f"accuracy: {len(pred)} predictions but {len(y)} targets")
    target = _labels(y, 0.5)
    return float(np.mean(_labels(pred, threshold) == target))


def predict(model, X, batch_size=256):
    """Model outputs for all of ``X``, in evaluation mode (dropout off, batch norm's running
    statistics), computed in batches. The model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        out = [model(xb) for xb in batches(X, batch_size=batch_size, shuffle=False)]
    finally:
        model.train(was_training)
    return np.concatenate(out)


def evaluate(model, loss_fn, X, y, batch_size=256, metric="accuracy"):
    """Average loss on ``(X, y)`` in evaluation mode, and the accuracy (None when ``metric`` is
    None). Returns ``(loss, accuracy)``."""
    pred = predict(model, X, batch_size)
    loss = loss_fn(pred, y)
    acc = accuracy(pred, y, _threshold(loss_fn)) if metric == "accuracy" else None
    return float(loss), acc


def _progress(epoch, epochs, history, seconds):
    parts = [f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = getattr(history, key)
        if values:
            parts.append(f"{key} {values[-1]:.4f}")
    parts.append(f"{seconds:.2f} s")
    print("  ".join(parts), flush=True)


def fit(model, loss_fn, optimizer, X, y, epochs, batch_size=32, val_data=None, scheduler=None,
        early_stopping=None, metric="accuracy", seed=0, verbose=True):
    """Train ``model`` with mini-batch gradient descent; return a ``History``.

    X, y: training inputs and targets (as ``loss_fn`` takes them: class labels (n,) for
        ``CrossEntropyLoss``, an (n, 1) array for the binary and regression losses).
    epochs: passes over the training set. batch_size: samples per step (last batch smaller).
    val_data: optional ``(X_val, y_val)``, evaluated after every epoch in ``model.eval()`` mode.
    scheduler: optional, ``scheduler.step()`` after every epoch (``StepLR``).
    early_stopping: optional ``EarlyStopping`` (a fresh one per ``fit``), fed the validation
        loss -- or the validation accuracy if its mode is "max" -- (training values without
        val_data). When it fires, training stops and the weights of its best epoch are loaded
        back, from a ``state_dict`` saved at that epoch.
    metric: "accuracy" to record accuracies (classification), None for regression.
    seed: seeds the shuffling, so a run is reproducible (weights are seeded when building the
        model). verbose: True prints one line per epoch on stdout, an int k every k-th epoch,
        False nothing.

    The model is left in evaluation mode, ready for ``predict``.

    ``accuracy`` and ``loss`` of an epoch average its mini-batches, measured while the weights
    were still changing (as Keras reports them); ``val_*`` use the weights at the epoch's end.
    """
    if metric not in ("accuracy", None):
        raise ValueError(f"fit: metric must be 'accuracy' or None, got {metric!r}")
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)}")
    rng = np.random.default_rng(seed)
    threshold = _threshold(loss_fn)
    every = int(verbose)
    history, best_state = History(), None
    monitor = "val_" if val_data is not None else ""
    monitor += "accuracy" if early_stopping is not None and early_stopping.mode == "max" else "loss"
    if monitor.endswith("accuracy") and metric is None:
        raise ValueError("fit: early stopping in mode 'max' watches the accuracy; pass "
                         "metric='accuracy'")

    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        total_loss, correct = 0.0, 0
        # a diverging run overflows; it is reported below, not as warnings on stderr
        with np.errstate(over="ignore", invalid="ignore"):
            for xb, yb in batches(X, y, batch_size, rng=rng):
                optimizer.zero_grad()
                pred = model(xb)
                loss = loss_fn(pred, yb)
                model.backward(loss_fn.backward())
                optimizer.step()
                total_loss += loss * len(xb)
                if metric is not None:
                    correct += accuracy(pred, yb, threshold) * len(xb)
        history.loss.append(total_loss / len(X))
        if metric is not None:
            history.accuracy.append(correct / len(X))
        history.lr.append(getattr(optimizer, "lr", None))
        if val_data is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                val_loss, val_acc = evaluate(model, loss_fn, *val_data, metric=metric)
            history.val_loss.append(val_loss)
            if metric is not None:
                history.val_accuracy.append(val_acc)
        if scheduler is not None:
            scheduler.step()

        current = getattr(history, monitor)[-1]
        if not math.isfinite(history.loss[-1]):
            history.diverged = True
        stop = False
        if early_stopping is not None:
            stop = early_stopping.step(current)
            if early_stopping.best_epoch == early_stopping.epoch:   # improved this epoch
                best_state, history.best_epoch = model.state_dict(), epoch
        else:
            values = getattr(history, monitor)
            pick = np.nanargmax if monitor.endswith("accuracy") else np.nanargmin
            history.best_epoch = int(pick(values)) if np.isfinite(values).any() else None

        last = stop or history.diverged or epoch == epochs - 1
        if every and ((epoch + 1) % every == 0 or last):
            _progress(epoch, epochs, history, time.perf_counter() - start)
        if history.diverged:
            if verbose:
                print(f"stopped: the loss became {history.loss[-1]} in epoch {epoch + 1}; "
                      f"try a smaller learning rate", flush=True)
            break
        if stop:
            history.stopped_early = True
            if best_state is not None:
                model.load_state_dict(best_state)
            if verbose:
                print(f"early stopping: no improvement of {monitor} for "
                      f"{early_stopping.patience} epochs; restored the weights of epoch "
                      f"{history.best_epoch + 1}", flush=True)
            break
    model.eval()
    return history
