"""Wrong submissions for exercise 11, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else. The attention backward test computes its own weights, so it never
depends on task 1; layer norm's backward test calls the learner's forward for its cache.
"""

FULL = {"test_attention": 3, "test_attention_backward": 4, "test_heads": 2, "test_layer_norm_forward": 2,
        "test_layer_norm_backward": 3, "test_positional_encoding": 2}

# layer norm's forward pass with the mean and the variance a submission computes
LAYER_NORM = '''
def layer_norm_forward(x, gamma, beta, eps=1e-5):
    mu = {mean}
    var = {var}
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)
'''

SUBMISSIONS = {
    "attention_without_sqrt_dk": {
        "why": "the scores are Q K^T, not divided by sqrt(d_k): the softmax saturates as d_k grows",
        "cells": {
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
''',
        },
        "expected": {**FULL, "test_attention": 0},
        "message": "the scores are not divided by sqrt(d_k)",
    },
    "mask_applied_after_softmax": {
        "why": "the masked weights are zeroed after the softmax, so the rows no longer sum to 1",
        "cells": {
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]), axis=-1)
    if mask is not None:
        weights = np.where(mask, 0.0, weights)
    return weights @ V, weights
''',
        },
        "expected": {**FULL, "test_attention": 0},
        "message": "with a mask, the rows of the weights do not sum to 1",
    },
    "softmax_over_the_queries": {
        "why": "the softmax runs over axis -2 (the queries) instead of the keys",
        "cells": {
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores, axis=-2)
    return weights @ V, weights
''',
        },
        "expected": {**FULL, "test_attention": 0},
        "message": "each row of the weights must sum to 1",
    },
    "softmax_backward_without_second_term": {
        "why": "the softmax's backward multiplies by the weights only, dS = A * dA, dropping "
               "- A * rowsum(dA * A)",
        "cells": {
            "attention_backward": '''
def attention_backward(G, Q, K, V, weights):
    dV = np.swapaxes(weights, -1, -2) @ G
    dS = weights * (G @ np.swapaxes(V, -1, -2))
    scale = 1 / np.sqrt(Q.shape[-1])
    return scale * dS @ K, scale * np.swapaxes(dS, -1, -2) @ Q, dV
''',
        },
        "expected": {**FULL, "test_attention_backward": 0},
        "message": "misses the softmax's second term",
    },
    "heads_merged_without_swapping_axes": {
        "why": "merge_heads reshapes (N, h, T, d_k) to (N, T, E) without swapping the head and time axes back",
        "cells": {
            "heads": '''
def split_heads(x, num_heads):
    N, T, E = x.shape
    return x.reshape(N, T, num_heads, E // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    N, h, T, d_k = x.shape
    return x.reshape(N, T, h * d_k)
''',
        },
        "expected": {**FULL, "test_heads": 0},
        "message": "merge_heads(split_heads(x, h)) does not give x back",
    },
    "layer_norm_over_the_batch": {
        "why": "the mean and variance are taken over axis 0 (the batch), as batch norm does",
        "cells": {
            "layer_norm_forward": LAYER_NORM.format(mean="np.mean(x, axis=0, keepdims=True)",
                                                    var="np.var(x, axis=0, keepdims=True)"),
        },
        # the backward test takes its cache from this forward
        "expected": {**FULL, "test_layer_norm_forward": 0, "test_layer_norm_backward": 0},
        "message": "layer_norm_forward normalises over the batch",
    },
    "layer_norm_unbiased_variance": {
        "why": "np.var(..., ddof=1): the variance is divided by E - 1, not E as in PyTorch",
        "cells": {
            "layer_norm_forward": LAYER_NORM.format(mean="np.mean(x, axis=-1, keepdims=True)",
                                                    var="np.var(x, axis=-1, ddof=1, keepdims=True)"),
        },
        # the backward test differentiates this forward numerically, and the backward formula
        # (written for the variance over E) no longer matches it
        "expected": {**FULL, "test_layer_norm_forward": 0, "test_layer_norm_backward": 0},
        "message": "uses the unbiased variance",
    },
    "layer_norm_backward_ignores_mean_and_variance": {
        "why": "dx = dy * gamma / sqrt(var + eps), as if the mean and the variance were constants",
        "cells": {
            "layer_norm_backward": '''
def layer_norm_backward(dy, cache):
    x_hat, inv_std, gamma = cache
    lead = tuple(range(dy.ndim - 1))
    return dy * gamma * inv_std, np.sum(dy * x_hat, axis=lead), np.sum(dy, axis=lead)
''',
        },
        "expected": {**FULL, "test_layer_norm_backward": 0},
        "message": "the mean and the variance depend on every entry of the row too",
    },
    "positional_encoding_frequency_uses_i": {
        "why": "the exponent is i / D instead of 2i / D, so the frequencies fall too slowly",
        "cells": {
            "positional_encoding": '''
def positional_encoding(T, D):
    angle = np.arange(T)[:, None] / 10000 ** (np.arange(D // 2) / D)
    pe = np.zeros((T, D))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe
''',
        },
        "expected": {**FULL, "test_positional_encoding": 0},
        "message": "the frequency of column pair (2i, 2i + 1) is 1 / 10000^(2i / D)",
    },
}
