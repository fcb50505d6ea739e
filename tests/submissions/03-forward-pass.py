"""Wrong submissions for exercise 3, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

FULL = {"test_dense_forward": 2, "test_mlp_forward": 3, "test_he_init": 2, "test_count_parameters": 1}

SUBMISSIONS = {
    "transposed_weight": {
        "why": "the layer computes x @ W + b, the (in, out) convention, with a weight of shape (out, in)",
        "cells": {
            "dense_forward": '''
def dense_forward(x, weight, bias):
    return x @ weight + bias
''',
        },
        # mlp_forward calls dense_forward
        "expected": {**FULL, "test_dense_forward": 0, "test_mlp_forward": 0},
        "message": "raised a shape error",
    },
    "bias_forgotten": {
        "why": "the layer returns x W^T and never adds the bias",
        "cells": {
            "dense_forward": '''
def dense_forward(x, weight, bias):
    return np.dot(x, weight.T)
''',
        },
        "expected": {**FULL, "test_dense_forward": 0, "test_mlp_forward": 0},
        "message": "with a zero weight every row of the output must be the bias",
    },
    "relu_on_output_layer": {
        "why": "the ReLU is applied after every layer, the output layer included, so logits cannot be negative",
        "cells": {
            "mlp_forward": '''
def mlp_forward(x, params):
    activations = []
    h = x
    for weight, bias in params:
        h = np.maximum(0, dense_forward(h, weight, bias))
        activations.append(h)
    return h, activations
''',
        },
        "expected": {**FULL, "test_mlp_forward": 0},
        "message": "the output layer has no activation: logits can be negative",
    },
    "he_std_uses_fan_out": {
        "why": "He's standard deviation is computed from fan_out instead of fan_in",
        "cells": {
            "he_init": '''
def he_init(fan_out, fan_in, rng):
    return rng.normal(0, np.sqrt(2 / fan_out), size=(fan_out, fan_in))
''',
        },
        "expected": {**FULL, "test_he_init": 0},
        "message": "the standard deviation of he_init(fan_out=300, fan_in=200) (He: sqrt(2 / fan_in)) is wrong",
    },
    "he_std_without_the_two": {
        "why": "the standard deviation is sqrt(1 / fan_in), the rule for linear units, not ReLU's sqrt(2 / fan_in)",
        "cells": {
            "he_init": '''
def he_init(fan_out, fan_in, rng):
    return rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)
''',
        },
        "expected": {**FULL, "test_he_init": 0},
        "message": "the standard deviation of he_init(fan_out=300, fan_in=200) (He: sqrt(2 / fan_in)) is wrong",
    },
    "he_ignores_rng": {
        "why": "the weights are drawn from the global np.random instead of the generator passed in",
        "cells": {
            "he_init": '''
def he_init(fan_out, fan_in, rng):
    return np.random.randn(fan_out, fan_in) * np.sqrt(2 / fan_in)
''',
        },
        "expected": {**FULL, "test_he_init": 0},
        "message": "draw from the rng you are given",
    },
    "count_forgets_biases": {
        "why": "the parameter count adds up the weights and forgets the biases",
        "cells": {
            "count_parameters": '''
def count_parameters(layer_sizes):
    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
''',
        },
        "expected": {**FULL, "test_count_parameters": 0},
        "message": "count_parameters([2, 1]) (2 weights and 1 bias) is wrong",
    },
}
