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


# sigmoid' = s (1 - s) and tanh' = 1 - t^2 cancel near saturation: for |x| = 7, tanh' is 3e-6, yet
# t = tanh(x) is only known to half an ulp of 1 (1.1e-16) in either library, so 1 - t^2 carries an
# absolute error of up to about 2 ulps of 1 (4.4e-16) whichever way it is rounded: a relative error
# that grows without bound as x saturates (4.8e-12 at x = 7, 1 at x = 19). A derivative therefore
# matches when it is within 1e-12 relative *or* 8 ulps of 1 absolute (eps = 2.2e-16), the most the
# two roundings of t and of 1 - t^2 (or s and 1 - s) can differ by.
DERIVATIVE_ATOL = 8 * np.finfo(np.float64).eps


def assert_derivative_close(actual, expected, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    excess = np.abs(actual - expected) - (1e-12 * np.abs(expected) + DERIVATIVE_ATOL)
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    assert excess[worst] <= 0, (f"{what}: {actual[worst]!r} at {worst}, expected {expected[worst]!r} "
                                f"(differs by {abs(actual[worst] - expected[worst]):.3g})")


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
    assert_derivative_close(grad_fn(x), expected, f"{name}'(x)")


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


@settings(max_examples=25)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=finite),
       name=st.sampled_from(sorted(ACTIVATIONS)))
def test_activation_and_derivative_match_torch_for_any_shape(x, name):
    fn, grad_fn, torch_fn = ACTIVATIONS[name]
    value, derivative = torch_value_and_derivative(torch_fn, x)
    assert_close(fn(x), value, f"{name}(x) for x of shape {x.shape}", tol=1e-12)
    assert_derivative_close(grad_fn(x), derivative, f"{name}'(x) for x of shape {x.shape}")


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_saturating_derivative_matches_torch_where_it_cancels(name):
    """x = 7.0 once failed a purely relative 1e-12 check for tanh' (4.8e-12 off): it must pass."""
    _, grad_fn, torch_fn = ACTIVATIONS[name]
    x = np.array([[7.0, -7.0, 12.5, 19.0, 36.0]])
    _, expected = torch_value_and_derivative(torch_fn, x)
    assert_derivative_close(grad_fn(x), expected, f"{name}'(x) near saturation")


def test_property_tests_draw_the_same_examples_on_every_run():
    current = settings()
    assert current.derandomize and current.database is None and current.deadline is None, (
        f"the hypothesis profile must be derandomized, database-free and without deadline: {current}")
