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


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) int_0^x e^{-t^2} dt, vectorised (numpy has none).

    For |x| < 2 its Taylor series sum_n (-1)^n x^{2n+1} / (n! (2n+1)), times 2/sqrt(pi) (40 terms
    reach float64's precision there); for |x| >= 2 the continued fraction of erfc,
    erfc(x) = e^{-x^2} / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), which keeps the
    tiny tail exact. Absolute error below 2e-15 everywhere; erf(-x) = -erf(x).
    """
    x = _float(x)
    return np.sign(x) * (1 - _erfc_of_abs(np.abs(x).astype(np.float64))).astype(x.dtype)


@_quiet_underflow
def _erfc_of_abs(z):
    """erfc(z) = 1 - erf(z) for z >= 0 in float64, accurate in the tail where 1 - erf cancels."""
    out = np.empty_like(z)
    near = z < 2
    zn = z[near]
    term, total = zn.copy(), zn.copy()
    for n in range(1, 40):
        term *= -zn * zn / n
        total += term / (2 * n + 1)
    out[near] = 1 - total * (2 / np.sqrt(np.pi))
    zf = z[~near]
    fraction = zf.copy()
    for k in range(60, 0, -1):                   # evaluated from the 60th level up
        fraction = zf + (k / 2) / fraction
    out[~near] = np.exp(-zf * zf) / (np.sqrt(np.pi) * fraction)
    return out


def normal_cdf(x):
    """Phi(x) = P(Z <= x) for a standard normal Z: (1 + erf(x / sqrt 2)) / 2, computed as
    erfc(|x| / sqrt 2) / 2 for x < 0 so that the left tail keeps its relative precision."""
    x = _float(x)
    tail = 0.5 * _erfc_of_abs(np.abs(x).astype(np.float64) / np.sqrt(2))
    return np.where(x < 0, tail, 1 - tail).astype(x.dtype)


def gelu(x, approximate="none"):
    """GELU(x) = x Phi(x), the input weighted by how likely a standard normal is below it.

    ``approximate="tanh"``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's option.
    """
    x = _float(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x ** 3)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x * normal_cdf(x)


_GELU_C = float(np.sqrt(2 / np.pi))


@_quiet_underflow
def gelu_grad(x, approximate="none"):
    """d GELU / dx = Phi(x) + x phi(x), with phi(x) = e^{-x^2/2} / sqrt(2 pi) the normal density.

    tanh form, with u = sqrt(2/pi) (x + 0.044715 x^3) and t = tanh(u):
    0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """
    x = _float(x)
    if approximate == "tanh":
        t = np.tanh(_GELU_C * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x * x)
    if approximate != "none":
        raise ValueError(f"gelu_grad: approximate must be 'none' or 'tanh', got {approximate!r}")
    return normal_cdf(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def causal_mask(target_len, source_len=None):
    """Bool (L, S) mask, True where position i may *not* see j because j > i (the future)."""
    source_len = target_len if source_len is None else source_len
    return np.triu(np.ones((target_len, source_len), dtype=bool), k=1)


def additive_mask(mask, dtype, true_means="masked"):
    """A mask as the float added to attention scores: bool masks become 0 (attend) or -inf (not),
    float masks are used as they are. ``true_means="masked"`` is ``nn.MultiheadAttention``'s
    convention (True = may not attend), ``"attend"`` that of ``F.scaled_dot_product_attention``."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        blocked = mask if true_means == "masked" else ~mask
        return np.where(blocked, -np.inf, 0).astype(dtype)
    return mask.astype(dtype, copy=False)


@_quiet_underflow
def attention_forward(q, k, v, mask=None, scale=None):
    """Scaled dot-product attention with explicit outputs for the backward pass.

    q (..., L, d), k (..., S, d), v (..., S, d_v), ``mask`` a float array added to the scores,
    broadcastable to (..., L, S); scale = 1 / sqrt(d) by default:

        scores = q k^T * scale + mask            (..., L, S)  how well query i matches key j
        P = softmax(scores, over j)              (..., L, S)  each row sums to 1
        out = P v                                (..., L, d_v) a weighted average of the values

    Returns ``(out, P)``.
    """
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q * q.dtype.type(scale)) @ np.swapaxes(k, -1, -2)   # scale q: L*d products, not L*S
    if mask is not None:
        scores += mask
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def attention_backward(grad_out, q, k, v, weights, scale=None):
    """Backward of ``attention_forward`` from g = dL/d(out) (..., L, d_v) -> (dq, dk, dv).

        dv = P^T g                                 out = P v, read for v
        dP = g v^T                                 ... and for P
        dS = P * (dP - sum_j dP * P)               softmax's Jacobian diag(p) - p p^T, row by row
        dq = dS k * scale,  dk = dS^T q * scale    scores = q k^T * scale
    """
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scale = q.dtype.type(scale)
    grad_v = np.swapaxes(weights, -1, -2) @ grad_out
    grad_weights = grad_out @ np.swapaxes(v, -1, -2)
    grad_scores = weights * (grad_weights - (grad_weights * weights).sum(axis=-1, keepdims=True))
    grad_scores *= scale
    return grad_scores @ k, np.swapaxes(grad_scores, -1, -2) @ q, grad_v


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False, scale=None):
    """softmax(Q K^T / sqrt(d) + M) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    query (..., L, d), key (..., S, d), value (..., S, d_v) -> (..., L, d_v). ``attn_mask``
    broadcastable to (..., L, S): bool with PyTorch's meaning here, **True = may attend**, or float
    added to the scores. ``is_causal=True`` lets query i see keys 0..i only (no ``attn_mask`` then).
    """
    query, key, value = _float(query), _float(key), _float(value)
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if is_causal:
        mask = additive_mask(causal_mask(query.shape[-2], key.shape[-2]), query.dtype)
    elif attn_mask is not None:
        mask = additive_mask(attn_mask, query.dtype, true_means="attend")
    else:
        mask = None
    return attention_forward(query, key, value, mask, scale)[0]
