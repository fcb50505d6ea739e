"""nnlib.gradcheck: numerical gradients of known functions, and catching a wrong backward pass."""
import numpy as np
import pytest

from nnlib import Linear, Module, Parameter, gradcheck, numerical_gradient, relative_error
from nnlib.gradcheck import GradientCheckError


def test_numerical_gradient_of_a_quadratic_is_exact_up_to_roundoff(rng):
    x = rng.standard_normal((3, 4))
    grad = numerical_gradient(lambda v: np.sum(v ** 2), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, err_msg="d/dx sum(x^2) must be 2x")


def test_numerical_gradient_of_sin_matches_cos_to_order_h_squared():
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               atol=1e-9)


def test_numerical_gradient_restores_its_input(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_array_equal(x, before, err_msg="x must be restored after perturbing it")


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(np.sum, np.zeros(3, dtype=np.float32))


def test_relative_error_by_hand():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    # max|a-b| = 0.5, max(|a|+|b|) = 2 + 2.5
    assert relative_error([1.0, 2.0], [1.0, 2.5]) == pytest.approx(0.5 / 4.5)
    # both ~0: the denominator floor 1e-8 keeps it finite
    assert relative_error([0.0], [1e-12]) == pytest.approx(1e-4)


def test_gradcheck_of_a_correct_linear_layer_reports_tiny_errors(rng):
    errors = gradcheck(Linear(4, 3, dtype=np.float64, rng=rng), rng.standard_normal((5, 4)))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < 1e-8, errors


class LinearWithWrongBiasGradient(Linear):
    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.bias.grad *= 2          # the bug: counts dL/db twice
        return grad_input


def test_gradcheck_names_the_parameter_whose_gradient_is_wrong(rng):
    layer = LinearWithWrongBiasGradient(4, 3, dtype=np.float64)
    with pytest.raises(GradientCheckError, match=r"bias: relative error") as info:
        gradcheck(layer, rng.standard_normal((5, 4)))
    assert "weight" not in str(info.value) and "input" not in str(info.value), str(info.value)


def test_gradcheck_without_raising_returns_the_large_error(rng):
    errors = gradcheck(LinearWithWrongBiasGradient(4, 3, dtype=np.float64), rng.standard_normal((5, 4)),
                       raise_on_failure=False)
    assert errors["bias"] > 0.1 and errors["weight"] < 1e-8, errors


def test_gradcheck_catches_a_wrong_input_gradient(rng):
    class Square(Module):
        def forward(self, x):
            self._cache = x
            return x ** 2

        def backward(self, grad_output):
            return grad_output * self._cache      # the bug: forgets the factor 2

    with pytest.raises(GradientCheckError, match="input: relative error"):
        gradcheck(Square(), rng.standard_normal(4))


def test_gradcheck_refuses_float32_parameters_and_says_how_to_fix_it(rng):
    with pytest.raises(TypeError, match=r"'weight' is float32; call module.double\(\)"):
        gradcheck(Linear(2, 2), rng.standard_normal((1, 2)))


def test_gradcheck_checks_parameters_of_a_custom_module(rng):
    class Scale(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(np.array([1.5, -0.5]))

        def forward(self, x):
            self._cache = x
            return x * self.weight.data

        def backward(self, grad_output):
            self.weight.grad += (grad_output * self._cache).sum(axis=0)
            return grad_output * self.weight.data

    errors = gradcheck(Scale(), rng.standard_normal((3, 2)))
    assert set(errors) == {"input", "weight"} and max(errors.values()) < 1e-8, errors
