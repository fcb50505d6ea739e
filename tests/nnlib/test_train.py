"""Tests of nnlib.train: the training loop, History, early stopping, evaluation helpers."""
import numpy as np
import pytest

import nnlib as nn
from nnlib import data
from nnlib.train import History, accuracy, evaluate, fit, predict


def mlp(n_in, n_hidden, n_out, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(n_in, n_hidden, dtype=dtype, rng=rng), nn.ReLU(),
                         nn.Linear(n_hidden, n_out, dtype=dtype, rng=rng))


def assert_same_state(a, b, msg=""):
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{msg} {key}")


# --- the loop itself ------------------------------------------------------------------------
def test_full_batch_sgd_matches_gradient_descent_by_hand():
    # y = 3x - 1 + noise; MSE gradient by hand: dL/dw = 2/n sum (wx + b - y) x, dL/db = 2/n sum (...)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1))
    y = 3 * X - 1 + 0.1 * rng.normal(size=(40, 1))
    model = nn.Linear(1, 1, dtype=np.float64, rng=np.random.default_rng(1))
    w, b = model.weight.data[0, 0], model.bias.data[0]
    lr = 0.1
    fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=lr), X, y, epochs=5, batch_size=40,
        metric=None, verbose=False)
    x = X[:, 0]
    for _ in range(5):
        r = w * x + b - y[:, 0]
        w, b = w - lr * 2 * np.mean(r * x), b - lr * 2 * np.mean(r)
    np.testing.assert_allclose(model.weight.data[0, 0], w, rtol=1e-12)
    np.testing.assert_allclose(model.bias.data[0], b, rtol=1e-12)


def test_fit_decreases_the_loss_and_separates_a_separable_set():
    X, y, _ = data.make_linearly_separable(n=300, margin=0.05, seed=0)
    Xtr, Xval, ytr, yval = data.train_test_split(X, y, seed=0)
    model = nn.Linear(2, 2, dtype=np.float64, rng=np.random.default_rng(0))
    history = fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.5), Xtr, ytr,
                  epochs=30, batch_size=16, val_data=(Xval, yval), verbose=False)
    assert history.loss[-1] < 0.5 * history.loss[0], f"loss did not fall enough: {history.loss}"
    assert history.accuracy[-1] > 0.9, history.accuracy
    assert history.val_accuracy[-1] > 0.9, history.val_accuracy
    # the recorded validation accuracy is that of the final weights
    assert accuracy(predict(model, Xval), yval) == history.val_accuracy[-1]


def test_fit_learns_xor_with_a_hidden_layer():
    X, y = data.make_xor(n=200, noise=0.1, seed=0)
    model = mlp(2, 16, 2, seed=0)
    history = fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=0.05), X, y,
                  epochs=60, batch_size=20, verbose=False)
    assert history.accuracy[-1] > 0.95, history.accuracy[-5:]


def test_fit_binary_with_logits_uses_threshold_zero():
    X, y = data.make_moons(n=200, noise=0.1, seed=0)
    model = mlp(2, 32, 1, seed=0)
    history = fit(model, nn.BCEWithLogitsLoss(), nn.Adam(model.parameters(), lr=0.02), X,
                  y[:, None].astype(float), epochs=80, batch_size=32, verbose=False)
    logits = predict(model, X)[:, 0]
    assert history.accuracy[-1] > 0.9
    assert accuracy(logits, y, threshold=0.0) == pytest.approx(np.mean((logits > 0) == y))
    assert accuracy(logits, y, threshold=0.0) > 0.95


def test_history_records_every_epoch_and_the_schedule():
    X, y = data.make_blobs(n=100, centers=[[-2, 0], [2, 0]], cluster_std=0.5, seed=0)
    model = nn.Linear(2, 2, dtype=np.float64, rng=np.random.default_rng(0))
    opt = nn.SGD(model.parameters(), lr=0.4)
    history = fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=7, val_data=(X, y),
                  scheduler=nn.StepLR(opt, step_size=3, gamma=0.5), verbose=False)
    assert isinstance(history, History) and history.epochs == 7
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(getattr(history, key)) == 7, key
    assert history.lr == [0.4] * 3 + [0.2] * 3 + [0.1]
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert not history.stopped_early and not model.training


def test_regression_without_metric_records_no_accuracy():
    inputs, targets = data.sine_sequences(n=64, seq_len=5, seed=0)
    X, y = inputs[:, :, 0], targets[:, -1]
    model = mlp(5, 16, 1)
    history = fit(model, nn.MSELoss(), nn.Adam(model.parameters(), lr=0.01), X, y, epochs=20,
                  metric=None, verbose=False)
    assert history.accuracy == [] and history.loss[-1] < history.loss[0] / 5


def test_fit_is_reproducible_for_a_seed():
    X, y = data.make_spirals(n=120, seed=0)

    def run(seed):
        model = mlp(2, 16, 3, seed=0)
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.2, momentum=0.9), X, y,
            epochs=3, batch_size=10, seed=seed, verbose=False)
        return model.state_dict()

    assert_same_state(run(4), run(4))
    assert not np.array_equal(run(4)["0.weight"], run(5)["0.weight"]), "seed sets the shuffle"


# --- early stopping -------------------------------------------------------------------------
def shifted_regression():
    """Train on y = 2x, validate on y = x: from w = 0 the weight climbs towards 2, so the
    validation loss falls until w passes 1, then rises -- early stopping must fire."""
    X = np.linspace(-1, 1, 50)[:, None]
    return X, 2 * X, (X, X)


