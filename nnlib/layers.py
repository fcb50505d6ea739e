"""Layers: Linear, activations, Flatten, Dropout, BatchNorm1d, and Sequential to chain them.

Each layer's ``forward`` saves what the chain rule will need; ``backward(dL/dy)`` returns dL/dx
and adds dL/d(parameter) into each ``Parameter.grad``. Shapes use N for the batch size.

dtype: parameters are float32 unless a layer is built with ``dtype=np.float64`` (or converted
with ``.double()``), as in PyTorch. A layer computes in the dtype of its input: float32 in,
float32 out. Parameters of another dtype are cast for the computation (a copy; build the layer in
the dtype you feed it to avoid it), and their gradients are accumulated in the parameters' own
dtype. Gradient checks need float64 inputs *and* float64 parameters.
"""
import math
from collections import OrderedDict

import numpy as np

from . import functional as F
from .init import get_rng
from .module import (Module, Parameter, as_float_array, check_shape, describe,
                     in_dtype)


class Linear(Module):
    """Fully connected layer: y = x W^T + b.

    Shapes: x (N, in_features), W ``weight`` (out_features, in_features), b ``bias``
    (out_features,), y (N, out_features). As in PyTorch, x may have more leading axes,
    (N, T, in_features) -> (N, T, out_features): every row of every sequence goes through the same
    layer (the formulas below then read x and g as 2-D, all leading axes merged into N).

    Backward, from g = dL/dy (N, out_features):
        dL/dx = g W        (N, in_features)
        dL/dW = g^T x      (out_features, in_features)  -- sums the batch's contributions
        dL/db = sum_n g    (out_features,)

    Initialisation as PyTorch's: W and b drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32, rng=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        rng, bound = get_rng(rng), 1 / math.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x):
        x = as_float_array(x, self.weight.data.dtype)
        check_shape(self, x, ("batch",) + ("...",) * (x.ndim - 2) + (self.in_features,))
        self._cache = x
        y = x @ in_dtype(self.weight, x.dtype).T
        if self.bias is not None:
            y += in_dtype(self.bias, x.dtype)
        return y

    def backward(self, grad_output):
        x = self.saved()
        check_shape(self, grad_output, x.shape[:-1] + (self.out_features,), "grad_output")
        g2, x2 = grad_output.reshape(-1, self.out_features), x.reshape(-1, self.in_features)
        self.weight.grad += g2.T @ x2
        if self.bias is not None:
            self.bias.grad += g2.sum(axis=0)
        return grad_output @ in_dtype(self.weight, x.dtype)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}"
                + ("" if self.bias is not None else ", bias=False"))


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default.
    Backward reshapes dL/dy back to the input's shape; nothing else changes."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = as_float_array(x)
        start, end = (d + x.ndim if d < 0 else d for d in (self.start_dim, self.end_dim))
        if not 0 <= start <= end < x.ndim:
            raise ValueError(f"{describe(self)}: cannot flatten axes {self.start_dim}..{self.end_dim} "
                             f"of an input of shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, grad_output):
        return np.reshape(grad_output, self.saved())

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _Activation(Module):
    """An elementwise y = f(x) (any shape): backward is dL/dx = dL/dy * f'(x), elementwise.
    ``forward`` saves x or y (whichever f' is cheaper from) as ``_cache``."""

    def _check_grad(self, grad_output):
        check_shape(self, grad_output, self.saved().shape, "grad_output")
        return grad_output


class ReLU(_Activation):
    """y = max(x, 0);  dL/dx = dL/dy where x > 0, else 0."""

    def forward(self, x):
        self._cache = y = F.relu(x)
        return y

    def backward(self, grad_output):
        return self._check_grad(grad_output) * (self._cache > 0)   # y > 0 exactly where x > 0


class LeakyReLU(_Activation):
    """y = x where x > 0, else a x (a = ``negative_slope``);  dL/dx = dL/dy * (1 or a)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        self._cache = x = as_float_array(x)
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_output):
        return self._check_grad(grad_output) * F.leaky_relu_grad(self._cache, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Activation):
    """y = 1 / (1 + e^-x);  dL/dx = dL/dy * y (1 - y), from the saved output."""

    def forward(self, x):
        self._cache = y = F.sigmoid(x)
        return y

    def backward(self, grad_output):
        y = self._cache
        return self._check_grad(grad_output) * (y * (1 - y))


class Tanh(_Activation):
    """y = tanh(x);  dL/dx = dL/dy * (1 - y^2), from the saved output."""

    def forward(self, x):
        self._cache = y = F.tanh(x)
        return y

    def backward(self, grad_output):
        y = self._cache
        return self._check_grad(grad_output) * (1 - y * y)


class GELU(_Activation):
    """y = x Phi(x), Phi the standard normal CDF (erf form; ``approximate="tanh"`` as PyTorch's);
    dL/dx = dL/dy * (Phi(x) + x phi(x)), from the saved input. The activation of transformers."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        self._cache = x = as_float_array(x)
        return F.gelu(x, self.approximate)

    def backward(self, grad_output):
        return self._check_grad(grad_output) * F.gelu_grad(self._cache, self.approximate)

    def extra_repr(self):
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Dropout(Module):
    """Inverted dropout: in training, zero each unit with probability p and scale the kept ones by
    1 / (1 - p), so E[y] = x and evaluation needs no rescaling; in eval mode, y = x.

    y = x * m with m = keep / (1 - p), keep ~ Bernoulli(1 - p), same shape as x;
    dL/dx = dL/dy * m (the same mask: a dropped unit gets no gradient).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p, self.rng = p, rng

    def forward(self, x):
        x = as_float_array(x)
        if not self.training or self.p == 0:
            self._cache = 1                                  # the mask: keep everything
            return x
        if self.p == 1:
            self._cache = np.zeros_like(x)
        else:
            keep = get_rng(self.rng).random(x.shape, dtype=x.dtype) >= self.p
            self._cache = keep / x.dtype.type(1 - self.p)
        return x * self._cache

    def backward(self, grad_output):
        return grad_output * self.saved()

    def extra_repr(self):
        return f"p={self.p}"


class BatchNorm1d(Module):
    """Batch normalisation of features: x (N, C) -> y (N, C), per feature c

        training:  mu = mean_n x,  var = mean_n (x - mu)^2   (the batch's statistics)
        eval:      mu, var = running_mean, running_var
        x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta

    gamma = ``weight`` (C,) starts at 1, beta = ``bias`` (C,) at 0. Each training step updates
    running = (1 - momentum) * running + momentum * batch statistic, using the unbiased variance
    var * N / (N - 1) as PyTorch does (``momentum=None``: a plain average over all batches).

    Backward, with g = dL/dy and dx_hat = g * gamma (all (N, C)):
        dL/dgamma = sum_n g * x_hat,   dL/dbeta = sum_n g
        training: dL/dx = (N dx_hat - sum_n dx_hat - x_hat sum_n dx_hat x_hat) / (N sqrt(var + eps))
                  (mu and var depend on every x in the batch, hence the two correction terms)
        eval:     dL/dx = dx_hat / sqrt(var + eps)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    expected_input = ("batch", "C")

    def _to_rows(self, x):
        """The input as (values per feature, C): BatchNorm1d's input already is."""
        return x

    def _from_rows(self, rows, shape):
        return rows

    def forward(self, x):
        x = as_float_array(x, self.weight.data.dtype)
        check_shape(self, x, tuple(self.num_features if e == "C" else e for e in self.expected_input))
        shape, x = x.shape, self._to_rows(x)
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(f"{describe(self)}: training needs more than 1 value per feature "
                                 f"to compute a variance, got input of shape {shape}")
            mu, var = x.mean(axis=0), x.var(axis=0)
            self.num_batches_tracked += 1
            m = 1 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mu.astype(self.running_mean.dtype)
            self.running_var = ((1 - m) * self.running_var
                                + m * (var * (n / (n - 1))).astype(self.running_var.dtype))
        else:
            mu, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (x - mu) * inv_std
        self._cache = (x_hat, inv_std, self.training, shape)
        y = in_dtype(self.weight, x.dtype) * x_hat + in_dtype(self.bias, x.dtype)
        return self._from_rows(y, shape)

    def backward(self, grad_output):
        x_hat, inv_std, training, shape = self.saved()
        check_shape(self, grad_output, shape, "grad_output")
        g = self._to_rows(grad_output)
        self.weight.grad += (g * x_hat).sum(axis=0)
        self.bias.grad += g.sum(axis=0)
        dx_hat = g * in_dtype(self.weight, x_hat.dtype)
        if not training:
            return self._from_rows(dx_hat * inv_std, shape)
        n = x_hat.shape[0]
        dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) * (inv_std / n)
        return self._from_rows(dx, shape)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its own last axes (``normalized_shape``,
    e.g. the D features of every token), so it needs no batch and trains and evaluates alike.

        mu = mean x,  var = mean (x - mu)^2    over the normalized axes, one pair per sample/token
        x_hat = (x - mu) / sqrt(var + eps),    y = gamma * x_hat + beta

    x (..., *normalized_shape) -> y (same shape); gamma = ``weight`` starts at 1, beta = ``bias``
    at 0, both of shape ``normalized_shape``. Backward, with g = dL/dy, dx_hat = g * gamma and
    means over the M normalized entries of each sample:
        dL/dgamma = sum over samples of g * x_hat,   dL/dbeta = sum over samples of g
        dL/dx = (dx_hat - mean dx_hat - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)
    (BatchNorm1d's formula, with the roles of the batch and the features exchanged.)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=np.float32):
        super().__init__()
        shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else normalized_shape
        self.normalized_shape = tuple(int(d) for d in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))

    def _axes(self):
        return tuple(range(-len(self.normalized_shape), 0))

    def forward(self, x):
        x = as_float_array(x, np.float32)
        if x.shape[x.ndim - len(self.normalized_shape):] != self.normalized_shape:
            raise ValueError(f"{describe(self)}: expected input of shape (..., "
                             f"{', '.join(map(str, self.normalized_shape))}), got {x.shape}")
        axes = self._axes()
        mu = x.mean(axis=axes, keepdims=True)
        centred = x - mu
        inv_std = 1 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + self.eps)
        x_hat = centred * inv_std
        self._cache = (x_hat, inv_std)
        if not self.elementwise_affine:
            return x_hat
        return x_hat * in_dtype(self.weight, x.dtype) + in_dtype(self.bias, x.dtype)

    def backward(self, grad_output):
        x_hat, inv_std = self.saved()
        check_shape(self, grad_output, x_hat.shape, "grad_output")
        axes, dx_hat = self._axes(), grad_output
        if self.elementwise_affine:
            batch_axes = tuple(range(x_hat.ndim - len(self.normalized_shape)))
            self.weight.grad += (grad_output * x_hat).sum(axis=batch_axes)
            self.bias.grad += grad_output.sum(axis=batch_axes)
            dx_hat = grad_output * in_dtype(self.weight, x_hat.dtype)
        return (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class Embedding(Module):
    """A lookup table: index i -> row i of ``weight`` (num_embeddings, embedding_dim).

    x (...) integer indices -> y (..., embedding_dim), y[n, t] = weight[x[n, t]]. The same as
    one_hot(x) @ weight, without building the one-hot matrix. Backward: row i of dL/dweight is the
    sum of g[n, t] over every position where x[n, t] = i (a token seen twice gets both
    contributions); the row ``padding_idx`` (if given) starts at 0 and gets no gradient. There is
    no gradient with respect to integer indices: ``backward`` returns None.
    Initialisation as PyTorch's: weight ~ N(0, 1).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=np.float32, rng=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"num_embeddings={num_embeddings}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        weight = get_rng(rng).standard_normal((num_embeddings, embedding_dim)).astype(dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, x):
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            raise TypeError(f"{describe(self)}: expected integer indices, got dtype {x.dtype}")
        if x.size and (x.min() < 0 or x.max() >= self.num_embeddings):
            bad = x.min() if x.min() < 0 else x.max()
            raise IndexError(f"{describe(self)}: index {bad} is out of range 0..{self.num_embeddings - 1}"
                             f" (input of shape {x.shape})")
        self._cache = x
        return self.weight.data[x]

    def backward(self, grad_output):
        x = self.saved()
        check_shape(self, grad_output, x.shape + (self.embedding_dim,), "grad_output")
        grad = np.zeros_like(self.weight.grad)
        np.add.at(grad, x.ravel(), grad_output.reshape(-1, self.embedding_dim))   # repeats add up
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        self.weight.grad += grad
        return None

    def extra_repr(self):
        return (f"{self.num_embeddings}, {self.embedding_dim}"
                + ("" if self.padding_idx is None else f", padding_idx={self.padding_idx}"))


class Sequential(Module):
    """Chain of modules: forward runs them in order, backward in reverse order (the chain rule:
    dL/dx = dL/dh_1 * dh_1/dx, each factor given by one child's backward).

    ``Sequential(a, b, c)`` names its children "0", "1", "2" (state_dict keys "0.weight", ...);
    ``Sequential(OrderedDict(fc=..., act=...))`` uses the given names. ``model[i]``, ``model[1:]``,
    ``len(model)`` and ``for layer in model`` work as in PyTorch.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = modules[0].items()
        else:
            named = ((str(i), m) for i, m in enumerate(modules))
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: child {name} is a {type(module).__name__}, not a Module")
            setattr(self, name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def backward(self, grad_output):
        for module in reversed(self._modules.values()):
            grad_output = module.backward(grad_output)
        return grad_output

    def append(self, module):
        setattr(self, str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]
