"""nnlib.init: fans and gains as torch computes them, empirical spread as the formulas say."""
import math

import numpy as np
import pytest
import torch

from nnlib import Linear, Parameter, init


@pytest.mark.parametrize("shape", [(3, 5), (64, 1), (16, 3, 3, 3), (8, 4, 5), (2, 3, 2, 2, 2)])
def test_fan_in_and_fan_out_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(shape) == expected, f"fans of a {shape} weight"


def test_conv_weight_fan_in_is_in_channels_times_kernel_area():
    assert init.calculate_fan_in_and_fan_out((16, 3, 5, 5)) == (3 * 25, 16 * 25)


def test_fans_of_a_vector_raise_value_error():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out((5,))


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                 ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("selu", None),
                                                 ("conv2d", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


SHAPE = (400, 600)      # fan_in 600, fan_out 400: 240000 draws, the std is known to ~0.2 %
FAN_IN, FAN_OUT = 600, 400

EXPECTED_STD = {
    "kaiming_normal_": (lambda w, rng: init.kaiming_normal_(w, rng=rng), math.sqrt(2 / FAN_IN)),
    "kaiming_normal_ fan_out": (lambda w, rng: init.kaiming_normal_(w, mode="fan_out", rng=rng),
                                math.sqrt(2 / FAN_OUT)),
    "kaiming_normal_ tanh": (lambda w, rng: init.kaiming_normal_(w, nonlinearity="tanh", rng=rng),
                             5 / 3 / math.sqrt(FAN_IN)),
    "kaiming_uniform_": (lambda w, rng: init.kaiming_uniform_(w, rng=rng), math.sqrt(2 / FAN_IN)),
    "kaiming_uniform_ a=sqrt(5)": (
        lambda w, rng: init.kaiming_uniform_(w, a=math.sqrt(5), nonlinearity="leaky_relu", rng=rng),
        1 / math.sqrt(3 * FAN_IN)),
    "xavier_normal_": (lambda w, rng: init.xavier_normal_(w, rng=rng), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "xavier_uniform_": (lambda w, rng: init.xavier_uniform_(w, rng=rng),
                        math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "xavier_uniform_ gain": (lambda w, rng: init.xavier_uniform_(w, gain=2.0, rng=rng),
                             2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
}


@pytest.mark.parametrize("name", EXPECTED_STD)
def test_initialiser_empirical_std_matches_the_formula(name, rng):
    fill, expected = EXPECTED_STD[name]
    w = np.empty(SHAPE, dtype=np.float32)
    fill(w, rng)
    assert abs(w.mean()) < 0.02 * expected, f"{name}: mean {w.mean():.3g} is not ~0"
    assert w.std() == pytest.approx(expected, rel=0.02), (
        f"{name}: empirical std {w.std():.5f}, formula gives {expected:.5f}")


@pytest.mark.parametrize("name", EXPECTED_STD)
def test_initialiser_std_agrees_with_torch_on_a_conv_weight(name, rng):
    """On a conv weight the fans involve the kernel size: compare with torch's own draw."""
    fill, _ = EXPECTED_STD[name]
    shape = (64, 32, 5, 5)
    w = fill(np.empty(shape), rng)
    torch_fill = getattr(torch.nn.init, name.split()[0])
    kwargs = {}
    if "fan_out" in name:
        kwargs["mode"] = "fan_out"
    if "tanh" in name:
        kwargs["nonlinearity"] = "tanh"
    if "kaiming" in name and "a=sqrt(5)" not in name:
        kwargs.setdefault("nonlinearity", "relu")
    if "a=sqrt(5)" in name:
        kwargs.update(a=math.sqrt(5), nonlinearity="leaky_relu")
    if "gain" in name:
        kwargs["gain"] = 2.0
    w_t = torch_fill(torch.empty(shape, dtype=torch.float64), generator=torch.Generator().manual_seed(0),
                     **kwargs)
    assert w.std() == pytest.approx(w_t.std().item(), rel=0.03), (
        f"{name}: std {w.std():.5f}, torch's {w_t.std().item():.5f}")


def test_uniform_initialisers_stay_within_their_bound(rng):
    w = init.xavier_uniform_(np.empty(SHAPE), rng=rng)
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_initialisers_fill_a_parameter_in_place_and_keep_its_dtype(rng):
    layer = Linear(30, 20)
    before = layer.weight.data
    returned = init.kaiming_normal_(layer.weight, rng=rng)
    assert returned is layer.weight, "the initialiser must return what it was given"
    assert layer.weight.data is before, "the array must be filled in place"
    assert layer.weight.data.dtype == np.float32
    assert layer.weight.data.std() == pytest.approx(math.sqrt(2 / 30), rel=0.15)


def test_zeros_ones_and_constant_fill_exactly():
    p = Parameter(np.full((2, 3), 7.0))
    init.zeros_(p)
    assert not p.data.any()
    np.testing.assert_array_equal(init.ones_(np.zeros(3)), np.ones(3))
    np.testing.assert_array_equal(init.constant_(np.zeros(2), 0.5), [0.5, 0.5])


def test_same_rng_seed_gives_the_same_weights():
    a = init.xavier_normal_(np.empty((5, 4)), rng=np.random.default_rng(3))
    b = init.xavier_normal_(np.empty((5, 4)), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_kaiming_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")
