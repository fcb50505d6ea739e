"""scaled_dot_product_attention and MultiheadAttention against PyTorch autograd in float64:
outputs, averaged weights, every gradient, masks, state_dicts both ways, errors."""
import numpy as np
import pytest
import torch

import nnlib.functional as F
from nnlib import Module, MultiheadAttention, gradcheck, numerical_gradient
from torch_reference import assert_close, load_from_torch, to_numpy, to_torch


def _randomise(torch_module, seed=1):
    """MHA starts with zero biases, which would hide a missing bias gradient."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in torch_module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.4)
    return torch_module


# --- functional -----------------------------------------------------------------------------

@pytest.mark.parametrize("mask_kind", ["none", "causal", "bool", "float"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 6), (1, 1, 1, 1, 1), (3, 2, 5, 3, 4)])
def test_sdpa_and_its_backward_match_torch(shape, mask_kind, rng):
    n, h, length, source, d = shape
    q, k, v = (rng.standard_normal(s) for s in [(n, h, length, d), (n, h, source, d), (n, h, source, d)])
    kwargs = {}
    if mask_kind == "causal":
        kwargs = {"is_causal": True}
    elif mask_kind == "bool":      # PyTorch's meaning for this function: True = may attend
        allowed = rng.random((length, source)) < 0.6
        allowed[:, 0] = True       # every query sees at least one key
        kwargs = {"attn_mask": allowed}
    elif mask_kind == "float":
        kwargs = {"attn_mask": rng.standard_normal((n, 1, length, source))}
    tensors = [to_torch(a, requires_grad=True) for a in (q, k, v)]
    torch_kwargs = {key: (torch.as_tensor(val) if isinstance(val, np.ndarray) else val)
                    for key, val in kwargs.items()}
    out_t = torch.nn.functional.scaled_dot_product_attention(*tensors, **torch_kwargs)
    upstream = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(to_torch(upstream))
    out = F.scaled_dot_product_attention(q, k, v, **kwargs)
    assert_close(out, to_numpy(out_t), f"attention output, mask {mask_kind}")

    mask = None
    if mask_kind == "causal":
        mask = F.additive_mask(F.causal_mask(length, source), np.float64)
    elif mask_kind != "none":
        mask = F.additive_mask(kwargs["attn_mask"], np.float64,
                               true_means="attend" if mask_kind == "bool" else "masked")
    _, weights = F.attention_forward(q, k, v, mask)
    for name, grad, t in zip("qkv", F.attention_backward(upstream, q, k, v, weights), tensors):
        assert_close(grad, to_numpy(t.grad), f"attention gradient w.r.t. {name}, mask {mask_kind}")


def test_attention_backward_matches_finite_differences(rng):
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    upstream = rng.standard_normal((2, 3, 4))
    _, weights = F.attention_forward(q, k, v)
    grads = F.attention_backward(upstream, q, k, v, weights)
    for name, x, grad in zip("qkv", (q, k, v), grads):
        numeric = numerical_gradient(lambda _: np.sum(F.attention_forward(q, k, v)[0] * upstream), x)
        assert_close(grad, numeric, f"d attention / d{name} vs finite differences")


def test_causal_mask_hides_the_future_only():
    np.testing.assert_array_equal(F.causal_mask(3), [[False, True, True], [False, False, True],
                                                     [False, False, False]])


# --- MultiheadAttention ---------------------------------------------------------------------

def compare_mha(n, length, source, embed, heads, self_attention=True, bias=True, masks=(),
                batch_first=True, seed=0):
    """Output, averaged weights, grad_query/key/value and every parameter gradient vs torch."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    mha_t = _randomise(torch.nn.MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first)
                       .double(), seed)
    mha = load_from_torch(MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first)
                          .double(), mha_t)
    assert [k for k, _ in mha.named_parameters()] == [k for k, _ in mha_t.named_parameters()]

    def layout(a):      # (N, T, E) -> (T, N, E) when not batch first
        return a if batch_first else np.swapaxes(a, 0, 1)

    query = rng.standard_normal((n, length, embed))
    key = query if self_attention else rng.standard_normal((n, source, embed))
    value = query if self_attention else rng.standard_normal((n, source, embed))
    source = key.shape[1]
    kwargs = {}
    if "causal" in masks:
        kwargs["attn_mask"] = F.causal_mask(length, source)
    if "float" in masks:
        kwargs["attn_mask"] = rng.standard_normal((n * heads, length, source))
    if "padding" in masks:
        padded = np.zeros((n, source), dtype=bool)
        padded[0, -1] = True          # the first sequence's last key is padding
        kwargs["key_padding_mask"] = padded
    if "float padding" in masks:
        kwargs["key_padding_mask"] = rng.standard_normal((n, source))

    inputs_t = [to_torch(layout(a), requires_grad=True) for a in (query, key, value)]
    if self_attention:
        inputs_t = [inputs_t[0]] * 3
    kwargs_t = {k: torch.as_tensor(v) for k, v in kwargs.items()}
    out_t, weights_t = mha_t(*inputs_t, **kwargs_t)
    upstream = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(to_torch(upstream))

    inputs = [layout(a) for a in (query, key, value)]
    if self_attention:
        inputs = [inputs[0]] * 3
    out, weights = mha(*inputs, **kwargs)
    what = f"MHA(E={embed}, H={heads}, masks={list(masks)})"
    assert_close(out, to_numpy(out_t), f"{what} output")
    assert_close(weights, to_numpy(weights_t), f"{what} weights averaged over heads")
    grads = mha.backward(upstream)
    assert len(grads) == 3, "backward must return (grad_query, grad_key, grad_value)"
    if self_attention:
        assert_close(sum(grads), to_numpy(inputs_t[0].grad), f"{what} gradient w.r.t. the input")
    else:
        for name, grad, t in zip(("query", "key", "value"), grads, inputs_t):
            assert_close(grad, to_numpy(t.grad), f"{what} gradient w.r.t. {name}")
    params_t = dict(mha_t.named_parameters())
    for name, p in mha.named_parameters():
        assert_close(p.grad, to_numpy(params_t[name].grad), f"{what} gradient w.r.t. '{name}'")
    return mha


