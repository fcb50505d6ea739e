"""Recurrent layers: RNN (tanh) and LSTM, single layer, batch first, as PyTorch's
``nn.RNN(batch_first=True)`` and ``nn.LSTM(batch_first=True)``.

One step of each is a pair of plain functions (``rnn_cell_forward``/``rnn_cell_backward``,
``lstm_cell_forward``/``lstm_cell_backward``) that take explicit weights and return a ``cache``.
The layers run the same step over the sequence, with two economies: the input projection
``x W_ih^T + b_ih + b_hh`` of *all* time steps is one matrix product before the loop, and in the
backward pass the weight gradients of all steps are one product after it. Only what truly depends
on the previous step -- ``h_{t-1} W_hh^T`` forward, ``da_t W_hh`` backward -- stays in the loop.

Shapes: B batch, T sequence length, I ``input_size``, H ``hidden_size``; G = 1 (RNN) or 4 (LSTM)
blocks of H rows in the weights: weight_ih (G*H, I), weight_hh (G*H, H), biases (G*H,).
"""
from functools import lru_cache

import numpy as np

from .init import get_rng
from .module import Module, Parameter, as_float_array, check_shape, in_dtype


def rnn_cell_forward(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One RNN step: h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    x (B, I), h_prev (B, H), weight_ih (H, I), weight_hh (H, H), biases (H,) -> h (B, H), cache.
    """
    h = np.tanh(x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh)
    return h, (x, h_prev, h, weight_ih, weight_hh)


def rnn_cell_backward(grad_h, cache):
    """Backward of one RNN step, from grad_h = dL/dh (B, H).

    With a the pre-activation, da = grad_h * (1 - h^2) (tanh' = 1 - tanh^2), then as in Linear:
    dx = da W_ih, dh_prev = da W_hh, dW_ih = da^T x, dW_hh = da^T h_prev, db_ih = db_hh = sum_B da.
    Returns dx (B, I), dh_prev (B, H) and a dict of parameter gradients named like the weights.
    """
    x, h_prev, h, weight_ih, weight_hh = cache
    da = grad_h * (1 - h * h)
    grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev,
             "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return da @ weight_ih, da @ weight_hh, grads


@lru_cache(maxsize=32)
def _gate_scale(hidden, dtype):
    """s = 1/2 on the i, f, o blocks and 1 on the g block, shape (4H,): with it one tanh gives all
    four gates, s * tanh(s * a) + (1 - s), since sigmoid(a) = (1 + tanh(a / 2)) / 2."""
    s = np.full(4 * hidden, 0.5, dtype=dtype)
    s[2 * hidden:3 * hidden] = 1
    s.flags.writeable = False                     # shared between calls by lru_cache
    return s


def lstm_gates_forward(a, c_prev):
    """The elementwise part of an LSTM step, from the pre-activation a (B, 4H) = [a_i a_f a_g a_o]:

        i = sigmoid(a_i)  input gate      f = sigmoid(a_f)  forget gate
        g = tanh(a_g)     candidate       o = sigmoid(a_o)  output gate
        c = f * c_prev + i * g            h = o * tanh(c)

    Returns h (B, H), c (B, H) and the activated gates (B, 4H) = [i f g o].
    """
    hidden = c_prev.shape[1]
    s = _gate_scale(hidden, a.dtype)
    gates = s * np.tanh(s * a) + (1 - s)          # sigmoid on i, f, o and tanh on g, stably
    i, f, g, o = gates.reshape(-1, 4, hidden).transpose(1, 0, 2)
    c = f * c_prev + i * g
    return o * np.tanh(c), c, gates


def lstm_gates_backward(grad_h, grad_c, c_prev, c, gates):
    """Backward of ``lstm_gates_forward``: dL/dh and dL/dc (B, H) -> dL/da (B, 4H), dL/dc_prev.

    The cell state c reaches the loss directly (grad_c, from step t+1) and through h = o tanh(c):
        dc = grad_c + grad_h * o * (1 - tanh(c)^2)
        di = dc * g,  df = dc * c_prev,  dg = dc * i,  do = grad_h * tanh(c),  dc_prev = dc * f
    and through the activations: sigmoid' = s (1 - s) on i, f, o and tanh' = 1 - g^2 on g.
    """
    hidden = c.shape[1]
    i, f, g, o = gates.reshape(-1, 4, hidden).transpose(1, 0, 2)
    tanh_c = np.tanh(c)
    dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    d_gates = np.concatenate([dc * g, dc * c_prev, dc * i, grad_h * tanh_c], axis=1)
    local = gates * (1 - gates)
    local[:, 2 * hidden:3 * hidden] = 1 - g * g
    return d_gates * local, dc * f


def lstm_cell_forward(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step: a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh, then ``lstm_gates_forward``.

    x (B, I), h_prev and c_prev (B, H), weight_ih (4H, I), weight_hh (4H, H), biases (4H,)
    -> h (B, H), c (B, H), cache.
    """
    a = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    h, c, gates = lstm_gates_forward(a, c_prev)
    return h, c, (x, h_prev, c_prev, c, gates, weight_ih, weight_hh)


def lstm_cell_backward(grad_h, grad_c, cache):
    """Backward of one LSTM step from dL/dh and dL/dc (B, H).

    Returns dx (B, I), dh_prev (B, H), dc_prev (B, H) and a dict of parameter gradients:
    with da from ``lstm_gates_backward``, dW_ih = da^T x, dW_hh = da^T h_prev, db = sum_B da.
    """
    x, h_prev, c_prev, c, gates, weight_ih, weight_hh = cache
    da, dc_prev = lstm_gates_backward(grad_h, grad_c, c_prev, c, gates)
    grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev,
             "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return da @ weight_ih, da @ weight_hh, dc_prev, grads


class _Recurrent(Module):
    """Parameters, shape checks and the batched weight gradients shared by RNN and LSTM."""

    gate_blocks = 1

    def __init__(self, input_size, hidden_size, dtype=np.float32, rng=None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        rng, bound, rows = get_rng(rng), 1 / np.sqrt(hidden_size), self.gate_blocks * hidden_size
        for name, shape in [("weight_ih_l0", (rows, input_size)),
                            ("weight_hh_l0", (rows, hidden_size)),
                            ("bias_ih_l0", (rows,)), ("bias_hh_l0", (rows,))]:
            setattr(self, name, Parameter(rng.uniform(-bound, bound, shape).astype(dtype)))

    def _project_input(self, x, time_major=False):
        """x W_ih^T + b_ih + b_hh for every time step in one product: (B, T, I) -> (B, T, G*H)
        (or (T, B, G*H) when ``time_major``), and W_hh in the input's dtype for the loop."""
        batch, seq, _ = x.shape
        weight_ih = in_dtype(self.weight_ih_l0, x.dtype)
        bias = in_dtype(self.bias_ih_l0, x.dtype) + in_dtype(self.bias_hh_l0, x.dtype)
        rows = np.ascontiguousarray(x.transpose(1, 0, 2)) if time_major else x
        x_proj = rows.reshape(batch * seq, self.input_size) @ weight_ih.T   # one 2-D GEMM
        x_proj += bias
        shape = (seq, batch, -1) if time_major else (batch, seq, -1)
        return x_proj.reshape(shape), in_dtype(self.weight_hh_l0, x.dtype)

    def _check_input(self, x):
        x = as_float_array(x, self.weight_ih_l0.data.dtype)
        check_shape(self, x, ("batch", "seq", self.input_size))
        return x

    def _initial_state(self, state, name, x):
        batch = x.shape[0]
        if state is None:
            return np.zeros((batch, self.hidden_size), dtype=x.dtype)
        state = np.asarray(state, dtype=x.dtype)
        check_shape(self, state, (1, batch, self.hidden_size), name)
        return state[0]

    def _check_grads(self, grad_output, grad_h_n, x):
        """None -> zeros; otherwise shapes (B, T, H) and (1, B, H)."""
        batch, seq = x.shape[:2]
        if grad_output is None:
            grad_output = np.zeros((batch, seq, self.hidden_size), dtype=x.dtype)
        grad_output = np.asarray(grad_output)
        check_shape(self, grad_output, (batch, seq, self.hidden_size), "grad_output")
        if grad_h_n is None:
            return grad_output, np.zeros((batch, self.hidden_size), dtype=x.dtype)
        check_shape(self, grad_h_n, (1, batch, self.hidden_size), "grad_h_n")
        return grad_output, np.asarray(grad_h_n)[0]

    def _accumulate(self, da, x, hs, time_major=False):
        """Weight gradients of all steps at once from da (B, T, G*H), x (B, T, I), hs (B, T+1, H)
        (or da (T, B, G*H) and hs (T+1, B, H) when ``time_major``: a sum over all (step, sample)
        pairs does not care about their order); returns dL/dx = da W_ih (B, T, I)."""
        da_2d = da.reshape(-1, da.shape[2])
        x_rows = x.transpose(1, 0, 2) if time_major else x
        h_prev = hs[:-1] if time_major else hs[:, :-1]
        self.weight_ih_l0.grad += da_2d.T @ x_rows.reshape(-1, self.input_size)
        self.weight_hh_l0.grad += da_2d.T @ h_prev.reshape(-1, self.hidden_size)
        db = da_2d.sum(axis=0)
        self.bias_ih_l0.grad += db
        self.bias_hh_l0.grad += db
        dx = da_2d @ in_dtype(self.weight_ih_l0, x.dtype)
        if time_major:
            return np.ascontiguousarray(dx.reshape(x.shape[1], x.shape[0], -1).transpose(1, 0, 2))
        return dx.reshape(x.shape)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"


class RNN(_Recurrent):
    """Elman RNN with tanh: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    forward(x (B, T, I), h0 (1, B, H) or None = zeros)
        -> output (B, T, H) = [h_1 .. h_T], h_n (1, B, H)
    backward(grad_output (B, T, H) or None, grad_h_n (1, B, H) or None) -> dL/dx (B, T, I);
    adds the parameter gradients and sets ``grad_h0`` (1, B, H). Weights U(-1/sqrt(H), 1/sqrt(H)).
    """

    def forward(self, x, h0=None):
        x = self._check_input(x)
        batch, seq, _ = x.shape
        h = self._initial_state(h0, "h0", x)
        x_proj, weight_hh = self._project_input(x)               # (B, T, H), every step at once
        hs = np.empty((batch, seq + 1, self.hidden_size), dtype=x.dtype)   # h_0 .. h_T
        hs[:, 0] = h
        for t in range(seq):
            hs[:, t + 1] = h = np.tanh(x_proj[:, t] + h @ weight_hh.T)
        self._cache = (x, hs)
        return hs[:, 1:].copy(), hs[None, :, -1].copy()

    def backward(self, grad_output, grad_h_n=None):
        x, hs = self.saved()
        grad_output, dh = self._check_grads(grad_output, grad_h_n, x)
        weight_hh = in_dtype(self.weight_hh_l0, x.dtype)
        da = np.empty_like(hs[:, 1:])                            # dL/d(pre-activation), per step
        for t in reversed(range(x.shape[1])):
            dh = dh + grad_output[:, t]                  # h_t feeds the output and step t+1
            da[:, t] = dh * (1 - hs[:, t + 1] ** 2)
            dh = da[:, t] @ weight_hh                    # dL/dh_{t-1} through W_hh
        self.grad_h0 = dh[None]
        return self._accumulate(da, x, hs)


class LSTM(_Recurrent):
    """LSTM, gates in PyTorch's order i, f, g, o (see ``lstm_gates_forward`` for the equations).

    forward(x (B, T, I), (h0, c0) each (1, B, H), or None = zeros)
        -> output (B, T, H) = [h_1 .. h_T], (h_n, c_n) each (1, B, H)
    backward(grad_output (B, T, H) or None, grad_h_n=None, grad_c_n=None) -> dL/dx (B, T, I);
    adds the parameter gradients and sets ``grad_h0`` and ``grad_c0`` (1, B, H).
    Weights (4H, I) and (4H, H), biases (4H,), all U(-1/sqrt(H), 1/sqrt(H)).
    """

    gate_blocks = 4

    def forward(self, x, hx=None):
        x = self._check_input(x)
        batch, seq, _ = x.shape
        hidden = self.hidden_size
        h0, c0 = (None, None) if hx is None else hx
        h, c = self._initial_state(h0, "h0", x), self._initial_state(c0, "c0", x)
        # time-major buffers, so that every step reads and writes contiguous (B, .) blocks;
        # the step is lstm_gates_forward's, computed in place into them
        gates, weight_hh = self._project_input(x, time_major=True)   # a_t, then [i f g o], (T, B, 4H)
        hs = np.empty((seq + 1, batch, hidden), dtype=x.dtype)   # h_0 .. h_T
        cs = np.empty_like(hs)                                   # c_0 .. c_T
        tanh_cs = np.empty((seq, batch, hidden), dtype=x.dtype)  # tanh(c_t), for backward
        s = _gate_scale(hidden, x.dtype)
        shift = (1 - s).astype(x.dtype)
        weight_hh_t = np.ascontiguousarray(weight_hh.T)         # a row-major B, faster in the loop
        hs[0], cs[0] = h, c
        for t in range(seq):
            a = gates[t]
            a += hs[t] @ weight_hh_t                             # a_t = x_t W_ih^T + b + h W_hh^T
            a *= s
            np.tanh(a, out=a)
            a *= s
            a += shift                                           # sigmoid on i, f, o; tanh on g
            i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden], \
                a[:, 3 * hidden:]
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g                                   # c = f c_prev + i g
            np.tanh(cs[t + 1], out=tanh_cs[t])
            np.multiply(o, tanh_cs[t], out=hs[t + 1])            # h = o tanh(c)
        self._cache = (x, hs, cs, tanh_cs, gates)
        output = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
        return output, (hs[None, -1].copy(), cs[None, -1].copy())

    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        """The steps of ``lstm_gates_backward`` in reverse order, in place, time-major."""
        x, hs, cs, tanh_cs, gates = self.saved()
        grad_output, dh = self._check_grads(grad_output, grad_h_n, x)
        dh = np.array(dh, dtype=x.dtype)                         # updated in place below
        if grad_c_n is None:
            dc = np.zeros_like(dh)
        else:
            check_shape(self, grad_c_n, (1,) + dh.shape, "grad_c_n")
            dc = np.array(grad_c_n[0], dtype=x.dtype)
        hidden = self.hidden_size
        weight_hh = in_dtype(self.weight_hh_l0, x.dtype)
        # the activations' derivatives, all steps at once: s (1 - s) on i, f, o and 1 - g^2 on g
        local = gates * (1 - gates)
        g_all = gates[:, :, 2 * hidden:3 * hidden]
        local[:, :, 2 * hidden:3 * hidden] = 1 - g_all * g_all
        o_all = gates[:, :, 3 * hidden:]
        dc_dh = o_all * (1 - tanh_cs * tanh_cs)                  # dc_t/dh_t = o (1 - tanh(c)^2)
        grad_out_t = grad_output.transpose(1, 0, 2)
        da = np.empty_like(gates)                                # dL/d(pre-activations), per step
        for t in reversed(range(x.shape[1])):
            dh += grad_out_t[t]                                  # h_t feeds the output and step t+1
            gate, tanh_c = gates[t], tanh_cs[t]
            i, f, g = gate[:, :hidden], gate[:, hidden:2 * hidden], gate[:, 2 * hidden:3 * hidden]
            dc += dh * dc_dh[t]                                  # c reaches L directly and via h
            d = da[t]
            np.multiply(dc, g, out=d[:, :hidden])                # di
            np.multiply(dc, cs[t], out=d[:, hidden:2 * hidden])  # df
            np.multiply(dc, i, out=d[:, 2 * hidden:3 * hidden])  # dg
            np.multiply(dh, tanh_c, out=d[:, 3 * hidden:])       # do
            d *= local[t]                                        # through the activations
            dc *= f                                              # dL/dc_{t-1}
            np.matmul(d, weight_hh, out=dh)                      # dL/dh_{t-1} through W_hh
        self.grad_h0, self.grad_c0 = dh[None], dc[None]
        return self._accumulate(da, x, hs, time_major=True)
