"""nnlib.losses against torch.nn losses in float64: values, gradients, extreme inputs, errors."""
import warnings

from decimal import Decimal, getcontext

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from torch_reference import assert_close, to_numpy, to_torch


def torch_loss_and_grad(torch_loss, pred, target):
    pred_t = to_torch(pred, requires_grad=True)
    target_t = torch.as_tensor(target) if np.asarray(target).dtype.kind in "iu" else to_torch(target)
    loss_t = torch_loss(pred_t, target_t)
    loss_t.backward()
    return loss_t.item(), to_numpy(pred_t.grad)


def check_against_torch(loss, torch_loss, pred, target, tol=1e-10):
    expected_value, expected_grad = torch_loss_and_grad(torch_loss, pred, target)
    value = loss(pred, target)
    name = type(loss).__name__
    assert isinstance(value, float), f"{name} must return a Python float, got {type(value).__name__}"
    assert_close(value, expected_value, f"{name} value", tol)
    assert_close(loss.backward(), expected_grad, f"{name} gradient w.r.t. pred", tol)


def probabilities(rng, shape):
    return rng.uniform(0.01, 0.99, shape)


@pytest.mark.parametrize("shape", [(1,), (5,), (4, 3), (1, 1), (2, 3, 4)])
def test_mse_matches_torch(shape, rng):
    check_against_torch(MSELoss(), torch.nn.MSELoss(), rng.standard_normal(shape),
                        rng.standard_normal(shape))


@pytest.mark.parametrize("shape", [(1,), (6,), (4, 1), (3, 5)])
def test_bce_matches_torch(shape, rng):
    check_against_torch(BCELoss(), torch.nn.BCELoss(), probabilities(rng, shape),
                        rng.integers(0, 2, shape).astype(float))


def test_bce_with_soft_targets_matches_torch(rng):
    check_against_torch(BCELoss(), torch.nn.BCELoss(), probabilities(rng, (8,)), rng.uniform(0, 1, 8))


