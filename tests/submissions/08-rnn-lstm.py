"""Wrong submissions for exercise 8, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "rnn_forward_resets_hidden_state": {
        "why": "the sequence loop starts every step from h = 0 instead of the previous step's h",
        "cells": {
            "rnn_forward": '''
def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    hs = []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], np.zeros_like(h0, dtype=float), weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return np.stack(hs, axis=1), hs[-1]
''',
        },
        "expected": {"test_rnn_step": 2, "test_rnn_forward": 0, "test_lstm_cell_forward": 3,
                     "test_lstm_cell_backward": 4},
        "message": "rnn_forward does not carry the hidden state from one step to the next",
    },
    "lstm_gates_in_order_ifog": {
        "why": "the LSTM splits the pre-activations as i, f, o, g instead of PyTorch's i, f, g, o",
        "cells": {
            "lstm_cell_forward": '''
def lstm_cell_forward(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    H = h_prev.shape[1]
    a = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, weight_ih, weight_hh, i, f, g, o, c)
''',
        },
        # the backward pass puts do and dg back in PyTorch's blocks, so it disagrees with this forward
        "expected": {"test_rnn_step": 2, "test_rnn_forward": 2, "test_lstm_cell_forward": 0,
                     "test_lstm_cell_backward": 0},
        "message": "lstm_cell_forward uses the gates in the wrong order",
    },
    "lstm_candidate_uses_sigmoid": {
        "why": "the candidate g goes through a sigmoid like the gates, instead of tanh",
        "cells": {
            "lstm_cell_forward": '''
def lstm_cell_forward(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    H = h_prev.shape[1]
    a = sigmoid(x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh)
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, weight_ih, weight_hh, i, f, g, o, c)
''',
        },
        "expected": {"test_rnn_step": 2, "test_rnn_forward": 2, "test_lstm_cell_forward": 0,
                     "test_lstm_cell_backward": 0},
        "message": "lstm_cell_forward applies a sigmoid to the candidate g",
    },
    "lstm_backward_forgets_previous_cell_term": {
        "why": "the backward pass differentiates c = i * g only, dropping the f * c_prev term: "
               "no gradient for f and none along the cell to c_prev",
        "cells": {
            "lstm_cell_backward": '''
def lstm_cell_backward(dh, dc, cache):
    x, h_prev, c_prev, weight_ih, weight_hh, i, f, g, o, c = cache
    tanh_c = np.tanh(c)
    dc_total = dc + dh * o * (1 - tanh_c ** 2)
    di, df, dg, do = dc_total * g, np.zeros_like(f), dc_total * i, dh * tanh_c
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
    return da @ weight_ih, da @ weight_hh, np.zeros_like(c_prev), da.T @ x, da.T @ h_prev, da.sum(axis=0)
''',
        },
        "expected": {"test_rnn_step": 2, "test_rnn_forward": 2, "test_lstm_cell_forward": 3,
                     "test_lstm_cell_backward": 0},
        "message": "dc_prev with dh = 0 and dc = 1 (the gradient along the cell: dc_prev = dc * f) is wrong",
    },
    "rnn_step_weights_not_transposed": {
        "why": "x @ W_ih instead of x @ W_ih.T: works only when the matrix is square, and is wrong then",
        "cells": {
            "rnn_step": '''
def rnn_step(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh + bias_hh)
''',
        },
        # the sequence forward calls rnn_step (its hidden tests use H > 1); the LSTM does not
        "expected": {"test_rnn_step": 0, "test_rnn_forward": 0, "test_lstm_cell_forward": 3,
                     "test_lstm_cell_backward": 4},
        "message": "rnn_step with only the recurrent term, tanh(h_prev W_hh^T) is wrong",
    },
}