@pytest.mark.parametrize("n, length, embed, heads", [(2, 5, 8, 2), (1, 1, 4, 1), (3, 4, 6, 3),
                                                     (2, 7, 12, 4), (1, 3, 5, 1)])
def test_self_attention_matches_torch(n, length, embed, heads):
    compare_mha(n, length, length, embed, heads)


@pytest.mark.parametrize("masks", [("causal",), ("padding",), ("causal", "padding"), ("float",),
                                   ("float padding",), ("float", "float padding")])
def test_self_attention_with_masks_matches_torch(masks):
    compare_mha(2, 5, 5, 8, 2, masks=masks)


@pytest.mark.parametrize("n, length, source, embed, heads", [(2, 3, 5, 8, 2), (1, 4, 2, 4, 4)])
def test_cross_attention_with_distinct_query_key_value_matches_torch(n, length, source, embed, heads):
    compare_mha(n, length, source, embed, heads, self_attention=False)
    compare_mha(n, length, source, embed, heads, self_attention=False, masks=("padding",))


def test_attention_without_bias_and_sequence_first_matches_torch():
    mha = compare_mha(2, 4, 4, 6, 2, bias=False)
    assert [name for name, _ in mha.named_parameters()] == ["in_proj_weight", "out_proj.weight"]
    compare_mha(3, 4, 2, 8, 2, self_attention=False, batch_first=False)


def test_state_dict_round_trip_with_torch(rng):
    mha_t = _randomise(torch.nn.MultiheadAttention(8, 2, batch_first=True).double())
    mha = load_from_torch(MultiheadAttention(8, 2).double(), mha_t)
    assert list(mha.state_dict()) == list(mha_t.state_dict())
    back = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in mha.state_dict().items()})
    x = to_torch(rng.standard_normal((2, 3, 8)))
    np.testing.assert_array_equal(to_numpy(back(x, x, x)[0]), to_numpy(mha_t(x, x, x)[0]))


def test_need_weights_false_returns_none_and_the_same_output(rng):
    mha = MultiheadAttention(8, 4, dtype=np.float64, rng=rng)
    x = rng.standard_normal((2, 3, 8))
    out, weights = mha(x, x, x, need_weights=False)
    assert weights is None
    np.testing.assert_array_equal(out, mha(x, x, x)[0])


def test_masked_keys_get_zero_weight(rng):
    mha = MultiheadAttention(4, 2, dtype=np.float64, rng=rng)
    x = rng.standard_normal((1, 4, 4))
    _, weights = mha(x, x, x, attn_mask=F.causal_mask(4))
    assert not np.triu(weights[0], k=1).any(), "a query attended to a later position"
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_keeps_the_input_dtype(dtype, rng):
    mha = MultiheadAttention(8, 2, dtype=dtype, rng=rng)
    x = rng.standard_normal((2, 3, 8)).astype(dtype)
    out, weights = mha(x, x, x, attn_mask=F.causal_mask(3))
    grads = mha.backward(np.ones_like(out))
    assert out.dtype == weights.dtype == dtype and all(g.dtype == dtype for g in grads)


def test_embed_dim_not_divisible_by_num_heads_raises():
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim=10 is not divisible by "
                                         r"num_heads=4"):
        MultiheadAttention(10, 4)


@pytest.mark.parametrize("kwargs, expected", [
    ({"attn_mask": np.zeros((3, 4), dtype=bool)},
     r"expected attn_mask of shape \(3, 3\) or \(4, 3, 3\), got \(3, 4\)"),
    ({"key_padding_mask": np.zeros((2, 4), dtype=bool)},
     r"expected key_padding_mask of shape \(2, 3\), got \(2, 4\)"),
])
def test_wrong_mask_shape_names_layer_and_both_shapes(kwargs, expected):
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=4, num_heads=2\): " + expected):
        MultiheadAttention(4, 2)(x, x, x, **kwargs)


def test_wrong_embedding_size_names_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=8, num_heads=2\): expected "
                                         r"query of shape \(batch, L, 8\), got \(2, 3, 6\)"):
        x = np.zeros((2, 3, 6))
        MultiheadAttention(8, 2)(x, x, x)


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="backward called before forward"):
        MultiheadAttention(4, 2).backward(np.zeros((1, 2, 4)))


class SelfAttention(Module):
    """x -> MultiheadAttention(x, x, x) with a causal mask, so gradcheck can call it with one input."""

    def __init__(self, mha):
        super().__init__()
        self.mha = mha

    def forward(self, x):
        return self.mha(x, x, x, attn_mask=F.causal_mask(x.shape[1]))[0]

    def backward(self, grad_output):
        return sum(self.mha.backward(grad_output))


def test_self_attention_passes_numerical_gradcheck(rng):
    mha = MultiheadAttention(6, 3, dtype=np.float64, rng=rng)
    mha.in_proj_bias.data[...] = rng.standard_normal(18) * 0.3
    errors = gradcheck(SelfAttention(mha), rng.standard_normal((2, 4, 6)))
    assert set(errors) == {"input", "mha.in_proj_weight", "mha.in_proj_bias", "mha.out_proj.weight",
                           "mha.out_proj.bias"}, errors
