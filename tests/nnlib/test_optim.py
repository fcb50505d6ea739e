"""nnlib.optim follows torch.optim's parameter trajectory; StepLR and EarlyStopping behaviour."""
import numpy as np
import pytest
import torch

from nnlib import (SGD, Adam, AdamW, CrossEntropyLoss, EarlyStopping, LambdaLR, Linear, Parameter,
                   ReduceLROnPlateau, ReLU, Sequential, StepLR, Tanh, clip_grad_norm_, warmup_cosine)
from torch_reference import assert_close, load_from_torch, to_numpy, to_torch

STEPS = 12

OPTIMIZERS = {
    "SGD": (dict(lr=0.1), SGD, torch.optim.SGD),
    "SGD momentum": (dict(lr=0.1, momentum=0.9), SGD, torch.optim.SGD),
    "SGD weight decay": (dict(lr=0.1, weight_decay=0.05), SGD, torch.optim.SGD),
    "SGD momentum and weight decay": (dict(lr=0.05, momentum=0.8, weight_decay=0.01),
                                      SGD, torch.optim.SGD),
    "SGD dampening": (dict(lr=0.1, momentum=0.9, dampening=0.5), SGD, torch.optim.SGD),
    "SGD nesterov": (dict(lr=0.1, momentum=0.9, nesterov=True), SGD, torch.optim.SGD),
    "Adam": (dict(lr=0.01), Adam, torch.optim.Adam),
    "Adam weight decay": (dict(lr=0.01, weight_decay=0.1), Adam, torch.optim.Adam),
    "Adam betas and eps": (dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6), Adam, torch.optim.Adam),
    "AdamW": (dict(lr=0.01), AdamW, torch.optim.AdamW),
    "AdamW strong decay": (dict(lr=0.02, weight_decay=0.5, betas=(0.8, 0.99)), AdamW,
                           torch.optim.AdamW),
}


def mlp_pair():
    torch.manual_seed(0)
    model_t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                  torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    model = Sequential(Linear(4, 8), Tanh(), Linear(8, 8), ReLU(), Linear(8, 3)).double()
    return load_from_torch(model, model_t), model_t


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_follows_torch_parameter_trajectory_on_a_small_mlp(name):
    kwargs, make, make_torch = OPTIMIZERS[name]
    model, model_t = mlp_pair()
    optimizer, optimizer_t = make(model.parameters(), **kwargs), make_torch(model_t.parameters(), **kwargs)
    criterion, criterion_t = CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)
    start = model.state_dict()
    for step in range(STEPS):   # a new mini-batch each step, so momentum and moments matter
        x, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
        optimizer.zero_grad()
        criterion(model(x), y)
        model.backward(criterion.backward())
        optimizer.step()
        optimizer_t.zero_grad()
        criterion_t(model_t(to_torch(x)), torch.as_tensor(y)).backward()
        optimizer_t.step()
        params_t = dict(model_t.named_parameters())
        for key, p in model.named_parameters():
            assert_close(p.data, to_numpy(params_t[key]), f"{name}: '{key}' after step {step + 1}",
                         tol=1e-9)
    moved = max(np.abs(model.state_dict()[k] - start[k]).max() for k in start)
    assert moved > 1e-3, f"{name}: parameters barely moved ({moved:.2g}), the test would prove little"


def test_sgd_first_momentum_step_equals_a_plain_step():
    """PyTorch starts the momentum buffer at the first gradient (not at 0): step 1 is plain SGD."""
    p = Parameter(np.array([1.0, 2.0]))
    p.grad = np.array([0.5, -1.0])
    SGD([p], lr=0.1, momentum=0.9).step()
    np.testing.assert_allclose(p.data, [0.95, 2.1], err_msg="first step must be w - lr * g")


def test_adam_first_step_moves_each_weight_by_about_lr():
    """With bias correction, m_hat = g and v_hat = g^2 at step 1: the step is lr * sign(g)."""
    p = Parameter(np.array([1.0, 1.0, 1.0]))
    p.grad = np.array([1e-3, -5.0, 200.0])
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99], rtol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
                                  lambda ps: Adam(ps, weight_decay=1e-3)], ids=["SGD", "Adam"])
