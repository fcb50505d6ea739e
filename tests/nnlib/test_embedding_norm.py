"""Embedding, LayerNorm and GELU against torch.nn in float64, gradchecks, state_dicts, errors."""
import numpy as np
import pytest
import torch

import nnlib.functional as F
from nnlib import GELU, Embedding, LayerNorm, gradcheck
from torch_reference import assert_close, compare_with_torch, load_from_torch, to_numpy, to_torch


def _randomise(torch_module, seed=1):
    """LayerNorm starts at weight 1, bias 0, which would hide a swapped or missing term."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in torch_module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5 + 1)
    return torch_module


LAYERS = {
    "LayerNorm tokens": (lambda: LayerNorm(6), lambda: torch.nn.LayerNorm(6), (3, 4, 6)),
    "LayerNorm batch of 1": (lambda: LayerNorm(5), lambda: torch.nn.LayerNorm(5), (1, 5)),
    "LayerNorm over two axes": (lambda: LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)),
                                (2, 3, 4)),
    "LayerNorm eps": (lambda: LayerNorm(4, eps=1e-2), lambda: torch.nn.LayerNorm(4, eps=1e-2), (5, 4)),
    "LayerNorm no affine": (lambda: LayerNorm(4, elementwise_affine=False),
                            lambda: torch.nn.LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    "GELU": (GELU, torch.nn.GELU, (4, 7)),
    "GELU tanh": (lambda: GELU("tanh"), lambda: torch.nn.GELU("tanh"), (2, 3, 5)),
    "GELU batch of 1": (GELU, torch.nn.GELU, (1, 3)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_output_and_gradients_match_torch(name, rng):
    make, make_torch, shape = LAYERS[name]
    torch.manual_seed(0)
    compare_with_torch(make(), _randomise(make_torch()), rng.standard_normal(shape) * 3 + 0.5)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradients_pass_numerical_gradcheck(name, rng):
    make, _, shape = LAYERS[name]
    layer = make().double()
    for p in layer.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    errors = gradcheck(layer, rng.standard_normal(shape) * 2, tol=1e-6)
    assert len(errors) == 1 + len(list(layer.parameters())), errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_keeps_input_dtype(dtype, rng):
    layer = LayerNorm(4)
    y = layer(rng.standard_normal((2, 3, 4)).astype(dtype))
    assert y.dtype == dtype and layer.backward(np.ones_like(y)).dtype == dtype


def test_layernorm_state_dict_loads_from_and_into_torch(rng):
    torch_ln = _randomise(torch.nn.LayerNorm(5).double())
    ln = load_from_torch(LayerNorm(5).double(), torch_ln)
    back = torch.nn.LayerNorm(5).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in ln.state_dict().items()})
    x = rng.standard_normal((3, 5))
    np.testing.assert_array_equal(to_numpy(back(to_torch(x))), to_numpy(torch_ln(to_torch(x))))


def test_layernorm_wrong_shape_names_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(6,\).*expected input of shape \(\.\.\., 6\), "
                                         r"got \(2, 5\)"):
        LayerNorm(6)(np.zeros((2, 5)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_on_extreme_inputs(approximate):
    x = np.array([-40.0, -10.0, -5.0, -2.5, -2.0, -1.999, -0.5, 0.0, 1e-9, 0.7, 2.0, 2.001, 6.0, 40.0])
    x_t = to_torch(x, requires_grad=True)
    y_t = torch.nn.functional.gelu(x_t, approximate=approximate)
    y_t.sum().backward()
    # PyTorch computes x (1 + erf(x / sqrt 2)) / 2, where 1 + erf cancels for x << 0: its value there
    # is only good to |x| * eps absolutely (it gives -0.0 for gelu(-10) = -7.6e-23), hence the atol
    np.testing.assert_allclose(F.gelu(x, approximate), to_numpy(y_t), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(F.gelu_grad(x, approximate), to_numpy(x_t.grad), rtol=1e-12, atol=1e-14)


def test_gelu_keeps_relative_precision_in_the_left_tail():
    import math
    x = np.array([-10.0, -20.0, -5.0])
    exact = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    np.testing.assert_allclose(F.gelu(x), exact, rtol=1e-13)


def test_erf_matches_math_erf_to_float64_precision():
    import math
    x = np.linspace(-7, 7, 4001)
    np.testing.assert_allclose(F.erf(x), [math.erf(v) for v in x], rtol=0, atol=2e-15)
    np.testing.assert_allclose(F.normal_cdf(np.array([-10.0, -30.0])),
                               [0.5 * math.erfc(10 / math.sqrt(2)), 0.5 * math.erfc(30 / math.sqrt(2))],
                               rtol=1e-13, err_msg="the left tail of Phi must keep its precision")


# --- Embedding ----------------------------------------------------------------------------

def _compare_embedding(num, dim, indices, padding_idx=None, seed=0):
    torch.manual_seed(seed)
    emb_t = torch.nn.Embedding(num, dim, padding_idx=padding_idx).double()
    emb = load_from_torch(Embedding(num, dim, padding_idx=padding_idx).double(), emb_t)
    idx = np.asarray(indices)
    y_t = emb_t(torch.as_tensor(idx))
    upstream = np.random.default_rng((seed, 1)).standard_normal(tuple(y_t.shape))
    y_t.backward(to_torch(upstream))
    y = emb(idx)
    assert_close(y, to_numpy(y_t), "Embedding output")
    assert emb.backward(upstream) is None, "integer indices have no gradient"
    assert_close(emb.weight.grad, to_numpy(emb_t.weight.grad), "Embedding gradient w.r.t. 'weight'")
    return emb


@pytest.mark.parametrize("num, dim, indices", [
    (10, 4, [[1, 2, 3], [4, 5, 9]]),
    (5, 3, [[0]]),                                  # batch of one, one token
    (6, 2, [[1, 1, 1, 4], [4, 1, 0, 0]]),           # repeated indices accumulate
    (7, 5, [3, 3, 6]),                              # 1-D input
])
def test_embedding_matches_torch_and_repeated_indices_accumulate(num, dim, indices):
    _compare_embedding(num, dim, indices)


@pytest.mark.parametrize("padding_idx", [0, 2, -1])
def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient(padding_idx):
    emb = _compare_embedding(5, 3, [[0, 2, 4, 2], [1, 0, 4, 3]], padding_idx=padding_idx)
    row = padding_idx % 5
    assert not emb.weight.grad[row].any(), f"padding row {row} received a gradient"
    assert not Embedding(5, 3, padding_idx=padding_idx).weight.data[row].any()


def test_embedding_state_dict_key_is_torchs():
    assert list(Embedding(4, 2).state_dict()) == list(torch.nn.Embedding(4, 2).state_dict())


def test_embedding_gradient_passes_numerical_gradcheck(rng):
    emb = Embedding(6, 3, dtype=np.float64, rng=rng)
    idx = np.array([[0, 5, 5], [2, 0, 1]])
    upstream = rng.standard_normal((2, 3, 3))
    emb(idx)
    emb.backward(upstream)
    numeric = nnlib_numerical(lambda _: np.sum(emb(idx) * upstream), emb.weight.data)
    assert_close(emb.weight.grad, numeric, "Embedding weight gradient vs finite differences")


def nnlib_numerical(f, x):
    from nnlib import numerical_gradient
    return numerical_gradient(f, x)


@pytest.mark.parametrize("bad", [[[0, 10]], [[-1, 2]]])
def test_embedding_index_out_of_range_raises_naming_layer_index_and_shape(bad):
    with pytest.raises(IndexError, match=r"Embedding\(10, 4\): index -?1?0? is out of range 0\.\.9 "
                                         r"\(input of shape \(1, 2\)\)"):
        Embedding(10, 4)(np.array(bad))


def test_embedding_refuses_float_indices():
    with pytest.raises(TypeError, match="expected integer indices, got dtype float64"):
        Embedding(3, 2)(np.array([0.0, 1.0]))
