"""Activation functions and their derivatives, as plain functions of numpy arrays.

``import nnlib.functional as F`` mirrors ``torch.nn.functional as F``. Every function

* keeps the dtype of a float32 or float64 input (other inputs become float64);
* is stable for any finite input: no overflow, no ``0 * inf``, no ``log(0)``. Results that are
  smaller than the smallest float (``sigmoid(-1e4)``) round to 0 silently, which is the correctly
  rounded answer, so underflow is never reported even under ``np.errstate(all="raise")``.

The derivatives are taken with respect to the input and evaluated at ``x``; at the kink of ReLU
(x = 0) they take PyTorch's value, 0 for ``relu_grad`` and ``negative_slope`` for
``leaky_relu_grad``.
"""
import numpy as np

# used only as a decorator, which numpy makes safe to nest and to share between functions
_quiet_underflow = np.errstate(under="ignore")


def _float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def step(x):
    """Heaviside step: 1 where x >= 0, else 0 (the perceptron's activation)."""
    x = _float(x)
    return (x >= 0).astype(x.dtype)


@_quiet_underflow
def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x).

    Computed from e = e^-|x| <= 1, which never overflows:
    sigma(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 (the same value, rearranged).
    """
    x = _float(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


@_quiet_underflow
def sigmoid_grad(x):
    """d sigma / dx = sigma(x) (1 - sigma(x))."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x), in (-1, 1)."""
    return np.tanh(_float(x))


@_quiet_underflow
def tanh_grad(x):
    """d tanh / dx = 1 - tanh(x)^2."""
    t = tanh(x)
    return 1 - t * t


def relu(x):
    """relu(x) = max(x, 0)."""
    return np.maximum(_float(x), 0)


def relu_grad(x):
    """d relu / dx = 1 where x > 0, else 0."""
    x = _float(x)
    return (x > 0).astype(x.dtype)


@_quiet_underflow
def leaky_relu(x, negative_slope=0.01):
    """leaky_relu(x) = x where x > 0, else negative_slope * x."""
    x = _float(x)
    return np.where(x > 0, x, x * negative_slope)


def leaky_relu_grad(x, negative_slope=0.01):
    """d leaky_relu / dx = 1 where x > 0, else negative_slope."""
    x = _float(x)
    return np.where(x > 0, 1, negative_slope).astype(x.dtype)


@_quiet_underflow
def softmax(x, axis=-1):
    """softmax(x)_i = e^{x_i} / sum_j e^{x_j} along ``axis``.

    Subtracting m = max_j x_j first changes nothing (the factor e^-m cancels) and makes every
    exponent <= 0, so nothing overflows and the largest term is exactly 1.
    """
    x = _float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@_quiet_underflow
def log_softmax(x, axis=-1):
    """log softmax(x)_i = x_i - m - log sum_j e^{x_j - m}, with m = max_j x_j.

    The sum is >= 1 (its largest term is e^0), so the log is finite: no ``log(0) = -inf`` even
    where softmax itself underflows to 0. Cross-entropy uses this form.
    """
    x = _float(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
