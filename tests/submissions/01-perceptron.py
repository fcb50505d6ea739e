"""Wrong submissions for exercise 1, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "step_strict_inequality": {
        "why": "step uses z > 0, so step(0) is 0 instead of 1",
        "cells": {
            "step": '''
def step(z):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)
''',
        },
        # the update and the training loop call step, and both meet z = 0 exactly
        "expected": {"test_neuron_output": 2, "test_step": 0, "test_perceptron_update": 0,
                     "test_train_perceptron": 0},
        "message": "step(0.0) (the boundary belongs to class 1) is wrong",
    },
    "update_forgets_bias": {
        "why": "the update changes the weights but never the bias",
        "cells": {
            "perceptron_update": '''
def perceptron_update(x, y, w, b, lr=1.0):
    error = y - step(np.dot(w, x) + b)
    return w + lr * error * x, b
''',
        },
        "expected": {"test_neuron_output": 2, "test_step": 1, "test_perceptron_update": 0,
                     "test_train_perceptron": 0},
        "message": "the new bias after a false positive is wrong",
    },
    "update_in_place": {
        "why": "the update modifies the caller's weights with +=",
        "cells": {
            "perceptron_update": '''
def perceptron_update(x, y, w, b, lr=1.0):
    error = y - step(np.dot(w, x) + b)
    w += lr * error * np.asarray(x, dtype=float)
    return w, b + lr * error
''',
        },
        # training from its own zero array still works; the update test catches the mutation
        "expected": {"test_neuron_output": 2, "test_step": 1, "test_perceptron_update": 0,
                     "test_train_perceptron": 3},
        "message": "perceptron_update must not modify the array it is given",
    },
    "neuron_forgets_activation": {
        "why": "the neuron returns the weighted sum z instead of sigmoid(z)",
        "cells": {
            "neuron_output": '''
def neuron_output(x, w, b):
    return np.dot(x, w) + b
''',
        },
        "expected": {"test_neuron_output": 0, "test_step": 1, "test_perceptron_update": 2,
                     "test_train_perceptron": 3},
        "message": "neuron_output(x, w, b=-0.5) is wrong",
    },
    "training_counts_after_update": {
        "why": "mistakes are counted with the weights after the update, so they are undercounted",
        "cells": {
            "train_perceptron": '''
def train_perceptron(X, y, lr=1.0, max_epochs=100):
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes = []
    for epoch in range(max_epochs):
        count = 0
        for xi, yi in zip(X, y):
            w, b = perceptron_update(xi, yi, w, b, lr)
            if step(np.dot(xi, w) + b) != yi:
                count += 1
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes
''',
        },
        "expected": {"test_neuron_output": 2, "test_step": 1, "test_perceptron_update": 2,
                     "test_train_perceptron": 0},
        "message": "the examples predicted wrongly just before their update) is wrong",
    },
}
