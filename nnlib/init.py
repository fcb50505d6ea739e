"""Weight initialisation, with ``torch.nn.init``'s names and formulas.

Each ``*_`` function fills an array (or a ``Parameter``'s ``.data``) in place and returns it.
Random ones take ``rng``, a ``numpy.random.Generator``; without one they draw from nnlib's default
generator, which ``manual_seed(seed)`` resets (like ``torch.manual_seed``).

Why the scale matters: a layer y = W x with fan_in inputs of variance 1 and weights of variance
s^2 gives outputs of variance fan_in * s^2. Keeping that at 1 (times a gain that undoes what the
activation removes) keeps signals from exploding or vanishing through many layers:

* Xavier/Glorot (tanh):           Var(W) = gain^2 * 2 / (fan_in + fan_out)
  (derived for a unit slope at 0 and outputs centred on 0: tanh, not the sigmoid)
* Kaiming/He (ReLU):              Var(W) = gain^2 / fan      (fan = fan_in, or fan_out)

A uniform U(-b, b) has variance b^2 / 3, so the uniform versions use b = sqrt(3) * std.
"""
import math

import numpy as np

from .module import Parameter

_default_rng = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator used when no ``rng`` is given (layers' initial weights, dropout)."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def get_rng(rng=None):
    """``rng`` itself, or nnlib's default generator when ``rng`` is None."""
    return _default_rng if rng is None else rng


def calculate_gain(nonlinearity, param=None):
    """The factor by which an activation shrinks the standard deviation, undone at init:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for
    leaky_relu with negative slope a (default 0.01), 3/4 for selu."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + a ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(shape):
    """(fan_in, fan_out) of a weight of this shape, as PyTorch computes them.

    A Linear weight is (out_features, in_features): fan_in = in, fan_out = out. A convolution
    weight (out_channels, in_channels, kh, kw) connects each output to in_channels * kh * kw
    inputs: fan_in = in_channels * kh * kw, fan_out = out_channels * kh * kw.
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(target, values):
    array = target.data if isinstance(target, Parameter) else target
    array[...] = values
    return target


def _shape(target):
    return (target.data if isinstance(target, Parameter) else np.asarray(target)).shape


def zeros_(tensor):
    """Fill with 0 (the usual bias init)."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1 (batch norm's initial scale)."""
    return _fill(tensor, 1)


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val)


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    """Fill with draws from U(a, b)."""
    return _fill(tensor, get_rng(rng).uniform(a, b, size=_shape(tensor)))


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    """Fill with draws from N(mean, std^2)."""
    return _fill(tensor, get_rng(rng).normal(mean, std, size=_shape(tensor)))


def xavier_uniform_(tensor, gain=1.0, rng=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_shape(tensor))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor, gain=1.0, rng=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_shape(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(shape, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="relu", rng=None):
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan); ``a`` is the leaky_relu slope.

    PyTorch's ``Linear`` and ``Conv2d`` use ``a = sqrt(5)``, nonlinearity "leaky_relu", which
    works out to b = 1 / sqrt(fan_in)."""
    std = _kaiming_std(_shape(tensor), a, mode, nonlinearity)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="relu", rng=None):
    """N(0, std^2) with std = gain / sqrt(fan); for ReLU std = sqrt(2 / fan_in)."""
    return normal_(tensor, 0.0, _kaiming_std(_shape(tensor), a, mode, nonlinearity), rng)
