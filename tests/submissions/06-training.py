"""Wrong submissions for exercise 6, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "minibatches_drop_last": {
        "why": "the iterator makes n // batch_size batches, dropping the last partial batch",
        "cells": {
            "minibatches": '''
def minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for k in range(len(X) // batch_size):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]
''',
        },
        # run_epoch iterates over the same batches, so its numbers change too; the digits still
        # train (1149 = 35 * 32 + 29: 29 images are skipped each epoch, different ones each time)
        "expected": {"test_minibatches": 0, "test_run_epoch": 0, "test_early_stopping": 2,
                     "test_train_digits": 3},
        "message": "the batch sizes for 10 examples in batches of 4 (the last, smaller batch is kept) is wrong",
    },
    "minibatches_reseeded": {
        "why": "the iterator seeds its own generator, so every epoch visits the data in the same order",
        "cells": {
            "minibatches": '''
def minibatches(X, y, batch_size, rng):
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
''',
        },
        "expected": {"test_minibatches": 0, "test_run_epoch": 0, "test_early_stopping": 2,
                     "test_train_digits": 3},
        "message": "the batches must be reshuffled every epoch",
    },
    "epoch_forgets_zero_grad": {
        "why": "the epoch never resets the gradients, so every step uses the sum of all batches so far",
        "cells": {
            "run_epoch": '''
def run_epoch(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, batch_size, rng):
    model.train()
    total = 0.0
    for xb, yb in minibatches(X_train, y_train, batch_size, rng):
        loss = loss_fn(model(xb), yb)
        model.backward(loss_fn.backward())
        optimizer.step()
        total += loss * len(xb)
    model.eval()
    return total / len(X_train), float(np.mean(model(X_val).argmax(axis=1) == y_val))
''',
        },
        "expected": {"test_minibatches": 2, "test_run_epoch": 0, "test_early_stopping": 2,
                     "test_train_digits": 0},
        "message": "call optimizer.zero_grad() before each backward pass",
    },
    "epoch_validates_in_train_mode": {
        "why": "the validation accuracy is computed without model.eval()",
        "cells": {
            "run_epoch": '''
def run_epoch(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, batch_size, rng):
    model.train()
    total = 0.0
    for xb, yb in minibatches(X_train, y_train, batch_size, rng):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        model.backward(loss_fn.backward())
        optimizer.step()
        total += loss * len(xb)
    return total / len(X_train), float(np.mean(model(X_val).argmax(axis=1) == y_val))
''',
        },
        # the instructor's digit model has no dropout, so its training is unaffected
        "expected": {"test_minibatches": 2, "test_run_epoch": 0, "test_early_stopping": 2,
                     "test_train_digits": 3},
        "message": "the model was in training mode when it computed the validation accuracy",
    },
    "epoch_mean_of_batch_means": {
        "why": "the epoch's loss is the mean of the batch losses, over-weighting the small last batch",
        "cells": {
            "run_epoch": '''
def run_epoch(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, batch_size, rng):
    model.train()
    losses = []
    for xb, yb in minibatches(X_train, y_train, batch_size, rng):
        optimizer.zero_grad()
        losses.append(loss_fn(model(xb), yb))
        model.backward(loss_fn.backward())
        optimizer.step()
    model.eval()
    return float(np.mean(losses)), float(np.mean(model(X_val).argmax(axis=1) == y_val))
''',
        },
        "expected": {"test_minibatches": 2, "test_run_epoch": 0, "test_early_stopping": 2,
                     "test_train_digits": 3},
        "message": "is the mean of the 3 batch losses; weight each batch's loss by its size",
    },
    "early_stopping_off_by_one": {
        "why": "the patience counter must exceed patience, so training runs one epoch too long",
        "cells": {
            "early_stopping": '''
def early_stopping(val_losses, patience):
    best, waited = 0, 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited > patience:
                return best, epoch
    return best, None
''',
        },
        "expected": {"test_minibatches": 2, "test_run_epoch": 3, "test_early_stopping": 0,
                     "test_train_digits": 3},
        "message": "early_stopping(curve, patience=2): the best epoch is 2",
    },
    "early_stopping_ties_improve": {
        "why": "a loss equal to the best counts as an improvement (<= instead of <)",
        "cells": {
            "early_stopping": '''
def early_stopping(val_losses, patience):
    best, waited = 0, 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] <= val_losses[best]:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited == patience:
                return best, epoch
    return best, None
''',
        },
        "expected": {"test_minibatches": 2, "test_run_epoch": 3, "test_early_stopping": 0,
                     "test_train_digits": 3},
        "message": "a tie is not an improvement",
    },
}
