"""RNN and LSTM (and their single-step functions) against PyTorch autograd in float64, and
numerical gradients."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nnlib.gradcheck import numerical_gradient
from nnlib.recurrent import (LSTM, RNN, lstm_cell_backward, lstm_cell_forward, rnn_cell_backward,
                             rnn_cell_forward)
from torch_reference import assert_close

TORCH_CLASS = {RNN: torch.nn.RNN, LSTM: torch.nn.LSTM}
PARAMETER_NAMES = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def torch_twin(layer):
    """A float64 torch.nn.RNN/LSTM (batch_first) with the same weights as ``layer``."""
    twin = TORCH_CLASS[type(layer)](layer.input_size, layer.hidden_size, batch_first=True).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    return twin


def compare_recurrent_with_torch(cls, batch, seq, input_size, hidden_size, initial_state,
                                 grad_into_state, grad_into_output=True, seed=0):
    """Forward outputs and every gradient (x, parameters, h0/c0) of nnlib's layer and PyTorch's,
    for L = sum(output * G) [+ sum(h_n * G_h) + sum(c_n * G_c)]."""
    rng = np.random.default_rng(seed)
    layer = cls(input_size, hidden_size, dtype=np.float64, rng=rng)
    twin = torch_twin(layer)
    lstm = cls is LSTM
    x = rng.standard_normal((batch, seq, input_size))
    x_t = torch.tensor(x, requires_grad=True)
    state = [rng.standard_normal((1, batch, hidden_size)) for _ in range(2 if lstm else 1)]
    state_t = [torch.tensor(s, requires_grad=True) for s in state]

    if initial_state:
        out, final = layer(x, tuple(state) if lstm else state[0])
        out_t, final_t = twin(x_t, tuple(state_t) if lstm else state_t[0])
    else:
        out, final = layer(x)
        out_t, final_t = twin(x_t)
    final, final_t = (final, final_t) if lstm else ((final,), (final_t,))
    assert_close(out, out_t.detach().numpy(), f"{cls.__name__} output")
    for name, a, b in zip(["h_n", "c_n"], final, final_t):
        assert_close(a, b.detach().numpy(), f"{cls.__name__} {name}")

    grad_out = rng.standard_normal(out.shape) if grad_into_output else None
    grad_final = [rng.standard_normal(f.shape) if grad_into_state else None for f in final]
    loss_t = sum((t * torch.from_numpy(g)).sum()
                 for t, g in zip((out_t,) + tuple(final_t), [grad_out] + grad_final) if g is not None)
    loss_t.backward()
    grad_x = layer.backward(grad_out, *grad_final)

    assert_close(grad_x, x_t.grad.numpy(), f"{cls.__name__} dL/dx")
    for name, p in layer.named_parameters():
        assert_close(p.grad, getattr(twin, name).grad.numpy(), f"{cls.__name__} dL/d{name}")
    if initial_state:
        for name, s_t in zip(["grad_h0", "grad_c0"], state_t):
            assert_close(getattr(layer, name), s_t.grad.numpy(), f"{cls.__name__} {name}")


SHAPES = [
    # batch, seq, input_size, hidden_size
    (3, 5, 4, 6),
    (1, 7, 3, 5),      # batch of 1
    (4, 1, 2, 3),      # sequence of length 1
    (2, 6, 5, 1),      # a single hidden unit
]


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("batch, seq, input_size, hidden_size", SHAPES)
def test_forward_and_gradients_match_torch_with_zero_initial_state(cls, batch, seq, input_size,
                                                                   hidden_size):
    compare_recurrent_with_torch(cls, batch, seq, input_size, hidden_size, initial_state=False,
                                 grad_into_state=False)


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("batch, seq, input_size, hidden_size", SHAPES)
def test_forward_and_gradients_match_torch_with_initial_state_and_gradient_into_final_state(
        cls, batch, seq, input_size, hidden_size):
    compare_recurrent_with_torch(cls, batch, seq, input_size, hidden_size, initial_state=True,
                                 grad_into_state=True)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_gradient_flowing_only_into_final_state_matches_torch(cls):
    # sequence classification: the loss reads h_n (and c_n) only; grad_output is None
    compare_recurrent_with_torch(cls, 3, 6, 4, 5, initial_state=True, grad_into_state=True,
                                 grad_into_output=False)


@settings(max_examples=20)
@given(cls=st.sampled_from([RNN, LSTM]), batch=st.integers(1, 4), seq=st.integers(1, 8),
       input_size=st.integers(1, 5), hidden_size=st.integers(1, 6), initial_state=st.booleans(),
       grad_into_state=st.booleans(), seed=st.integers(0, 2**16))
def test_layers_match_torch_for_random_shapes(cls, batch, seq, input_size, hidden_size,
                                              initial_state, grad_into_state, seed):
    compare_recurrent_with_torch(cls, batch, seq, input_size, hidden_size, initial_state,
                                 grad_into_state, seed=seed)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_gradients_match_numerical_gradient(cls):
    rng = np.random.default_rng(1)
    layer = cls(3, 4, dtype=np.float64, rng=rng)
    lstm = cls is LSTM
    x = rng.standard_normal((2, 5, 3))
    state = tuple(rng.standard_normal((1, 2, 4)) for _ in range(2 if lstm else 1))
    grad_out, grad_h_n, grad_c_n = (rng.standard_normal(s) for s in [(2, 5, 4), (1, 2, 4), (1, 2, 4)])

    def loss(_=None):
        out, final = layer(x, state if lstm else state[0])
        h_n, c_n = final if lstm else (final, np.zeros_like(final))
        return np.sum(out * grad_out) + np.sum(h_n * grad_h_n) + np.sum(c_n * grad_c_n)

    loss()
    grad_x = layer.backward(grad_out, grad_h_n, grad_c_n) if lstm else \
        layer.backward(grad_out, grad_h_n)
    assert_close(grad_x, numerical_gradient(loss, x), "dL/dx vs numerical")
    for name, p in layer.named_parameters():
        assert_close(p.grad, numerical_gradient(loss, p.data), f"dL/d{name} vs numerical")
    for name, s in zip(["grad_h0", "grad_c0"], state):
        assert_close(getattr(layer, name), numerical_gradient(loss, s), f"{name} vs numerical")


def test_rnn_cell_step_and_its_gradients_match_torch_rnn_cell():
    rng = np.random.default_rng(2)
    cell = torch.nn.RNNCell(3, 4).double()
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    x_t, h_prev_t = torch.tensor(x, requires_grad=True), torch.tensor(h_prev, requires_grad=True)
    weights = [p.detach().numpy() for p in cell.parameters()]   # weight_ih, weight_hh, biases

    h, cache = rnn_cell_forward(x, h_prev, *weights)
    h_t = cell(x_t, h_prev_t)
    assert_close(h, h_t.detach().numpy(), "rnn_cell_forward h")
    grad_h = rng.standard_normal(h.shape)
    h_t.backward(torch.from_numpy(grad_h))
    dx, dh_prev, grads = rnn_cell_backward(grad_h, cache)
    assert_close(dx, x_t.grad.numpy(), "rnn_cell_backward dx")
    assert_close(dh_prev, h_prev_t.grad.numpy(), "rnn_cell_backward dh_prev")
    for name, p in cell.named_parameters():
        assert_close(grads[name], p.grad.numpy(), f"rnn_cell_backward d{name}")


def test_lstm_cell_step_and_its_gradients_match_torch_lstm_cell():
    rng = np.random.default_rng(3)
    cell = torch.nn.LSTMCell(3, 4).double()
    x, h_prev, c_prev = (rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 4)])
    x_t, h_prev_t, c_prev_t = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    weights = [p.detach().numpy() for p in cell.parameters()]

    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, *weights)
    h_t, c_t = cell(x_t, (h_prev_t, c_prev_t))
    assert_close(h, h_t.detach().numpy(), "lstm_cell_forward h")
    assert_close(c, c_t.detach().numpy(), "lstm_cell_forward c")
    grad_h, grad_c = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
    (h_t * torch.from_numpy(grad_h) + c_t * torch.from_numpy(grad_c)).sum().backward()
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(grad_h, grad_c, cache)
    assert_close(dx, x_t.grad.numpy(), "lstm_cell_backward dx")
    assert_close(dh_prev, h_prev_t.grad.numpy(), "lstm_cell_backward dh_prev")
    assert_close(dc_prev, c_prev_t.grad.numpy(), "lstm_cell_backward dc_prev")
    for name, p in cell.named_parameters():
        assert_close(grads[name], p.grad.numpy(), f"lstm_cell_backward d{name}")


def test_lstm_gate_order_is_input_forget_candidate_output():
    # only the forget-gate bias is large: f ~ 1, i = o = g = 0.5, 0.5, tanh(0) -> c stays c_prev
    layer = LSTM(1, 1, dtype=np.float64)
    layer.load_state_dict({"weight_ih_l0": np.zeros((4, 1)), "weight_hh_l0": np.zeros((4, 1)),
                           "bias_ih_l0": np.array([0.0, 50.0, 0.0, 0.0]),
                           "bias_hh_l0": np.zeros(4)})
    c0 = np.full((1, 1, 1), 0.7)
    _, (h_n, c_n) = layer(np.ones((1, 1, 1)), (np.zeros((1, 1, 1)), c0))
    assert_close(c_n, c0, "c_1 = f c_0 + i g with f = 1, g = 0")
    assert_close(h_n, 0.5 * np.tanh(c0), "h_1 = o tanh(c_1) with o = 0.5")


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backward_adds_to_existing_parameter_gradients(cls):
    rng = np.random.default_rng(4)
    layer = cls(3, 4, dtype=np.float64, rng=rng)
    x = rng.standard_normal((2, 5, 3))
    grad_out = rng.standard_normal((2, 5, 4))
    layer(x)
    layer.backward(grad_out)
    once = {name: p.grad.copy() for name, p in layer.named_parameters()}
    layer.backward(grad_out)
    for name, p in layer.named_parameters():
        assert_close(p.grad, 2 * once[name], f"{name}.grad after two backward passes")


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_parameters_have_torch_names_shapes_and_init_range(cls):
    layer = cls(10, 20, rng=np.random.default_rng(5))
    twin = TORCH_CLASS[cls](10, 20, batch_first=True)
    assert [name for name, _ in layer.named_parameters()] == PARAMETER_NAMES
    for name, p in layer.named_parameters():
        assert p.shape == tuple(getattr(twin, name).shape), f"{name}: {p.shape}"
        assert np.all(np.abs(p.data) <= 1 / np.sqrt(20)), f"{name} beyond +-1/sqrt(hidden_size)"
    assert np.abs(layer.weight_hh_l0.data).max() > 0.95 / np.sqrt(20), "weights do not fill U(-b, b)"


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_state_dict_round_trips_with_torch(cls):
    torch.manual_seed(0)
    twin = TORCH_CLASS[cls](3, 4, batch_first=True).double()
    layer = cls(3, 4, dtype=np.float64)
    layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((2, 5, 3))
    assert_close(layer(x)[0], twin(torch.from_numpy(x))[0].detach().numpy(),
                 "output after loading torch weights")

    back = TORCH_CLASS[cls](3, 4, batch_first=True).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    for key, value in twin.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), f"{key} changed on the way back"


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("shape", [(2, 5, 4), (5, 3), (2, 5, 3, 1)])
def test_wrong_input_shape_raises_value_error_naming_layer_and_shapes(cls, shape):
    with pytest.raises(ValueError) as info:
        cls(3, 4)(np.zeros(shape))
    message = str(info.value)
    assert cls.__name__ in message and "(batch, seq, 3)" in message and str(shape) in message, \
        message


def test_rnn_wrong_h0_shape_raises_value_error():
    with pytest.raises(ValueError, match=r"RNN.*h0.*\(1, 2, 4\).*\(2, 4\)"):
        RNN(3, 4)(np.zeros((2, 5, 3)), np.zeros((2, 4)))


def test_lstm_wrong_c0_shape_raises_value_error():
    with pytest.raises(ValueError, match=r"LSTM.*c0.*\(1, 2, 4\).*\(1, 3, 4\)"):
        LSTM(3, 4)(np.zeros((2, 5, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4))))


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_wrong_grad_output_shape_raises_value_error(cls):
    layer = cls(3, 4)
    layer(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*grad_output.*\(2, 5, 4\).*\(2, 4, 5\)"):
        layer.backward(np.zeros((2, 4, 5)))


def test_lstm_wrong_grad_c_n_shape_raises_value_error():
    layer = LSTM(3, 4)
    layer(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"LSTM.*grad_c_n.*\(1, 2, 4\).*\(2, 4\)"):
        layer.backward(np.zeros((2, 5, 4)), None, np.zeros((2, 4)))


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backward_before_forward_raises_runtime_error(cls):
    with pytest.raises(RuntimeError, match=f"{cls.__name__}.*before forward"):
        cls(3, 4).backward(np.zeros((2, 5, 4)))


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_float32_input_stays_float32_and_matches_torch(cls):
    rng = np.random.default_rng(7)
    layer = cls(3, 4, rng=rng)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    out, final = layer(x)
    grad_x = layer.backward(np.ones_like(out))
    assert out.dtype == np.float32, f"output is {out.dtype}"
    assert grad_x.dtype == np.float32, f"dL/dx is {grad_x.dtype}"
    for name, p in layer.named_parameters():
        assert p.grad.dtype == np.float32, f"{name}.grad is {p.grad.dtype}"
    twin = TORCH_CLASS[cls](3, 4, batch_first=True)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    assert_close(out, twin(torch.from_numpy(x))[0].detach().numpy(), "float32 output", tol=1e-5)