def fresh_line():
    model = nn.Linear(1, 1, bias=False, dtype=np.float64, rng=np.random.default_rng(0))
    model.weight.data[:] = 0.0
    return model


def test_early_stopping_restores_the_best_epochs_weights(capsys):
    X, y, val = shifted_regression()
    model = fresh_line()
    history = fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.05), X, y, epochs=100,
                  batch_size=10, val_data=val, early_stopping=nn.EarlyStopping(patience=3),
                  metric=None, verbose=False)
    assert history.stopped_early
    best = history.best_epoch
    assert best == int(np.argmin(history.val_loss)), history.val_loss
    assert history.epochs == best + 1 + 3, "stops after patience epochs without improvement"
    assert history.val_loss[-1] > history.val_loss[best]
    # an independent run for exactly best + 1 epochs reaches the weights that must be restored
    reference = fresh_line()
    fit(reference, nn.MSELoss(), nn.SGD(reference.parameters(), lr=0.05), X, y, epochs=best + 1,
        batch_size=10, metric=None, verbose=False)
    assert_same_state(model.state_dict(), reference.state_dict(), "restored weights")
    # and the weights of the last epoch run were different (so something was restored)
    last = fresh_line()
    fit(last, nn.MSELoss(), nn.SGD(last.parameters(), lr=0.05), X, y, epochs=history.epochs,
        batch_size=10, metric=None, verbose=False)
    assert not np.array_equal(last.weight.data, model.weight.data)
    assert capsys.readouterr().out == ""


def test_early_stopping_in_max_mode_watches_validation_accuracy(capsys):
    X, y = data.make_blobs(n=200, centers=[[-1, 0], [1, 0]], cluster_std=0.8, seed=0)
    model = mlp(2, 8, 2)
    history = fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=0.01), X, y,
                  epochs=200, val_data=(X[:50], y[:50]), verbose=True,
                  early_stopping=nn.EarlyStopping(patience=5, mode="max"))
    assert history.stopped_early and history.epochs < 200
    assert history.val_accuracy[history.best_epoch] == max(history.val_accuracy)
    _, acc = evaluate(model, nn.CrossEntropyLoss(), X[:50], y[:50])
    assert acc == max(history.val_accuracy), "the best epoch's weights are back"
    out = capsys.readouterr()
    assert f"restored the weights of epoch {history.best_epoch + 1}" in out.out
    assert out.err == ""


# --- output ---------------------------------------------------------------------------------
def test_verbose_prints_one_line_per_epoch_on_stdout_only(capsys):
    X, y = data.make_xor(n=40, seed=0)
    model = mlp(2, 4, 2)
    fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), X, y, epochs=4,
        val_data=(X, y))
    out = capsys.readouterr()
    assert out.err == "", f"nothing may go to stderr, got {out.err!r}"
    lines = out.out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch 1/4")
    for word in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert word in lines[-1]


def test_verbose_every_k_epochs_and_quiet(capsys):
    X, y = data.make_xor(n=40, seed=0)
    model = mlp(2, 4, 2)
    opt = nn.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=10, verbose=4)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["4/10", "8/10", "10/10"]
    fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=3, verbose=False)
    assert capsys.readouterr() == ("", "")


def test_a_diverging_run_stops_with_a_message_and_no_stderr(capsys):
    X = np.linspace(-10, 10, 50)[:, None]
    model = fresh_line()
    history = fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=10.0), X, 3 * X,
                  epochs=500, batch_size=50, metric=None)
    out = capsys.readouterr()
    assert history.diverged and history.epochs < 500
    assert "smaller learning rate" in out.out and out.err == ""


# --- helpers --------------------------------------------------------------------------------
def test_accuracy_by_hand():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(scores, np.array([1, 0, 0, 0])) == 0.75
    assert accuracy(np.array([[0.7], [0.2], [0.51]]), np.array([[1.0], [0.0], [0.0]])) == 2 / 3
    assert accuracy(np.array([-0.1, 2.0]), np.array([0, 1]), threshold=0.0) == 1.0
    assert accuracy(np.array([2, 0, 1]), np.eye(3)[[2, 1, 1]]) == 2 / 3
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        accuracy(np.zeros(3), np.zeros(2))


def test_predict_and_evaluate_use_eval_mode_and_restore_the_mode():
    X, y = data.make_blobs(n=30, centers=[[-1, 0], [1, 0]], seed=0)
    model = nn.Sequential(nn.Linear(2, 8, dtype=np.float64, rng=np.random.default_rng(0)),
                          nn.Dropout(0.5, rng=np.random.default_rng(1)),
                          nn.Linear(8, 2, dtype=np.float64, rng=np.random.default_rng(2)))
    no_dropout = nn.Sequential(model[0], model[2])
    expected = no_dropout(X)
    model.train()
    np.testing.assert_allclose(predict(model, X, batch_size=7), expected)
    assert model.training, "predict puts the model back in training mode"
    loss, acc = evaluate(model, nn.CrossEntropyLoss(), X, y, batch_size=4)
    assert loss == pytest.approx(nn.CrossEntropyLoss()(expected, y))
    assert acc == np.mean(expected.argmax(1) == y)
    model.eval()
    predict(model, X)
    assert not model.training


def test_fit_rejects_mismatched_data_and_unknown_metrics():
    model = mlp(2, 4, 2)
    opt = nn.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        fit(model, nn.CrossEntropyLoss(), opt, np.zeros((10, 2)), np.zeros(9, int), epochs=1)
    with pytest.raises(ValueError, match="metric"):
        fit(model, nn.CrossEntropyLoss(), opt, np.zeros((10, 2)), np.zeros(10, int), epochs=1,
            metric="f1")
