"""The transformer encoder block and sinusoidal positional encoding, as PyTorch's
``nn.TransformerEncoderLayer`` (batch first) and the encoding of "Attention Is All You Need".

A block is two sub-layers, each wrapped in a residual connection and a layer norm:
self-attention, which mixes information between positions, and a position-wise feed-forward
network, which transforms every position on its own. Shapes: N batch, T length, E = ``d_model``.
"""
import numpy as np

from .attention import MultiheadAttention
from .init import get_rng
from .layers import GELU, Dropout, LayerNorm, Linear, ReLU
from .module import Module, as_float_array, check_shape, describe


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0, dtype=np.float32):
    """The (T, E) table PE added to the token embeddings so that attention can tell positions:

        PE[t, 2i]     = sin(t / base^(2i / E))
        PE[t, 2i + 1] = cos(t / base^(2i / E))       t = 0 .. T-1,  i = 0 .. E/2 - 1

    Every pair of columns is a sine and cosine of one frequency, from 1 radian per position
    (i = 0) down to 1 / base; PE[t + k] is a rotation of PE[t] by an angle that depends on k only,
    so relative offsets are easy to read from it.
    """
    position = np.arange(seq_len, dtype=np.float64)[:, None]                 # (T, 1)
    frequency = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)   # (ceil(E/2),)
    angle = position * frequency                                              # (T, ceil(E/2))
    table = np.empty((seq_len, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, :d_model // 2])
    return table.astype(dtype)


class PositionalEncoding(Module):
    """x (N, T, E) -> x + PE[:T] (``sinusoidal_positional_encoding``); backward: dL/dx = dL/dy,
    as the table is a constant. T may be at most ``max_len``."""

    def __init__(self, d_model, max_len=5000, base=10000.0):
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.table = sinusoidal_positional_encoding(max_len, d_model, base, np.float64)

    def forward(self, x):
        x = as_float_array(x)
        check_shape(self, x, ("batch", "T", self.d_model))
        if x.shape[1] > self.max_len:
            raise ValueError(f"{describe(self)}: sequence length {x.shape[1]} exceeds "
                             f"max_len={self.max_len} (input of shape {x.shape})")
        self._cache = x.shape
        return x + self.table[:x.shape[1]].astype(x.dtype)

    def backward(self, grad_output):
        check_shape(self, grad_output, self.saved(), "grad_output")
        return grad_output

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}"


class TransformerEncoderLayer(Module):
    """One encoder block, with PyTorch's submodules ``self_attn``, ``linear1``, ``dropout``,
    ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2`` (so its state_dict loads as is):

        sa(x) = dropout1(self_attn(x, x, x)[0])
        ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))
        post-norm (norm_first=False, the original):  h = norm1(x + sa(x)),  y = norm2(h + ff(h))
        pre-norm  (norm_first=True):                 h = x + sa(norm1(x)),  y = h + ff(norm2(h))

    forward(src (N, T, E), src_mask=None (T, T), src_key_padding_mask=None (N, T)) -> (N, T, E);
    masks as ``MultiheadAttention`` takes them. backward(dL/dy) -> dL/dsrc: through a residual
    connection z = x + f(x) the gradient arrives twice, dL/dx = dL/dz + f's backward of dL/dz.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=True, norm_first=False, dtype=np.float32,
                 rng=None):
        super().__init__()
        if activation not in ("relu", "gelu"):
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu' or 'gelu', got "
                             f"{activation!r}")
        if not batch_first:
            raise ValueError("TransformerEncoderLayer: only batch_first=True, (N, T, E), is supported")
        rng = get_rng(rng)
        self.d_model, self.norm_first = d_model, norm_first
        self.self_attn = MultiheadAttention(d_model, nhead, dtype=dtype, rng=rng)
        self.linear1 = Linear(d_model, dim_feedforward, dtype=dtype, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, dtype=dtype, rng=rng)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.activation = ReLU() if activation == "relu" else GELU()

    def _sa(self, x, src_mask, src_key_padding_mask):
        out, _ = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                                need_weights=False)
        return self.dropout1(out)

    def _sa_backward(self, grad):
        return sum(self.self_attn.backward(self.dropout1.backward(grad)))   # q, k, v are all x

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _ff_backward(self, grad):
        grad = self.linear2.backward(self.dropout2.backward(grad))
        return self.linear1.backward(self.activation.backward(self.dropout.backward(grad)))

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        x = as_float_array(src, self.linear1.weight.data.dtype)
        check_shape(self, x, ("batch", "T", self.d_model), "src")
        self._cache = x.shape
        if self.norm_first:
            h = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask)
            return h + self._ff(self.norm2(h))
        h = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask))
        return self.norm2(h + self._ff(h))

    def backward(self, grad_output):
        check_shape(self, grad_output, self.saved(), "grad_output")
        if self.norm_first:
            grad_h = grad_output + self.norm2.backward(self._ff_backward(grad_output))
            return grad_h + self.norm1.backward(self._sa_backward(grad_h))
        grad_z2 = self.norm2.backward(grad_output)            # z2 = h + ff(h)
        grad_z1 = self.norm1.backward(grad_z2 + self._ff_backward(grad_z2))   # z1 = x + sa(x)
        return grad_z1 + self._sa_backward(grad_z1)

    def extra_repr(self):
        return f"d_model={self.d_model}, norm_first={self.norm_first}"
