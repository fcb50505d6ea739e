"""nnlib.layers against torch.nn in float64, numerical gradient checks, dtypes, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlib
from nnlib import (BatchNorm1d, Dropout, Flatten, LeakyReLU, Linear, ReLU, Sequential, Sigmoid,
                   Tanh, gradcheck)
from torch_reference import assert_close, compare_with_torch, load_from_torch, to_numpy, to_torch

# name -> (nnlib factory, torch factory, input shape)
LAYERS = {
    "Linear": (lambda: Linear(4, 3), lambda: torch.nn.Linear(4, 3), (5, 4)),
    "Linear batch of 1": (lambda: Linear(4, 3), lambda: torch.nn.Linear(4, 3), (1, 4)),
    "Linear without bias": (lambda: Linear(6, 2, bias=False),
                            lambda: torch.nn.Linear(6, 2, bias=False), (3, 6)),
    "Linear 1 to 1": (lambda: Linear(1, 1), lambda: torch.nn.Linear(1, 1), (7, 1)),
    "Linear on sequences": (lambda: Linear(4, 3), lambda: torch.nn.Linear(4, 3), (2, 5, 4)),
    "ReLU": (ReLU, torch.nn.ReLU, (4, 5)),
    "LeakyReLU": (lambda: LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (4, 5)),
    "Sigmoid": (Sigmoid, torch.nn.Sigmoid, (3, 2, 4)),
    "Tanh": (Tanh, torch.nn.Tanh, (1, 6)),
    "Flatten": (Flatten, torch.nn.Flatten, (2, 3, 4, 5)),
    "Flatten(2)": (lambda: Flatten(2), lambda: torch.nn.Flatten(2), (2, 3, 4, 5)),
    "Flatten(0, 1)": (lambda: Flatten(0, 1), lambda: torch.nn.Flatten(0, 1), (2, 3, 4)),
    "Dropout in eval": (lambda: Dropout(0.3).eval(), lambda: torch.nn.Dropout(0.3).eval(), (4, 5)),
    "BatchNorm1d train": (lambda: BatchNorm1d(5), lambda: torch.nn.BatchNorm1d(5), (8, 5)),
    "BatchNorm1d train batch of 2": (lambda: BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (2, 3)),
    "MLP": (lambda: Sequential(Linear(4, 8), ReLU(), Linear(8, 8), Tanh(), Linear(8, 3)),
            lambda: torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                                        torch.nn.Tanh(), torch.nn.Linear(8, 3)), (6, 4)),
    "MLP with BatchNorm1d": (
        lambda: Sequential(Linear(4, 8, bias=False), BatchNorm1d(8), LeakyReLU(), Linear(8, 2)),
        lambda: torch.nn.Sequential(torch.nn.Linear(4, 8, bias=False), torch.nn.BatchNorm1d(8),
                                    torch.nn.LeakyReLU(), torch.nn.Linear(8, 2)), (5, 4)),
}


def _randomise_affine(torch_module, seed=1):
    """Batch norm starts at weight 1, bias 0, which would hide a swapped or missing term."""
    g = torch.Generator().manual_seed(seed)
    for m in torch_module.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g))
    return torch_module


@pytest.mark.parametrize("name", LAYERS)
def test_layer_output_and_gradients_match_torch(name, rng):
    make, make_torch, shape = LAYERS[name]
    torch.manual_seed(0)
    compare_with_torch(make(), _randomise_affine(make_torch()), rng.standard_normal(shape) * 2)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradients_pass_numerical_gradcheck(name, rng):
    make, _, shape = LAYERS[name]
    errors = gradcheck(make().double(), rng.standard_normal(shape), tol=1e-6)
    assert "input" in errors and len(errors) == 1 + len(list(make().parameters())), errors


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_keeps_input_dtype_in_forward_and_backward(name, dtype, rng):
    make, _, shape = LAYERS[name]
    layer = make()
    y = layer(rng.standard_normal(shape).astype(dtype))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype, f"{name}: output is {y.dtype} for a {np.dtype(dtype)} input"
    assert dx.dtype == dtype, f"{name}: input gradient is {dx.dtype} for a {np.dtype(dtype)} input"


def test_parameters_are_float32_by_default_and_float64_on_request():
    assert Linear(3, 2).weight.data.dtype == np.float32, "default parameters must be float32"
    assert Linear(3, 2, dtype=np.float64).bias.data.dtype == np.float64
    bn = BatchNorm1d(3).double()
    assert bn.weight.data.dtype == bn.running_var.dtype == np.float64, ".double() must cast buffers too"
    assert bn.num_batches_tracked.dtype == np.int64, ".double() must leave the integer counter alone"


def test_linear_init_is_uniform_within_one_over_sqrt_in_features():
    layer = Linear(400, 300, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(400)
    for name, p in layer.named_parameters():
        assert np.abs(p.data).max() <= bound, f"{name} exceeds the bound 1/sqrt(in_features)"
        assert np.abs(p.data).max() > 0.95 * bound, f"{name} does not fill U(-b, b)"
    np.testing.assert_allclose(layer.weight.data.std(), bound / np.sqrt(3), rtol=0.02,
                               err_msg="std of U(-b, b) must be b / sqrt(3)")


def test_layers_built_with_the_same_rng_seed_are_identical():
    a, b = Linear(5, 4, rng=np.random.default_rng(3)), Linear(5, 4, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_manual_seed_makes_unseeded_layers_reproducible():
    nnlib.manual_seed(7)
    first = Linear(5, 4).weight.data
    nnlib.manual_seed(7)
    np.testing.assert_array_equal(Linear(5, 4).weight.data, first)


def test_backward_accumulates_parameter_gradients_until_zero_grad(rng):
    layer = Linear(3, 2, dtype=np.float64)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, err_msg="backward must add into .grad")
    layer.zero_grad()
    assert not layer.weight.grad.any(), "zero_grad must reset .grad to 0"


# --- BatchNorm1d --------------------------------------------------------------------------

def test_batchnorm_running_statistics_match_torch_after_several_steps(rng):
    torch.manual_seed(0)
    bn, bn_t = BatchNorm1d(4).double(), torch.nn.BatchNorm1d(4).double()
    for step in range(5):
        x = rng.standard_normal((6 + step, 4)) * 3 + 1
        bn(x)
        bn_t(to_torch(x))
    state = bn.state_dict()
    for key, value in bn_t.state_dict().items():
        assert_close(state[key], to_numpy(value), f"BatchNorm1d {key} after 5 steps", tol=1e-12)


def test_batchnorm_eval_uses_running_statistics_like_torch(rng):
    torch.manual_seed(0)
    bn, bn_t = BatchNorm1d(4), _randomise_affine(torch.nn.BatchNorm1d(4))
    bn_t.double()
    for _ in range(3):
        bn_t(to_torch(rng.standard_normal((8, 4)) * 2 - 1))
    bn_t.eval()
    bn.eval()
    y = compare_with_torch(bn, bn_t, rng.standard_normal((3, 4)))
    x = rng.standard_normal((1, 4))
    np.testing.assert_allclose(bn(x), to_numpy(bn_t(to_torch(x))), rtol=1e-12,
                               err_msg="eval mode must accept a batch of 1")
    assert y.shape == (3, 4)


def test_batchnorm_momentum_none_is_a_cumulative_average_like_torch(rng):
    bn, bn_t = BatchNorm1d(2, momentum=None).double(), torch.nn.BatchNorm1d(2, momentum=None).double()
    for _ in range(4):
        x = rng.standard_normal((5, 2))
        bn(x)
        bn_t(to_torch(x))
    assert_close(bn.running_var, to_numpy(bn_t.running_var), "running_var with momentum=None")


def test_batchnorm_training_on_a_batch_of_one_raises_value_error():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*more than 1 value.*\(1, 3\)"):
        BatchNorm1d(3)(np.zeros((1, 3)))


# --- Dropout --------------------------------------------------------------------------------

def test_dropout_in_training_zeroes_about_p_and_scales_the_rest_by_one_over_one_minus_p():
    p, x = 0.3, np.ones((200, 500))
    y = Dropout(p, rng=np.random.default_rng(0))(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-12, err_msg="kept units must be x/(1-p)")
    # 100000 Bernoulli draws: the fraction dropped has std sqrt(p(1-p)/n) ~ 0.0014
    assert abs((1 - kept.mean()) - p) < 0.01, f"dropped fraction {1 - kept.mean():.4f}, expected {p}"
    assert abs(y.mean() - 1) < 0.02, f"inverted dropout must keep the mean: got {y.mean():.4f}"


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = Dropout(0.5, rng=rng)
    y = layer(np.ones((10, 10)))
    g = rng.standard_normal((10, 10))
    np.testing.assert_allclose(layer.backward(g), g * y, err_msg="dL/dx must be dL/dy * mask")


def test_dropout_in_eval_mode_is_the_identity(rng):
    x = rng.standard_normal((4, 6))
    layer = Dropout(0.9).eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_masks_differ_between_calls_and_repeat_with_the_same_seed():
    x = np.ones((8, 8))
    a, b = Dropout(rng=np.random.default_rng(1)), Dropout(rng=np.random.default_rng(1))
    first = a(x)
    assert not np.array_equal(first, a(x)), "each forward must draw a new mask"
    np.testing.assert_array_equal(first, b(x), err_msg="the same seed must give the same mask")


def test_dropout_p_one_drops_everything_and_p_zero_nothing(rng):
    x = rng.standard_normal((3, 4))
    assert not Dropout(1.0)(x).any(), "p=1 must zero every unit"
    np.testing.assert_array_equal(Dropout(0.0)(x), x)


def test_dropout_rejects_p_outside_zero_one():
    with pytest.raises(ValueError, match="p must be"):
        Dropout(1.5)


# --- Sequential -----------------------------------------------------------------------------

def test_sequential_names_children_by_position_and_supports_indexing_and_len():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    assert len(model) == 3
    assert isinstance(model[1], ReLU) and model[-1] is model[2]
    assert [type(m) for m in model] == [Linear, ReLU, Linear]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    tail = model[1:]
    assert isinstance(tail, Sequential) and len(tail) == 2 and tail[1] is model[2]


def test_sequential_backward_runs_children_in_reverse_order():
    calls = []

    class Recorder(nnlib.Module):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, x):
            calls.append(("forward", self.name))
            return x

        def backward(self, g):
            calls.append(("backward", self.name))
            return g

    model = Sequential(Recorder("a"), Recorder("b"), Recorder("c"))
    model.backward(model(np.zeros(1)))
    assert calls == [("forward", "a"), ("forward", "b"), ("forward", "c"),
                     ("backward", "c"), ("backward", "b"), ("backward", "a")], calls


def test_train_and_eval_reach_every_child():
    model = Sequential(Linear(2, 2), Sequential(Dropout(), BatchNorm1d(2)))
    model.eval()
    assert not any(m.training for m in model.modules()), "eval() must reach nested children"
    model.train()
    assert all(m.training for m in model.modules())


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, bad_shape, expected", [
    (Linear(4, 3), (2, 5), r"Linear\(in_features=4, out_features=3\): expected input of shape "
                           r"\(batch, 4\), got \(2, 5\)"),
    (Linear(4, 3), (4,), r"Linear\(in_features=4, out_features=3\): expected input of shape "
                         r"\(batch, 4\), got \(4,\)"),
    (BatchNorm1d(3), (2, 4), r"BatchNorm1d\(3, .*\): expected input of shape \(batch, 3\), got \(2, 4\)"),
    (BatchNorm1d(3), (2, 3, 5), r"BatchNorm1d\(3, .*\): expected input of shape \(batch, 3\), "
                                r"got \(2, 3, 5\)"),
    (Flatten(2), (2, 3), r"Flatten\(start_dim=2, end_dim=-1\): cannot flatten .* shape \(2, 3\)"),
])
def test_wrong_input_shape_raises_value_error_naming_layer_and_both_shapes(layer, bad_shape, expected):
    with pytest.raises(ValueError, match=expected):
        layer(np.zeros(bad_shape))


def test_wrong_grad_output_shape_raises_value_error():
    layer = Linear(4, 3)
    layer(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expected grad_output of shape \(2, 3\), got \(2, 4\)"):
        layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("layer", [Linear(2, 2), ReLU(), LeakyReLU(), Sigmoid(), Tanh(), Flatten(),
                                   Dropout(), BatchNorm1d(2), Sequential(Linear(2, 2), ReLU())],
                         ids=lambda m: type(m).__name__)
def test_backward_before_forward_raises_runtime_error(layer):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((2, 2)))


# --- property tests -----------------------------------------------------------------------

@settings(max_examples=25)
@given(batch=st.integers(1, 9), in_features=st.integers(1, 9), out_features=st.integers(1, 9),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_matches_torch_for_any_sizes(batch, in_features, out_features, bias, seed):
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).standard_normal((batch, in_features))
    compare_with_torch(Linear(in_features, out_features, bias=bias),
                       torch.nn.Linear(in_features, out_features, bias=bias), x, seed=seed)


@settings(max_examples=25)
@given(batch=st.integers(2, 9), features=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_batchnorm_matches_torch_for_any_sizes(batch, features, seed):
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).standard_normal((batch, features)) * 3
    compare_with_torch(BatchNorm1d(features), _randomise_affine(torch.nn.BatchNorm1d(features), seed),
                       x, seed=seed)


@settings(max_examples=25)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=st.integers(0, 2**16),
       layer=st.sampled_from(["ReLU", "LeakyReLU", "Sigmoid", "Tanh"]))
def test_activation_layers_match_torch_for_any_shape(shape, seed, layer):
    x = np.random.default_rng(seed).standard_normal(shape) * 4
    compare_with_torch(getattr(nnlib, layer)(), getattr(torch.nn, layer)(), x, seed=seed)


def test_load_from_torch_copies_weights_exactly():
    torch.manual_seed(0)
    layer_t = torch.nn.Linear(3, 2).double()
    layer = load_from_torch(Linear(3, 2, dtype=np.float64), layer_t)
    np.testing.assert_array_equal(layer.weight.data, to_numpy(layer_t.weight))
