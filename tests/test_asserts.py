"""nncourse.asserts: the messages learners see when an exercise test fails."""
import numpy as np
import pytest

from nncourse.asserts import assert_close, assert_equal, assert_shape, assert_true


def message(check, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_close_values_pass_within_tolerance():
    assert_close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9], "f(x)")
    assert_close(0.5150, 0.51499, "neuron", atol=1e-4)


def test_a_wrong_array_shows_expected_actual_and_the_first_difference():
    text = message(assert_close, [1.0, 2.0, 3.0], [1.0, 2.0, 4.0], "f(x)")
    assert "f(x) is wrong" in text
    assert "expected: [1. 2. 4.]" in text and "got:      [1. 2. 3.]" in text
    assert "first difference at index (2,): expected 4, got 3" in text


def test_a_wrong_scalar_shows_both_numbers():
    text = message(assert_close, 0.5498, 0.5150, "neuron_output(x, w, b)", atol=1e-4)
    assert "expected: 0.515" in text and "got:      0.5498" in text


def test_a_missing_return_is_named():
    assert "returned None: did you forget a `return`?" in message(assert_close, None, 1.0, "g(x)")


def test_a_wrong_shape_names_both_shapes():
    text = message(assert_close, np.zeros((2, 3)), np.zeros(3), "layer output")
    assert "expected shape: (3,)" in text and "got shape:      (2, 3)" in text
    assert "(4, 2)" in message(assert_shape, np.zeros((4, 2)), (2, 4), "weight")


def test_overflow_is_reported_as_non_finite():
    text = message(assert_close, [1.0, np.nan], [1.0, 0.5], "softmax(z)")
    assert "nan at index (1,)" in text and "overflow" in text


def test_a_list_and_a_tuple_with_the_same_items_are_equal():
    assert_equal((2, 3), [2, 3], "shape")
    assert "expected: [2, 3]" in message(assert_equal, (2, 4), [2, 3], "shape")


def test_equal_arrays_compare_elementwise():
    assert_equal(np.array([1, 2]), np.array([1, 2]), "labels")
    assert "labels is wrong" in message(assert_equal, np.array([1, 3]), np.array([1, 2]), "labels")


def test_assert_true_raises_with_its_explanation():
    assert_true(True, "unused")
    assert message(assert_true, False, "the weights must not change") == "the weights must not change"
