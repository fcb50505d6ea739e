"""nnlib.perceptron.Perceptron: prediction, the learning rule, convergence, and errors."""
import numpy as np
import pytest

from nnlib.perceptron import Perceptron

GATES = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def test_prediction_is_the_step_of_the_weighted_sum():
    p = Perceptron(3)
    p.weight, p.bias = np.array([0.3, -0.5, 0.8]), 0.1
    # z = 0.15 - 0.40 + 0.16 + 0.1 = 0.01 >= 0
    assert p.net_input(np.array([0.5, 0.8, 0.2])) == pytest.approx(0.01)
    assert p.predict(np.array([0.5, 0.8, 0.2])) == 1
    assert p.predict(np.array([0.5, 0.8, 0.3])) == 1
    assert p.predict(np.array([0.0, 1.0, 0.0])) == 0


def test_a_batch_gives_one_prediction_per_row():
    p = Perceptron(2)
    p.weight, p.bias = np.array([1.0, 1.0]), -1.5
    np.testing.assert_array_equal(p.predict(GATES), [0, 0, 0, 1])


def test_boundary_point_z_equal_zero_is_class_one():
    p = Perceptron(1)
    assert p.predict(np.array([0.0])) == 1


def test_update_follows_the_learning_rule():
    p = Perceptron(2, lr=0.5)
    p.weight, p.bias = np.array([1.0, -1.0]), 0.0
    error = p.update(np.array([2.0, 3.0]), 1)       # z = -1 -> predicts 0, error +1
    assert error == 1
    np.testing.assert_allclose(p.weight, [2.0, 0.5])
    assert p.bias == pytest.approx(0.5)
    error = p.update(np.array([2.0, 3.0]), 1)       # now z = 6, correct
    assert error == 0
    np.testing.assert_allclose(p.weight, [2.0, 0.5])


@pytest.mark.parametrize("labels, epochs", [([0, 0, 0, 1], 6), ([0, 1, 1, 1], 4), ([1, 1, 1, 0], 6)])
def test_fit_learns_linearly_separable_gates(labels, epochs):
    p = Perceptron(2)
    mistakes = p.fit(GATES, np.array(labels), epochs=50)
    assert mistakes[-1] == 0 and len(mistakes) == epochs
    np.testing.assert_array_equal(p.predict(GATES), labels)


def test_fit_never_converges_on_xor():
    p = Perceptron(2)
    mistakes = p.fit(GATES, np.array([0, 1, 1, 0]), epochs=30)
    assert len(mistakes) == 30 and min(mistakes) > 0


def test_fit_converges_on_random_separable_data():
    rng = np.random.default_rng(0)
    w_true = rng.normal(size=5)
    X = rng.normal(size=(300, 5))
    X = X[np.abs(X @ w_true) > 0.3]
    y = (X @ w_true > 0).astype(int)
    p = Perceptron(5, lr=0.1, rng=np.random.default_rng(1))
    mistakes = p.fit(X, y, epochs=1000)
    assert mistakes[-1] == 0
    assert np.all(p.predict(X) == y)


def test_wrong_input_width_names_the_layer_and_both_shapes():
    p = Perceptron(3)
    with pytest.raises(ValueError, match=r"Perceptron\(in_features=3\).*\(batch, 3\).*\(4, 2\)"):
        p.predict(np.zeros((4, 2)))


def test_labels_must_be_zero_or_one():
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        Perceptron(2).fit(GATES, np.array([0, 1, 2, 1]))
