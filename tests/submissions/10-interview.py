"""Wrong submissions for exercise 10, the mistakes candidates really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the tasks are independent, so a wrong cell loses its own points only.
"""

FULL = {"test_mlp_param_count": 2, "test_conv2d_param_count": 1, "test_conv_output_size": 2,
        "test_logsumexp": 3, "test_sigmoid_backward": 2, "test_concepts_1": 2, "test_concepts_2": 2}

SUBMISSIONS = {
    "param_count_forgets_biases": {
        "why": "counts the weights n_in * n_out of every layer but not the n_out biases",
        "cells": {
            "mlp_param_count": '''
def mlp_param_count(sizes, bias=True):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
''',
        },
        "expected": {**FULL, "test_mlp_param_count": 0},
        "message": "mlp_param_count((2, 1)) (a perceptron with 2 inputs) is wrong",
    },
    "conv_params_forget_input_channels": {
        "why": "a filter is counted as k*k weights, as if it saw one input channel",
        "cells": {
            "conv2d_param_count": '''
def conv2d_param_count(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * (kh * kw + (1 if bias else 0))
''',
        },
        "expected": {**FULL, "test_conv2d_param_count": 0},
        "message": "conv2d_param_count(32, 64, 3) is wrong",
    },
    "conv_output_missing_plus_one": {
        "why": "the output size formula forgets the + 1 (the first window position)",
        "cells": {
            "conv_output_size": '''
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride
''',
        },
        "expected": {**FULL, "test_conv_output_size": 0},
        "message": "conv_output_size(28, kernel_size=3) is wrong",
    },
    "logsumexp_naive": {
        "why": "log(sum(exp(z))) as written: exp(1000) overflows to inf",
        "cells": {
            "logsumexp": '''
def logsumexp(z, axis=-1):
    return np.log(np.exp(np.asarray(z, dtype=float)).sum(axis=axis))
''',
        },
        "expected": {**FULL, "test_logsumexp": 0},
        "message": "logsumexp([1000, 1000]) (no overflow: 1000 + log 2) contains inf",
    },
    "logsumexp_global_max": {
        "why": "subtracts the maximum of the whole array, so a row far below it underflows to log(0)",
        "cells": {
            "logsumexp": '''
def logsumexp(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log(np.exp(z - m).sum(axis=axis))
''',
        },
        "expected": {**FULL, "test_logsumexp": 0},
        "message": "(each row needs its own maximum) contains -inf",
    },
    "sigmoid_derivative_uses_input": {
        "why": "computes s * (1 - x) instead of s * (1 - s)",
        "cells": {
            "sigmoid_backward": '''
def sigmoid_backward(x, grad_output):
    s = 1 / (1 + np.exp(-x))
    return grad_output * s * (1 - x)
''',
        },
        "expected": {**FULL, "test_sigmoid_backward": 0},
        "message": "sigmoid_backward(x=0, grad_output=1) is wrong",
    },
    "wrong_concept_answer": {
        "why": "thinks an untrained 10-class classifier starts with a loss of 10 (Q3)",
        "cells": {
            "concepts_1": '''
answer_q1 = "d"
answer_q2 = "c"
answer_q3 = "d"
answer_q4 = "b"
''',
        },
        "expected": {**FULL, "test_concepts_1": 0},
        "message": "these answers are not correct: answer_q3",
    },
    "concept_answers_in_capitals_and_two_wrong": {
        "why": "Q5-Q8 answered with capital letters; Q1 and Q2 wrong (dropout rescales at test time)",
        "cells": {
            "concepts_1": '''
answer_q1 = "a"
answer_q2 = "b"
answer_q3 = "a"
answer_q4 = "b"
''',
            "concepts_2": '''
answer_q5 = "D"
answer_q6 = "A"
answer_q7 = "C"
answer_q8 = "B"
''',
        },
        "expected": {**FULL, "test_concepts_1": 0, "test_concepts_2": 0},
        "message": "got answer_q5 = 'D', answer_q6 = 'A'",
    },
}
