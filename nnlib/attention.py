"""Multi-head attention, as PyTorch's ``nn.MultiheadAttention`` (batch first by default).

Every head attends on its own: the embedding of size E is projected to queries, keys and values,
cut into H heads of size d = E / H, each head runs scaled dot-product attention
(``functional.attention_forward``), and the heads' outputs are put side by side again and mixed by
one more linear layer. Shapes: N batch, L target (query) length, S source (key) length.
"""
import numpy as np

from . import functional as F
from .init import get_rng
from .layers import Linear
from .module import (Module, Parameter, as_float_array, check_shape, describe,
                     in_dtype)


def split_heads(x, num_heads):
    """(N, L, E) -> (N, H, L, E/H): head h gets features h*d .. (h+1)*d - 1."""
    n, length, embed = x.shape
    return x.reshape(n, length, num_heads, embed // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, H, L, d) -> (N, L, H*d), the inverse of ``split_heads``."""
    n, heads, length, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, heads * d)


class MultiheadAttention(Module):
    """out = Concat(head_1 .. head_H) W_o^T + b_o, head_h = Attention(q W_q,h^T, k W_k,h^T, v W_v,h^T).

    Parameters with PyTorch's names: ``in_proj_weight`` (3E, E) = [W_q; W_k; W_v] and
    ``in_proj_bias`` (3E,), ``out_proj.weight`` (E, E) and ``out_proj.bias`` (E,).

    forward(query (N, L, E), key (N, S, E), value (N, S, E), key_padding_mask=None,
    attn_mask=None, need_weights=True) -> (output (N, L, E), weights (N, L, S) averaged over the
    heads, or None when need_weights is False). ``batch_first=False`` takes (L, N, E) instead.
    Masks as PyTorch takes them: bool, **True = may not attend**, or float, added to the scores.
    ``key_padding_mask`` (N, S) hides padded keys; ``attn_mask`` (L, S) or (N*H, L, S) hides
    pairs (a causal mask: ``functional.causal_mask(L)``).

    backward(grad_output (N, L, E)) -> (grad_query, grad_key, grad_value); with self-attention
    (query, key and value the same array) the input's gradient is their sum.
    """

    def __init__(self, embed_dim, num_heads, bias=True, batch_first=True, dtype=np.float32, rng=None):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} is not divisible by "
                             f"num_heads={num_heads}; each head gets embed_dim / num_heads features")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.batch_first = batch_first
        rng = get_rng(rng)
        # PyTorch: xavier_uniform_ on the (3E, E) matrix, biases 0
        bound = np.sqrt(6 / (embed_dim + 3 * embed_dim))
        self.in_proj_weight = Parameter(rng.uniform(-bound, bound, (3 * embed_dim, embed_dim))
                                        .astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, rng=rng)
        if bias:
            self.out_proj.bias.data[...] = 0

    def _mask(self, key_padding_mask, attn_mask, n, length, source, dtype):
        """The float mask added to the scores, broadcastable to (N, H, L, S), or None."""
        mask = None
        if attn_mask is not None:
            attn_mask = np.asarray(attn_mask)
            if attn_mask.shape == (length, source):
                mask = F.additive_mask(attn_mask, dtype)
            elif attn_mask.shape == (n * self.num_heads, length, source):
                mask = F.additive_mask(attn_mask, dtype).reshape(n, self.num_heads, length, source)
            else:
                raise ValueError(f"{describe(self)}: expected attn_mask of shape ({length}, {source})"
                                 f" or ({n * self.num_heads}, {length}, {source}), got "
                                 f"{attn_mask.shape}")
        if key_padding_mask is not None:
            check_shape(self, key_padding_mask, (n, source), "key_padding_mask")
            padding = F.additive_mask(key_padding_mask, dtype)[:, None, None, :]
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True):
        self_attention = query is key and key is value
        dtype = self.in_proj_weight.data.dtype
        query, key, value = (as_float_array(t, dtype) for t in (query, key, value))
        if not self.batch_first:
            query, key, value = (np.swapaxes(t, 0, 1) for t in (query, key, value))
        check_shape(self, query, ("batch", "L", self.embed_dim), "query")
        n, length, embed = query.shape
        check_shape(self, key, (n, "S", embed), "key")
        check_shape(self, value, key.shape, "value")
        source = key.shape[1]
        x_dtype = query.dtype
        weight = in_dtype(self.in_proj_weight, x_dtype)
        bias = None if self.in_proj_bias is None else in_dtype(self.in_proj_bias, x_dtype)
        if self_attention:   # one product gives q, k and v: x [W_q; W_k; W_v]^T
            qkv = query @ weight.T
            if bias is not None:
                qkv += bias
            q, k, v = np.split(qkv, 3, axis=-1)
        else:
            w_q, w_k, w_v = np.split(weight, 3)
            b_q, b_k, b_v = (0, 0, 0) if bias is None else np.split(bias, 3)
            q, k, v = query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v
        q, k, v = (split_heads(t, self.num_heads) for t in (q, k, v))        # (N, H, L or S, d)
        mask = self._mask(key_padding_mask, attn_mask, n, length, source, x_dtype)
        heads, weights = F.attention_forward(q, k, v, mask)                 # (N, H, L, d)
        output = self.out_proj(merge_heads(heads))
        self._cache = (query, key, value, q, k, v, weights, self_attention)
        if not self.batch_first:
            output = np.swapaxes(output, 0, 1)
        return output, (weights.mean(axis=1) if need_weights else None)

    def backward(self, grad_output):
        query, key, value, q, k, v, weights, self_attention = self.saved()
        grad_output = np.asarray(grad_output)
        if not self.batch_first:
            grad_output = np.swapaxes(grad_output, 0, 1)
        check_shape(self, grad_output, query.shape, "grad_output")
        grad_heads = split_heads(self.out_proj.backward(grad_output), self.num_heads)
        grads = F.attention_backward(grad_heads, q, k, v, weights)             # dq, dk, dv
        grad_q, grad_k, grad_v = (merge_heads(g) for g in grads)              # (N, L or S, E)
        weight = in_dtype(self.in_proj_weight, query.dtype)
        embed = self.embed_dim
        # q = query W_q^T + b_q, so dW_q = dq^T query, db_q = sum dq, dquery = dq W_q (and k, v)
        inputs = (query, key, value)
        grad_qkv = (grad_q, grad_k, grad_v)
        if self_attention:
            grad_all = np.concatenate(grad_qkv, axis=-1)                       # (N, L, 3E)
            flat = grad_all.reshape(-1, 3 * embed)
            self.in_proj_weight.grad += flat.T @ query.reshape(-1, embed)
            if self.in_proj_bias is not None:
                self.in_proj_bias.grad += flat.sum(axis=0)
            grad_in = [g @ w for g, w in zip(grad_qkv, np.split(weight, 3))]
        else:
            grad_in = []
            for i, (x, g) in enumerate(zip(inputs, grad_qkv)):
                rows = slice(i * embed, (i + 1) * embed)
                g2 = g.reshape(-1, embed)
                self.in_proj_weight.grad[rows] += g2.T @ x.reshape(-1, embed)
                if self.in_proj_bias is not None:
                    self.in_proj_bias.grad[rows] += g2.sum(axis=0)
                grad_in.append(g @ weight[rows])
        if not self.batch_first:
            grad_in = [np.swapaxes(g, 0, 1) for g in grad_in]
        return tuple(grad_in)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
                + ("" if self.batch_first else ", batch_first=False"))
