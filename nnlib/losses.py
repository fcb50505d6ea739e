"""Loss functions, averaged over the batch as PyTorch's default ``reduction="mean"``.

``loss = criterion(pred, target)`` returns the loss as a Python float and remembers what the
gradient needs; ``criterion.backward()`` returns dL/dpred, an array of pred's shape and dtype,
which is where the backward pass through the model starts: ``model.backward(criterion.backward())``.
"""
import numpy as np

from . import functional as F
from .module import Module, as_float_array, describe

_BCE_EPS = float(np.float32(1e-12))


class _Loss(Module):
    def forward(self, pred, target):
        raise NotImplementedError

    @np.errstate(under="ignore")   # tiny gradients rounding to 0 are fine
    def backward(self, grad_output=1.0):
        """dL/dpred, times ``grad_output`` (dL_total/dL, 1 when this loss is the objective)."""
        return self._grad(*self.saved()) * grad_output

    def _same_shape(self, pred, target):
        pred, target = as_float_array(pred), np.asarray(target)
        if pred.shape != target.shape:
            raise ValueError(f"{describe(self)}: pred and target must have the same shape, got pred "
                             f"{pred.shape} and target {target.shape}")
        return pred, target.astype(pred.dtype, copy=False)


class MSELoss(_Loss):
    """L = mean (pred - target)^2 over all n elements;  dL/dpred = 2 (pred - target) / n."""

    def forward(self, pred, target):
        pred, target = self._same_shape(pred, target)
        diff = pred - target
        self._cache = (diff,)
        return float(np.mean(diff * diff))

    def _grad(self, diff):
        return diff * (2 / diff.size)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p in [0, 1] and targets t (same shape):

        L = -mean [ t log p + (1 - t) log(1 - p) ],  each log clamped to >= -100 as in PyTorch,
            so p = 0 or 1 gives a large finite loss, not inf;
        dL/dp = (p - t) / (p (1 - p)) / n,  with p (1 - p) clamped to >= 1e-12 as in PyTorch
            (whose 1e-12 is a float32 constant, hence the value of ``_BCE_EPS``).

    A sigmoid followed by this loss is better computed by ``BCEWithLogitsLoss``.
    """

    def forward(self, pred, target):
        p, t = self._same_shape(pred, target)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(f"{describe(self)}: pred must hold probabilities in [0, 1], got values "
                             f"in [{p.min()}, {p.max()}]; for raw scores use BCEWithLogitsLoss")
        with np.errstate(divide="ignore"):   # log(0) = -inf, clamped to -100 just below
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        self._cache = (p, t)
        return float(-np.mean(t * log_p + (1 - t) * log_1mp))

    def _grad(self, p, t):
        return (p - t) / np.maximum(p * (1 - p), _BCE_EPS) / p.size


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on raw scores z (logits), p = sigmoid(z), in one stable expression:

        L = mean [ max(z, 0) - z t + log(1 + e^-|z|) ]    (never exponentiates a positive number)
        dL/dz = (sigmoid(z) - t) / n
    """

    def forward(self, pred, target):
        z, t = self._same_shape(pred, target)
        with np.errstate(under="ignore"):
            softplus = np.log1p(np.exp(-np.abs(z)))
        self._cache = (z, t)
        return float(np.mean(np.maximum(z, 0) - z * t + softplus))

    def _grad(self, z, t):
        return (F.sigmoid(z) - t) / z.size


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits z (N, C) and integer class labels y (N,), y_n in [0, C):

        L = -mean_n log softmax(z_n)[y_n]     (computed with log_softmax: stable for any logits)
        dL/dz = (softmax(z) - onehot(y)) / N  (N, C)
    """

    def forward(self, pred, target):
        z, y = as_float_array(pred), np.asarray(target)
        if z.ndim != 2:
            raise ValueError(f"{describe(self)}: expected logits of shape (batch, classes), "
                             f"got {z.shape}")
        n, c = z.shape
        if y.shape != (n,):
            raise ValueError(f"{describe(self)}: expected target of shape ({n},) (one class label "
                             f"per row of the logits {z.shape}), got {y.shape}")
        if y.dtype.kind not in "iu":
            raise ValueError(f"{describe(self)}: target must hold integer class labels, got dtype "
                             f"{y.dtype}")
        if n and (y.min() < 0 or y.max() >= c):
            raise ValueError(f"{describe(self)}: class labels must be in [0, {c - 1}] for {c} "
                             f"classes, got labels in [{y.min()}, {y.max()}]")
        log_p = F.log_softmax(z, axis=1)
        self._cache = (log_p, y)
        return float(-log_p[np.arange(n), y].mean())

    def _grad(self, log_p, y):
        grad = np.exp(log_p)                      # softmax(z)
        grad[np.arange(len(y)), y] -= 1
        return grad / len(y)
