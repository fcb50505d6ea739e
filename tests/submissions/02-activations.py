"""Wrong submissions for exercise 2, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

FULL = {"test_sigmoid_tanh": 2, "test_relus": 2, "test_squash_grads": 2, "test_relu_grads": 2,
        "test_softmax": 3}

SUBMISSIONS = {
    "naive_softmax": {
        "why": "softmax exponentiates the logits without subtracting the max, so 1000 overflows",
        "cells": {
            "softmax": '''
def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)
''',
        },
        "expected": {**FULL, "test_softmax": 0},
        "message": "softmax([1000, 999, 998]) (subtract the max before exp) contains nan",
    },
    "softmax_wrong_axis": {
        "why": "softmax normalises over axis 0 (the batch) instead of the last axis (the classes)",
        "cells": {
            "softmax": '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
''',
        },
        "expected": {**FULL, "test_softmax": 0},
        "message": "the row sums of softmax(batch) (each row must sum to 1: normalise over the last axis) is wrong",
    },
    "softmax_whole_array": {
        "why": "the one-vector formula e / e.sum() applied to a batch normalises all its entries together",
        "cells": {
            "softmax": '''
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()
''',
        },
        "expected": {**FULL, "test_softmax": 0},
        "message": "the row sums of softmax(batch) (each row must sum to 1: normalise over the last axis) is wrong",
    },
    "sigmoid_grad_of_input": {
        "why": "the sigmoid derivative is written sigmoid(x) * (1 - x), mixing the input with the output",
        "cells": {
            "squash_grads": '''
def sigmoid_grad(x):
    return sigmoid(x) * (1 - x)


def tanh_grad(x):
    return 1 - tanh(x) ** 2
''',
        },
        "expected": {**FULL, "test_squash_grads": 0},
        "message": "sigmoid_grad(0.0), the slope of the sigmoid at 0 is wrong",
    },
    "leaky_relu_grad_zero_for_negatives": {
        "why": "the leaky ReLU derivative is 0 for negative inputs, as ReLU's is",
        "cells": {
            "relu_grads": '''
def relu_grad(x):
    return (np.asarray(x) > 0).astype(float)


def leaky_relu_grad(x, negative_slope=0.01):
    return (np.asarray(x) > 0).astype(float)
''',
        },
        "expected": {**FULL, "test_relu_grads": 0},
        "message": "the slope for x <= 0 is negative_slope, not 0",
    },
    "leaky_relu_ignores_slope": {
        "why": "leaky_relu hard-codes 0.01 and ignores the negative_slope it is given",
        "cells": {
            "relus": '''
def relu(x):
    return np.maximum(0, x)


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, 0.01 * x)
''',
        },
        "expected": {**FULL, "test_relus": 0},
        "message": "leaky_relu([-2, 2], negative_slope=0.2) is wrong",
    },
}
