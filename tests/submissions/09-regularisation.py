"""Wrong submissions for exercise 9, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

ALL = {"test_l2_penalty": 2, "test_dropout_forward": 2, "test_dropout_backward": 1,
       "test_batchnorm_forward": 3, "test_best_epoch": 2}

SUBMISSIONS = {
    "l2_gradient_without_2": {
        "why": "the gradient of lam * sum(w**2) is written lam * w, missing the factor 2",
        "cells": {
            "l2_penalty": '''
def l2_penalty(weights, lam):
    penalty = lam * sum(np.sum(w ** 2) for w in weights)
    return penalty, [lam * w for w in weights]
''',
        },
        "expected": {**ALL, "test_l2_penalty": 0},
        "message": "(penalty = lam * sum(w**2), so the gradient is 2 * lam * w, not lam * w)",
    },
    "dropout_not_scaled": {
        "why": "dropout zeroes entries but does not divide the kept ones by 1 - p",
        "cells": {
            "dropout_forward": '''
def dropout_forward(x, p, training, rng):
    if not training:
        return x, np.ones_like(x)
    mask = (rng.random(x.shape) >= p).astype(float)
    return x * mask, mask
''',
        },
        # the backward test builds its masks with dropout_forward, and compares against autograd
        # through the same masks, so it still passes
        "expected": {**ALL, "test_dropout_forward": 0},
        "message": "must be 0 (dropped) or 3 / (1 - 0.5) = 6 (kept and scaled)",
    },
    "dropout_in_eval_mode": {
        "why": "dropout drops entries in evaluation mode too",
        "cells": {
            "dropout_forward": '''
def dropout_forward(x, p, training, rng):
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
''',
        },
        "expected": {**ALL, "test_dropout_forward": 0},
        "message": "the evaluation-mode output (dropout is the identity in evaluation mode) is wrong",
    },
    "dropout_backward_ignores_mask": {
        "why": "the backward pass returns the upstream gradient unchanged",
        "cells": {
            "dropout_backward": '''
def dropout_backward(grad_output, mask):
    return grad_output
''',
        },
        "expected": {**ALL, "test_dropout_backward": 0},
        "message": "dL/dx for the mask [[2, 0, 2], [0, 0, 2]] (p = 0.5) is wrong",
    },
    "batchnorm_biased_running_var": {
        "why": "the running variance is fed the biased batch variance (divided by N)",
        "cells": {
            "batchnorm_forward": '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if training:
        mu, var = x.mean(axis=0), x.var(axis=0)
        new_mean = (1 - momentum) * running_mean + momentum * mu
        new_var = (1 - momentum) * running_var + momentum * var
    else:
        mu, var = running_mean, running_var
        new_mean, new_var = running_mean, running_var
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, new_mean, new_var
''',
        },
        "expected": {**ALL, "test_batchnorm_forward": 0},
        "message": "was fed the biased variance (divided by N)",
    },
    "batchnorm_running_stats_in_training": {
        "why": "training mode normalises with the running estimates instead of the batch statistics",
        "cells": {
            "batchnorm_forward": '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    y = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    if not training:
        return y, running_mean, running_var
    n = len(x)
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
    new_var = (1 - momentum) * running_var + momentum * x.var(axis=0) * n / (n - 1)
    return y, new_mean, new_var
''',
        },
        "expected": {**ALL, "test_batchnorm_forward": 0},
        "message": "use the batch's own mean and variance in training mode",
    },
    "best_epoch_argmin": {
        "why": "the best epoch is np.argmin of the curve: min_delta and nan are ignored",
        "cells": {
            "best_epoch": '''
def best_epoch(val_losses, min_delta=0.0):
    return int(np.argmin(val_losses))
''',
        },
        "expected": {**ALL, "test_best_epoch": 0},
        "message": "best_epoch(curve, min_delta=0.02) (0.69, 0.695 and 0.689 do not beat 0.7",
    },
}