def test_step_keeps_float32_parameters_float32(make, rng):
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    optimizer, criterion = make(model.parameters()), CrossEntropyLoss()
    for _ in range(2):
        optimizer.zero_grad()
        criterion(model(rng.standard_normal((5, 3)).astype(np.float32)), rng.integers(0, 2, 5))
        model.backward(criterion.backward())
        optimizer.step()
    for name, p in model.named_parameters():
        assert p.data.dtype == np.float32, f"'{name}' became {p.data.dtype} after a step"


def test_zero_grad_resets_every_gradient():
    model = Sequential(Linear(2, 3), Linear(3, 1))
    for p in model.parameters():
        p.grad += 1
    SGD(model.parameters(), lr=0.1).zero_grad()
    assert all(not p.grad.any() for p in model.parameters()), "a gradient was not reset"


def test_optimizer_rejects_an_empty_parameter_list():
    with pytest.raises(ValueError, match="empty list of parameters"):
        SGD(iter([]), lr=0.1)


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (4, 0.9)])
def test_steplr_gives_torch_learning_rates(step_size, gamma):
    p, p_t = Parameter(np.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    optimizer, optimizer_t = SGD([p], lr=0.3), torch.optim.SGD([p_t], lr=0.3)
    scheduler, scheduler_t = StepLR(optimizer, step_size, gamma), torch.optim.lr_scheduler.StepLR(
        optimizer_t, step_size, gamma)
    for epoch in range(12):
        assert scheduler.get_last_lr() == pytest.approx(scheduler_t.get_last_lr(), rel=1e-12), (
            f"epoch {epoch}: lr {scheduler.get_last_lr()}, torch {scheduler_t.get_last_lr()}")
        optimizer.step()
        optimizer_t.step()
        scheduler.step()
        scheduler_t.step()
    assert optimizer.lr == pytest.approx(0.3 * gamma ** (12 // step_size))


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    decisions = [stopper.step(v) for v in [1.0, 0.8, 0.9, 0.85, 0.7]]
    assert decisions == [False, False, False, True, False], decisions
    assert (stopper.best, stopper.best_epoch) == (0.7, 4)


def test_early_stopping_counts_only_improvements_larger_than_min_delta():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert [stopper.step(v) for v in [1.0, 0.95, 0.91]] == [False, False, True]
    assert (stopper.best, stopper.best_epoch) == (1.0, 0)


def test_early_stopping_in_max_mode_tracks_the_highest_value():
    stopper = EarlyStopping(patience=1, mode="max")
    assert [stopper.step(v) for v in [0.5, 0.7, 0.6]] == [False, False, True]
    assert (stopper.best, stopper.best_epoch) == (0.7, 1)


def test_early_stopping_treats_nan_as_no_improvement():
    stopper = EarlyStopping(patience=1)
    assert [stopper.step(v) for v in [1.0, float("nan")]] == [False, True]
    assert stopper.best == 1.0


def test_early_stopping_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        EarlyStopping(patience=3, mode="lowest")


def test_adamw_decays_weights_by_lr_times_weight_decay_even_with_zero_gradient():
    """Decoupled: the decay does not pass through Adam's 1/sqrt(v) (with g = 0, Adam moves nothing)."""
    p = Parameter(np.array([2.0, -4.0]))
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_returns_torchs_total_norm_and_clips_as_torch(max_norm):
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(s) * 2 for s in [(3, 4), (4,), (2, 2, 2)]]
    params = [Parameter(np.zeros_like(g)) for g in grads]
    params_t = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, p_t, g in zip(params, params_t, grads):
        p.grad, p_t.grad = g.copy(), to_torch(g)
    total = clip_grad_norm_(params, max_norm)
    total_t = torch.nn.utils.clip_grad_norm_(params_t, max_norm)
    assert total == pytest.approx(float(total_t), rel=1e-12)
    for i, (p, p_t) in enumerate(zip(params, params_t)):
        assert_close(p.grad, to_numpy(p_t.grad), f"gradient {i} after clipping to {max_norm}", tol=1e-12)
    clipped = np.sqrt(sum(np.sum(p.grad ** 2) for p in params))
    assert clipped <= max_norm * (1 + 1e-9), f"norm {clipped} after clipping to {max_norm}"


def test_clip_grad_norm_keeps_float32_gradients_float32():
    p = Parameter(np.ones(4, dtype=np.float32))
    p.grad = np.full(4, 10, dtype=np.float32)
    assert clip_grad_norm_([p], 1.0) == pytest.approx(20.0)
    assert p.grad.dtype == np.float32


def _torch_sgd(lr):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


@pytest.mark.parametrize("warmup, total, start, minimum", [(5, 20, 0.01, 0.0), (3, 10, 0.2, 0.1),
                                                           (1, 4, 0.5, 0.0)])
def test_warmup_cosine_equals_torchs_linear_then_cosine_composition(warmup, total, start, minimum):
    optimizer, optimizer_t = SGD([Parameter(np.zeros(1))], lr=0.3), _torch_sgd(0.3)
    scheduler = LambdaLR(optimizer, warmup_cosine(warmup, total, start, minimum))
    lr_sched = torch.optim.lr_scheduler
    scheduler_t = lr_sched.SequentialLR(optimizer_t, [
        lr_sched.LinearLR(optimizer_t, start_factor=start, total_iters=warmup),
        lr_sched.CosineAnnealingLR(optimizer_t, T_max=total - warmup, eta_min=minimum * 0.3)],
        milestones=[warmup])
    lrs, lrs_t = [], []
    for _ in range(total + 1):
        lrs.append(scheduler.get_last_lr()[0])
        lrs_t.append(scheduler_t.get_last_lr()[0])
        optimizer_t.step()
        scheduler.step()
        scheduler_t.step()
    np.testing.assert_allclose(lrs, lrs_t, rtol=1e-9, err_msg="warm-up + cosine differs from torch")
    assert lrs[0] == pytest.approx(0.3 * start) and lrs[warmup] == pytest.approx(0.3)
    assert lrs[total] == pytest.approx(0.3 * minimum, abs=1e-15)


def test_lambdalr_follows_torch_with_the_same_function():
    optimizer, optimizer_t = SGD([Parameter(np.zeros(1))], lr=0.1), _torch_sgd(0.1)
    scheduler = LambdaLR(optimizer, lambda e: 0.9 ** e)
    scheduler_t = torch.optim.lr_scheduler.LambdaLR(optimizer_t, lambda e: 0.9 ** e)
    for _ in range(6):
        optimizer_t.step()
        scheduler.step()
        scheduler_t.step()
    assert scheduler.get_last_lr() == pytest.approx(scheduler_t.get_last_lr(), rel=1e-12)


PLATEAU = {
    "defaults": dict(),
    "patience 2, factor 0.5": dict(patience=2, factor=0.5),
    "abs threshold, cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    "max mode, min_lr": dict(mode="max", patience=0, factor=0.3, min_lr=0.02),
    "max mode, abs": dict(mode="max", patience=3, threshold=0.01, threshold_mode="abs"),
}


@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_lr_on_plateau_follows_torch_step_by_step(name):
    kwargs = PLATEAU[name]
    rng = np.random.default_rng(7)
    # a loss that falls, then wanders on a plateau, with repeats and tiny improvements
    values = np.concatenate([np.linspace(1.0, 0.5, 6), 0.5 + 0.02 * np.abs(rng.standard_normal(30)),
                             [0.49995, 0.49995, 0.3, 0.3]])
    optimizer, optimizer_t = SGD([Parameter(np.zeros(1))], lr=0.1), _torch_sgd(0.1)
    scheduler = ReduceLROnPlateau(optimizer, **kwargs)
    scheduler_t = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer_t, **kwargs)
    changes = 0
    for epoch, value in enumerate(values):
        before = scheduler.get_last_lr()[0]
        scheduler.step(value)
        optimizer_t.step()
        scheduler_t.step(value)
        assert scheduler.get_last_lr()[0] == pytest.approx(scheduler_t.get_last_lr()[0], rel=1e-12), (
            f"{name}: epoch {epoch} (value {value:.5f}): lr {scheduler.get_last_lr()[0]}, torch "
            f"{scheduler_t.get_last_lr()[0]}")
        changes += scheduler.get_last_lr()[0] != before
    assert changes >= 1, f"{name}: the learning rate never changed, the test would prove little"
