"""Module protocol: state_dict round trips with torch, load errors, dtype conversion, shape helper."""
import numpy as np
import pytest
import torch

from nnlib import BatchNorm1d, Dropout, Linear, Module, Parameter, ReLU, Sequential
from nnlib.module import check_shape
from torch_reference import to_numpy, to_torch


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                               torch.nn.Dropout(0.2), torch.nn.Linear(16, 3))


def nnlib_mlp(dtype=np.float32):
    return Sequential(Linear(5, 16, dtype=dtype), BatchNorm1d(16, dtype=dtype), ReLU(), Dropout(0.2),
                      Linear(16, 3, dtype=dtype))


def trained_torch_mlp(rng):
    """A torch MLP whose batch-norm statistics and weights are no longer at their initial values."""
    torch.manual_seed(0)
    model_t = torch_mlp().double()
    optimizer = torch.optim.SGD(model_t.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        model_t(to_torch(rng.standard_normal((8, 5)) * 2 + 1)).sum().backward()
        optimizer.step()
    return model_t.eval()


def test_state_dict_keys_are_torch_keys_in_torch_order():
    assert list(nnlib_mlp().state_dict()) == list(torch_mlp().state_dict()), "state_dict keys differ"


def test_state_dict_round_trip_torch_to_nnlib_to_torch_gives_identical_outputs(rng):
    model_t = trained_torch_mlp(rng)
    model = nnlib_mlp(np.float64).load_state_dict(
        {k: v.numpy() for k, v in model_t.state_dict().items()}).eval()
    x = rng.standard_normal((4, 5))
    expected = to_numpy(model_t(to_torch(x)))
    np.testing.assert_allclose(model(x), expected, rtol=1e-12, atol=1e-14,
                               err_msg="nnlib with torch's weights gives a different output")

    back = torch_mlp().double()
    back.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in model.state_dict().items()})
    back.eval()
    np.testing.assert_array_equal(to_numpy(back(to_torch(x))), expected,
                                  err_msg="torch reloaded from nnlib's state_dict changed its output")
    assert int(back[1].num_batches_tracked) == 3, "num_batches_tracked was lost on the way"


def test_state_dict_is_a_copy(rng):
    layer = Linear(2, 2)
    state = layer.state_dict()
    state["weight"][...] = 0
    assert layer.weight.data.any(), "editing the state_dict must not change the model"


def test_loading_float64_weights_keeps_a_float32_model_float32(rng):
    model = nnlib_mlp().load_state_dict(
        {k: v.numpy() for k, v in trained_torch_mlp(rng).state_dict().items()})
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float32


def test_load_state_dict_with_a_missing_key_raises_key_error_listing_it():
    state = nnlib_mlp().state_dict()
    del state["4.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['4.bias'\]"):
        nnlib_mlp().load_state_dict(state)


def test_load_state_dict_with_a_wrong_shape_raises_value_error_naming_key_and_shapes():
    state = nnlib_mlp().state_dict()
    state["0.weight"] = np.zeros((16, 4))
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(16, 5\) in the model but \(16, 4\)"):
        nnlib_mlp().load_state_dict(state)


def test_double_converts_parameters_gradients_and_float_buffers_and_float_converts_back():
    model = nnlib_mlp().double()
    for name, p in model.named_parameters():
        assert p.data.dtype == p.grad.dtype == np.float64, f"'{name}' is not float64 after double()"
    assert model[1].running_var.dtype == np.float64
    model.float()
    assert all(p.data.dtype == np.float32 for p in model.parameters()), "float() did not convert back"


def test_check_shape_accepts_named_sizes_and_rejects_wrong_ones():
    layer = Linear(4, 3)
    check_shape(layer, np.zeros((7, 4)), ("batch", 4))
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 4\), got \(7, 4, 1\)"):
        check_shape(layer, np.zeros((7, 4, 1)), ("batch", 4))
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\), got \(2,\)"):
        check_shape(layer, np.zeros(2), (3,), "target")


def test_subclass_that_forgets_super_init_gets_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.weight = 1

    with pytest.raises(RuntimeError, match="must call super\\(\\).__init__\\(\\) first"):
        Broken()


class Counter(Module):
    """A module with one parameter and two buffers, one of them replaced by every forward."""

    def __init__(self):
        super().__init__()
        self.weight = Parameter(np.ones(2))
        self.register_buffer("total", np.zeros(2))
        self.register_buffer("calls", np.array(0, dtype=np.int64))

    def forward(self, x):
        self.total = self.total + x          # a new array: it must stay registered
        self.calls += 1
        self._cache = x
        return x * self.weight.data


def test_register_buffer_puts_state_in_state_dict_after_parameters_and_keeps_reassigned_arrays():
    module = Counter()
    module(np.array([1.0, 2.0]))
    module(np.array([3.0, 4.0]))
    state = module.state_dict()
    assert list(state) == ["weight", "total", "calls"], list(state)
    np.testing.assert_array_equal(state["total"], [4.0, 6.0])
    assert int(state["calls"]) == 2, "a buffer updated in place was not saved"
    assert [name for name, _ in module.named_parameters()] == ["weight"], "a buffer is no parameter"


def test_buffers_load_back_and_are_cast_by_double_and_float():
    source = Counter()
    source(np.array([1.0, -1.0]))
    target = Counter().load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target.total, [1.0, -1.0])
    target.float()
    assert target.total.dtype == np.float32 and target.calls.dtype == np.int64
    assert target.state_dict()["total"].dtype == np.float32


def test_register_buffer_refuses_a_parameter_name():
    module = Counter()
    with pytest.raises(KeyError, match="'weight' is already a parameter"):
        module.register_buffer("weight", np.zeros(2))


def test_every_layer_saves_for_backward_under_one_name(rng):
    """forward stores what backward needs in ``_cache``: no layer keeps its own private name."""
    import nnlib
    layers = [Linear(3, 2), ReLU(), nnlib.LeakyReLU(), nnlib.Sigmoid(), nnlib.Tanh(), nnlib.GELU(),
              nnlib.Flatten(), Dropout(0.5), BatchNorm1d(3), nnlib.LayerNorm(3)]
    for layer in layers:
        before = set(vars(layer))
        assert layer._cache is None, f"{type(layer).__name__}: _cache must start as None"
        layer(rng.standard_normal((4, 3)))
        assert layer._cache is not None, f"{type(layer).__name__} saved nothing in _cache"
        added = set(vars(layer)) - before
        assert not added, f"{type(layer).__name__}.forward created attributes {added} besides _cache"