def test_bce_on_probabilities_zero_and_one_is_clamped_like_torch():
    pred, target = np.array([0.0, 1.0, 0.0, 1.0, 1e-30]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        check_against_torch(BCELoss(), torch.nn.BCELoss(), pred, target)


@pytest.mark.parametrize("shape", [(1,), (6,), (4, 1), (3, 5)])
def test_bce_with_logits_matches_torch(shape, rng):
    check_against_torch(BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(),
                        rng.standard_normal(shape) * 3, rng.integers(0, 2, shape).astype(float))


def test_bce_with_logits_is_stable_for_logits_of_1000():
    logits, target = np.array([1000.0, -1000.0, 1000.0, -1000.0, 1e4]), np.array([0.0, 1, 1, 0, 0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        check_against_torch(BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), logits, target)


@pytest.mark.parametrize("n, c", [(1, 2), (1, 10), (5, 3), (16, 10)])
def test_cross_entropy_matches_torch(n, c, rng):
    check_against_torch(CrossEntropyLoss(), torch.nn.CrossEntropyLoss(),
                        rng.standard_normal((n, c)) * 3, rng.integers(0, c, n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_for_logits_of_1000(dtype):
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [1e4, -1e4, 0]], dtype=dtype)
    labels = np.array([2, 1, 1])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        check_against_torch(CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, labels,
                            tol=1e-6 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("loss, pred, target", [
    (MSELoss(), np.zeros((3, 2), np.float32), np.ones((3, 2))),
    (BCEWithLogitsLoss(), np.zeros(4, np.float32), np.ones(4)),
    (CrossEntropyLoss(), np.zeros((3, 4), np.float32), np.array([0, 1, 3])),
], ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else "")
def test_loss_gradient_keeps_the_dtype_of_pred(loss, pred, target):
    loss(pred, target)
    assert loss.backward().dtype == np.float32, f"{type(loss).__name__} gradient is not float32"


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    """By hand: equal logits give softmax 1/3 everywhere, so dL/dz = (1/3 - onehot) / 2."""
    loss = CrossEntropyLoss()
    assert loss(np.zeros((2, 3)), np.array([0, 2])) == pytest.approx(np.log(3))
    np.testing.assert_allclose(loss.backward(), [[-1 / 3, 1 / 6, 1 / 6], [1 / 6, 1 / 6, -1 / 3]])


def test_backward_scales_by_grad_output(rng):
    loss = MSELoss()
    pred, target = rng.standard_normal(4), rng.standard_normal(4)
    loss(pred, target)
    np.testing.assert_allclose(loss.backward(3.0), 3 * loss.backward())


@pytest.mark.parametrize("loss", [MSELoss(), BCELoss(), BCEWithLogitsLoss(), CrossEntropyLoss()],
                         ids=lambda m: type(m).__name__)
def test_loss_backward_before_forward_raises_runtime_error(loss):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        loss.backward()


@pytest.mark.parametrize("loss", [MSELoss(), BCELoss(), BCEWithLogitsLoss()],
                         ids=lambda m: type(m).__name__)
def test_pred_and_target_of_different_shapes_raise_value_error_with_both(loss):
    with pytest.raises(ValueError, match=r"same shape, got pred \(4, 1\) and target \(4,\)"):
        loss(np.full((4, 1), 0.5), np.ones(4))


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*BCEWithLogitsLoss"):
        BCELoss()(np.array([0.5, 1.5]), np.array([0.0, 1.0]))


@pytest.mark.parametrize("logits, labels, message", [
    (np.zeros(3), np.array([0]), r"logits of shape \(batch, classes\), got \(3,\)"),
    (np.zeros((3, 4)), np.array([0, 1]), r"target of shape \(3,\).*got \(2,\)"),
    (np.zeros((2, 4)), np.array([0.0, 1.0]), r"integer class labels, got dtype float64"),
    (np.zeros((2, 4)), np.array([0, 4]), r"labels must be in \[0, 3\] for 4 classes.*\[0, 4\]"),
    (np.zeros((2, 4)), np.array([-1, 2]), r"labels must be in \[0, 3\]"),
])
def test_cross_entropy_rejects_bad_shapes_and_labels_with_a_clear_message(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss()(logits, labels)


@settings(max_examples=25)
@given(n=st.integers(1, 8), c=st.integers(2, 8), scale=st.sampled_from([0.1, 1.0, 30.0, 1000.0]),
       seed=st.integers(0, 2**16))
def test_cross_entropy_matches_torch_for_any_sizes_and_scales(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    check_against_torch(CrossEntropyLoss(), torch.nn.CrossEntropyLoss(),
                        rng.standard_normal((n, c)) * scale, rng.integers(0, c, n))


@settings(max_examples=25)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       scale=st.sampled_from([0.1, 1.0, 50.0]))
def test_bce_with_logits_matches_torch_for_any_shape(shape, seed, scale):
    rng = np.random.default_rng(seed)
    z, t = rng.standard_normal(shape) * scale, rng.integers(0, 2, shape).astype(float)
    # When every prediction is confidently right the loss is tiny (1e-12 at |z| = 50) and
    # PyTorch's formula loses digits to cancellation (terms of size |z| cancel); nnlib's
    # max(z, 0) - z t is exact for 0/1 targets. So the value is compared with exact arithmetic:
    # L = mean log(1 + e^(-z)) for t = 1 and log(1 + e^z) for t = 0, in 50-digit decimals.
    getcontext().prec = 50
    terms = [(Decimal(1) + (Decimal(-zi) if ti else Decimal(zi)).exp()).ln()
             for zi, ti in zip(z.ravel().tolist(), t.ravel().tolist())]
    exact = float(sum(terms) / len(terms))
    loss = BCEWithLogitsLoss()
    assert_close(loss(z, t), exact, "BCEWithLogitsLoss value (exact reference)", 1e-12)
    _, expected_grad = torch_loss_and_grad(torch.nn.BCEWithLogitsLoss(), z, t)
    assert_close(loss.backward(), expected_grad, "BCEWithLogitsLoss gradient w.r.t. pred", 1e-10)
