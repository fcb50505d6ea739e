"""Wrong submissions for exercise 4, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "mse_gradient_without_the_2": {
        "why": "the MSE gradient is (pred - target) / n: the factor 2 from the square is forgotten",
        "cells": {
            "mse_loss": '''
def mse_loss(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), diff / diff.size
''',
        },
        "expected": {"test_mse_loss": 0, "test_bce_loss": 3, "test_log_softmax": 2,
                     "test_cross_entropy": 3},
        "message": "the gradient of mse_loss(pred=[2.5, 0, 2], target=[3, -0.5, 2]), 2 (pred - target) / n is wrong",
    },
    "bce_without_clipping": {
        "why": "the log is taken of p itself, so p = 0 or 1 gives an infinite loss",
        "cells": {
            "bce_loss": '''
def bce_loss(p, target, eps=1e-7):
    loss = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    grad = (p - target) / (p * (1 - p)) / p.size
    return loss, grad
''',
        },
        "expected": {"test_mse_loss": 2, "test_bce_loss": 0, "test_log_softmax": 2,
                     "test_cross_entropy": 3},
        "message": "the loss of bce_loss(p=[0, 1], target=[1, 0]) (clip p to [eps, 1 - eps] before the log) contains inf",
    },
    "bce_gradient_ignores_the_clip": {
        "why": "the loss is clipped but the gradient is the unclipped formula on the clipped p, "
               "so it is not the gradient of the loss returned",
        "cells": {
            "bce_loss": '''
def bce_loss(p, target, eps=1e-7):
    pc = np.clip(p, eps, 1 - eps)
    loss = -np.mean(target * np.log(pc) + (1 - target) * np.log(1 - pc))
    return loss, (pc - target) / (pc * (1 - pc)) / p.size
''',
        },
        "expected": {"test_mse_loss": 2, "test_bce_loss": 0, "test_log_softmax": 2,
                     "test_cross_entropy": 3},
        "message": "the gradient of bce_loss(p=[0, 1], target=[1, 0]) (0 where p was clipped) is wrong",
    },
    "naive_softmax_in_cross_entropy": {
        "why": "cross_entropy takes the log of a softmax computed with np.exp of the raw logits, "
               "which overflows to inf/inf = nan at logits of 1000",
        "cells": {
            "cross_entropy": '''
def cross_entropy(logits, labels):
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    grad = probs.copy()
    grad[np.arange(n), labels] -= 1
    return loss, grad / n
''',
        },
        "expected": {"test_mse_loss": 2, "test_bce_loss": 3, "test_log_softmax": 2,
                     "test_cross_entropy": 0},
        "message": "the loss of cross_entropy at logits of 1000 (use log_softmax, not log(softmax)) contains nan",
    },
    "cross_entropy_gradient_not_divided_by_n": {
        "why": "the gradient is softmax - onehot, forgetting that the loss is a mean over the batch",
        "cells": {
            "cross_entropy": '''
def cross_entropy(logits, labels):
    log_p = log_softmax(logits)
    n = logits.shape[0]
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1
    return -log_p[np.arange(n), labels].mean(), grad
''',
        },
        "expected": {"test_mse_loss": 2, "test_bce_loss": 3, "test_log_softmax": 2,
                     "test_cross_entropy": 0},
        "message": "the gradient of cross_entropy on the chapter's batch, (softmax - onehot) / N is wrong",
    },
    "log_softmax_without_the_max": {
        "why": "log_softmax is computed as z - log(sum(exp(z))) without subtracting the maximum",
        "cells": {
            "log_softmax": '''
def log_softmax(logits):
    return logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
''',
        },
        # cross_entropy calls it, and meets logits of 1000
        "expected": {"test_mse_loss": 2, "test_bce_loss": 3, "test_log_softmax": 0,
                     "test_cross_entropy": 0},
        "message": "log_softmax of the logits (1000, 0, -1000) (subtract each row's maximum first) contains",
    },
}
