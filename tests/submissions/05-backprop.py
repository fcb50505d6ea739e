"""Wrong submissions for exercise 5, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "bias_gradient_averaged_over_the_batch": {
        "why": "the bias gradients take the mean over the batch instead of the sum, dividing by N "
               "a second time (dZ2 already carries the 1/N of the mean loss)",
        "cells": {
            "backward": '''
def backward(dZ2, cache, params):
    dW2 = dZ2.T @ cache["A1"]
    db2 = dZ2.mean(axis=0)
    dZ1 = (dZ2 @ params["W2"]) * (cache["Z1"] > 0)
    return {"W1": dZ1.T @ cache["X"], "b1": dZ1.mean(axis=0), "W2": dW2, "b2": db2}
''',
        },
        # training still works with smaller bias steps: only the gradient test catches it
        "expected": {"test_backward": 0, "test_numerical_gradient": 2, "test_sgd_momentum_step": 2,
                     "test_train_xor": 2},
        "message": "grads['b2'] (dL/db2, compared with PyTorch autograd) is wrong",
    },
    "relu_derivative_replaced_by_the_activation": {
        "why": "the hidden gradient is multiplied by the activation A1 itself instead of ReLU'(Z1) "
               "(1 where Z1 > 0, else 0)",
        "cells": {
            "backward": '''
def backward(dZ2, cache, params):
    dA1 = dZ2 @ params["W2"]
    dZ1 = dA1 * cache["A1"]
    return {"W1": dZ1.T @ cache["X"], "b1": dZ1.sum(axis=0),
            "W2": dZ2.T @ cache["A1"], "b2": dZ2.sum(axis=0)}
''',
        },
        # multiplying by A1 >= 0 still points downhill often enough to solve XOR: only the
        # gradient test catches it
        "expected": {"test_backward": 0, "test_numerical_gradient": 2, "test_sgd_momentum_step": 2,
                     "test_train_xor": 2},
        "message": "grads['W1'] (dL/dW1, compared with PyTorch autograd) is wrong",
    },
    "weight_gradient_transposed": {
        "why": "the weight gradients are computed as X^T dZ, the (in, out) layout of a weight "
               "stored as (in_features, out_features), not PyTorch's (out, in)",
        "cells": {
            "backward": '''
def backward(dZ2, cache, params):
    dZ1 = (dZ2 @ params["W2"]) * (cache["Z1"] > 0)
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}
''',
        },
        "expected": {"test_backward": 0, "test_numerical_gradient": 2, "test_sgd_momentum_step": 2,
                     "test_train_xor": 0},
        "message": "grads['W2'] (it must have the shape of W2) has the wrong shape",
    },
    "forward_differences": {
        "why": "the gradient checker uses the forward difference (f(x + h) - f(x)) / h, whose "
               "error is of order h instead of h^2",
        "cells": {
            "numerical_gradient": '''
def numerical_gradient(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        grad[i] = (f(x) - fx) / h
        x[i] -= h
    return grad
''',
        },
        "expected": {"test_backward": 4, "test_numerical_gradient": 0, "test_sgd_momentum_step": 2,
                     "test_train_xor": 2},
        "message": "numerical_gradient of sum(x**2) at x = (1, -2, 3) (a centered difference is exact here",
    },
    "momentum_with_the_wrong_sign": {
        "why": "the velocity subtracts the old velocity instead of adding it: v = g - mu v",
        "cells": {
            "sgd_momentum_step": '''
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9):
    velocity = grad - momentum * velocity
    return param - lr * velocity, velocity
''',
        },
        "expected": {"test_backward": 4, "test_numerical_gradient": 2, "test_sgd_momentum_step": 0,
                     "test_train_xor": 0},
        "message": "the velocity after the second step (v = 0.9 * v1 + g2) is wrong",
    },
}
