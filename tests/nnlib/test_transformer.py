"""TransformerEncoderLayer against torch.nn.TransformerEncoderLayer in float64 (post- and pre-norm,
relu and gelu, masks), dropout in training, state_dicts both ways; the sinusoidal encoding."""
import numpy as np
import pytest
import torch

import nnlib.functional as F
from nnlib import PositionalEncoding, TransformerEncoderLayer, gradcheck, sinusoidal_positional_encoding
from torch_reference import assert_close, load_from_torch, to_numpy, to_torch


def make_pair(d_model, nhead, dim_feedforward, activation="relu", norm_first=False, seed=0):
    torch.manual_seed(seed)
    layer_t = torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                               activation=activation, batch_first=True,
                                               norm_first=norm_first).double()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():     # norms at 1 and 0, attention biases at 0 would hide missing terms
        for p in layer_t.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.2)
    layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                    activation=activation, norm_first=norm_first).double()
    return load_from_torch(layer, layer_t), layer_t


def compare_layer(n, length, d_model, nhead, dim_feedforward, activation="relu", norm_first=False,
                  masks=(), seed=0):
    layer, layer_t = make_pair(d_model, nhead, dim_feedforward, activation, norm_first, seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, d_model))
    kwargs = {}
    if "causal" in masks:
        kwargs["src_mask"] = F.causal_mask(length)
    if "padding" in masks:
        padded = np.zeros((n, length), dtype=bool)
        padded[-1, -2:] = True
        kwargs["src_key_padding_mask"] = padded
    x_t = to_torch(x, requires_grad=True)
    y_t = layer_t(x_t, **{k: torch.as_tensor(v) for k, v in kwargs.items()})
    upstream = rng.standard_normal(tuple(y_t.shape))
    y_t.backward(to_torch(upstream))
    layer.zero_grad()
    y = layer(x, **kwargs)
    what = f"TransformerEncoderLayer({activation}, norm_first={norm_first}, masks={list(masks)})"
    assert_close(y, to_numpy(y_t), f"{what} output")
    assert_close(layer.backward(upstream), to_numpy(x_t.grad), f"{what} gradient w.r.t. src")
    params_t = dict(layer_t.named_parameters())
    for name, p in layer.named_parameters():
        assert_close(p.grad, to_numpy(params_t[name].grad), f"{what} gradient w.r.t. '{name}'")


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("shape", [(2, 5, 8, 2, 16), (1, 1, 4, 1, 8), (3, 4, 6, 3, 10)])
def test_encoder_layer_matches_torch(shape, activation, norm_first):
    compare_layer(*shape, activation=activation, norm_first=norm_first)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("masks", [("causal",), ("padding",), ("causal", "padding")])
def test_encoder_layer_with_masks_matches_torch(masks, norm_first):
    compare_layer(2, 5, 8, 2, 12, norm_first=norm_first, masks=masks)


def test_parameter_names_and_state_dict_are_torchs_both_ways(rng):
    layer, layer_t = make_pair(8, 2, 16)
    assert list(layer.state_dict()) == list(layer_t.state_dict())
    back = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x = to_torch(rng.standard_normal((2, 3, 8)))
    np.testing.assert_array_equal(to_numpy(back(x)), to_numpy(layer_t(x)))


def test_encoder_layer_passes_numerical_gradcheck(rng):
    layer = TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu", dtype=np.float64, rng=rng)
    for p in layer.parameters():
        p.data += 0.3 * rng.standard_normal(p.shape)
    errors = gradcheck(layer, rng.standard_normal((2, 3, 4)))
    assert len(errors) == 1 + len(list(layer.parameters())), errors


def test_dropout_is_applied_in_training_and_not_in_eval(rng):
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.5, dtype=np.float64,
                                    rng=np.random.default_rng(0))
    x = rng.standard_normal((2, 4, 8))
    first, second = layer(x), layer(x)
    assert not np.allclose(first, second), "training mode must draw new dropout masks"
    reference = TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=np.float64)
    reference.load_state_dict(layer.state_dict())
    layer.eval()
    np.testing.assert_allclose(layer(x), reference(x), rtol=1e-12,
                               err_msg="in eval mode dropout must be the identity")
    layer.train()
    y = layer(x)
    grad = layer.backward(np.ones_like(y))   # the backward pass goes through the same masks
    assert np.isfinite(grad).all() and isinstance(layer.dropout._cache, np.ndarray), "no dropout mask"


def test_bad_activation_and_wrong_shape_raise():
    with pytest.raises(ValueError, match="activation must be 'relu' or 'gelu', got 'tanh'"):
        TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer\(d_model=8, norm_first=False\): "
                                         r"expected src of shape \(batch, T, 8\), got \(2, 3, 6\)"):
        TransformerEncoderLayer(8, 2, 16)(np.zeros((2, 3, 6)))


# --- positional encoding ------------------------------------------------------------------

def test_sinusoidal_encoding_follows_the_formula():
    table = sinusoidal_positional_encoding(50, 6, dtype=np.float64)
    t, i = 7, 2                             # column 2i = 4 is a sine, 2i + 1 = 5 a cosine
    angle = t / 10000 ** (2 * i / 6)
    assert table.shape == (50, 6)
    np.testing.assert_allclose(table[t, [4, 5]], [np.sin(angle), np.cos(angle)], rtol=1e-14)
    np.testing.assert_array_equal(table[0], [0, 1, 0, 1, 0, 1])
    assert sinusoidal_positional_encoding(3, 5).shape == (3, 5), "an odd d_model keeps its last sine"


def test_encoding_of_a_shifted_position_is_a_rotation_of_each_frequency_pair():
    table = sinusoidal_positional_encoding(40, 8, dtype=np.float64)
    k = 5
    for i in range(4):
        w = 10000 ** (-2 * i / 8)
        rotation = np.array([[np.cos(k * w), -np.sin(k * w)], [np.sin(k * w), np.cos(k * w)]])
        np.testing.assert_allclose(table[10:30, 2 * i:2 * i + 2] @ rotation,
                                   table[10 + k:30 + k, 2 * i:2 * i + 2], atol=1e-12)


def test_positional_encoding_module_adds_the_table_and_passes_gradients_through(rng):
    module = PositionalEncoding(6, max_len=10)
    x = rng.standard_normal((2, 4, 6))
    np.testing.assert_allclose(module(x) - x, np.broadcast_to(
        sinusoidal_positional_encoding(4, 6, dtype=np.float64), x.shape), atol=1e-15)
    g = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(module.backward(g), g)
    with pytest.raises(ValueError, match="sequence length 11 exceeds max_len=10"):
        module(np.zeros((1, 11, 6)))
