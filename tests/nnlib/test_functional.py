"""nnlib.functional against torch autograd: values, derivatives, extreme inputs, dtypes."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnlib.functional as F
from torch_reference import assert_close, to_numpy, to_torch

# name -> (nnlib function, nnlib derivative, torch function)
ACTIVATIONS = {
    "sigmoid": (F.sigmoid, F.sigmoid_grad, torch.sigmoid),
    "tanh": (F.tanh, F.tanh_grad, torch.tanh),
    "relu": (F.relu, F.relu_grad, torch.relu),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_grad, torch.nn.functional.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: F.leaky_relu_grad(x, 0.2),
                       lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
}
EXTREME = [-1e4, -1000.0, -100.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 100.0, 1000.0, 1e4]


def torch_value_and_derivative(torch_fn, x):
    x_t = to_torch(x, requires_grad=True)
    y_t = torch_fn(x_t)
    y_t.sum().backward()
    return to_numpy(y_t), to_numpy(x_t.grad)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch_on_random_and_extreme_inputs(name, rng):
    fn, _, torch_fn = ACTIVATIONS[name]
    x = np.concatenate([rng.standard_normal(50) * 5, EXTREME])
    expected, _ = torch_value_and_derivative(torch_fn, x)
    assert_close(fn(x), expected, f"{name}(x)", tol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_matches_torch_autograd(name, rng):
    _, grad_fn, torch_fn = ACTIVATIONS[name]
    x = np.concatenate([rng.standard_normal(50) * 5, EXTREME])
    _, expected = torch_value_and_derivative(torch_fn, x)
    assert_close(grad_fn(x), expected, f"{name}'(x)", tol=1e-12)


ALL_FUNCTIONS = {**{n: f for n, (f, _, _) in ACTIVATIONS.items()},
                 **{n + "_grad": g for n, (_, g, _) in ACTIVATIONS.items()},
                 "softmax": F.softmax, "log_softmax": F.log_softmax, "step": F.step}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_on_extreme_inputs_raises_no_floating_point_warning(name, dtype):
    x = np.array(EXTREME, dtype=dtype)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ALL_FUNCTIONS[name](x)
    assert np.all(np.isfinite(y)), f"{name} gave non-finite values {y} for inputs {x}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_keeps_input_dtype(name, dtype):
    y = ALL_FUNCTIONS[name](np.linspace(-3, 3, 7).astype(dtype))
    assert y.dtype == dtype, f"{name} turned a {np.dtype(dtype)} input into {y.dtype}"


def test_integer_input_is_computed_in_float64():
    assert F.sigmoid(np.array([0, 1])).dtype == np.float64, "ints should become float64"


def test_step_is_one_at_zero_and_above_and_zero_below():
    np.testing.assert_array_equal(F.step(np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])),
                                  [0, 0, 1, 1, 1], err_msg="step(x) must be 1 for x >= 0, else 0")


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_match_torch_along_axis(axis, rng):
    x = rng.standard_normal((4, 5)) * 10
    assert_close(F.softmax(x, axis=axis), to_numpy(torch.softmax(to_torch(x), dim=axis)),
                 f"softmax(axis={axis})", tol=1e-12)
    assert_close(F.log_softmax(x, axis=axis), to_numpy(torch.log_softmax(to_torch(x), dim=axis)),
                 f"log_softmax(axis={axis})", tol=1e-12)


def test_softmax_of_logits_1000_apart_is_finite_and_sums_to_one():
    x = np.array([[1000.0, 0.0, -1000.0], [1e4, 1e4, -1e4]], dtype=np.float32)
    p = F.softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6, err_msg="rows of softmax must sum to 1")
    np.testing.assert_allclose(p, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    np.testing.assert_allclose(F.log_softmax(x), [[0, -1000, -2000], [-np.log(2), -np.log(2), -2e4 - np.log(2)]],
                               rtol=1e-6, err_msg="log_softmax must stay finite where softmax is 0")


finite = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=25, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=finite),
       name=st.sampled_from(sorted(ACTIVATIONS)))
def test_activation_and_derivative_match_torch_for_any_shape(x, name):
    fn, grad_fn, torch_fn = ACTIVATIONS[name]
    value, derivative = torch_value_and_derivative(torch_fn, x)
    assert_close(fn(x), value, f"{name}(x) for x of shape {x.shape}", tol=1e-12)
    assert_close(grad_fn(x), derivative, f"{name}'(x) for x of shape {x.shape}", tol=1e-12)
