"""Tests of nnlib.plot on the Agg backend: each figure holds the lines and images it should."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib import data, plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


HISTORY = {"loss": [1.0, 0.6, 0.4, 0.35], "val_loss": [1.1, 0.7, 0.5, 0.55],
           "accuracy": [0.5, 0.7, 0.8, 0.85], "val_accuracy": [0.45, 0.65, 0.75, 0.7],
           "best_epoch": 2}


def labelled_lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_import_nnlib_does_not_import_matplotlib():
    code = "import sys, nnlib, nnlib.plot, nnlib.data; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "nnlib must import matplotlib only when a plot is drawn"


def test_plot_history_draws_train_and_validation_curves():
    axes = plot.plot_history(HISTORY)
    assert len(axes) == 2
    loss, acc = labelled_lines(axes[0]), labelled_lines(axes[1])
    assert set(loss) == {"training loss", "validation loss", "best epoch"}
    assert set(acc) == {"training accuracy", "validation accuracy", "best epoch"}
    np.testing.assert_array_equal(loss["training loss"].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(loss["validation loss"].get_ydata(), HISTORY["val_loss"])
    np.testing.assert_array_equal(acc["training accuracy"].get_ydata(), HISTORY["accuracy"])
    assert loss["best epoch"].get_xdata()[0] == 3, "best_epoch 2 (0-based) is epoch 3 on the axis"
    assert axes[0].get_xlabel() == "epoch" and axes[1].get_ylabel() == "accuracy"


def test_plot_history_of_a_real_fit():
    import nnlib as nn
    from nnlib.train import fit

    X, y = data.make_blobs(n=40, centers=[[-1, 0], [1, 0]], seed=0)
    model = nn.Linear(2, 2, dtype=np.float64, rng=np.random.default_rng(0))
    history = fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), X, y,
                  epochs=5, val_data=(X, y), verbose=False)
    loss_ax, acc_ax = plot.plot_history(history)
    np.testing.assert_array_equal(labelled_lines(loss_ax)["training loss"].get_ydata(),
                                  history.loss)
    np.testing.assert_array_equal(labelled_lines(acc_ax)["validation accuracy"].get_ydata(),
                                  history.val_accuracy)


def test_plot_history_without_accuracy_or_validation_uses_one_panel():
    axes = plot.plot_history({"loss": [3.0, 2.0, 1.0]})
    assert len(axes) == 1
    assert list(labelled_lines(axes[0])) == ["training loss"]


def test_plot_history_on_given_axes():
    fig, ax = plt.subplots()
    axes = plot.plot_history(HISTORY, ax=ax)
    assert axes == [ax] and "validation loss" in labelled_lines(ax)


def test_plot_decision_boundary_colours_the_plane_by_the_predicted_class():
    X, y, w = data.make_linearly_separable(n=100, seed=0)
    ax = plot.plot_decision_boundary(lambda P: (P @ w > 0).astype(int), X, y, resolution=50)
    assert len(ax.collections) >= 2, "a filled contour and the scattered data"
    scatter = ax.collections[-1]
    np.testing.assert_array_equal(scatter.get_offsets(), X)
    x0, x1 = ax.get_xlim()
    assert x0 == pytest.approx(X[:, 0].min() - 0.5) and x1 == pytest.approx(X[:, 0].max() + 0.5)


def test_plot_decision_boundary_accepts_scores_and_probabilities():
    X, y = data.make_blobs(n=60, centers=[[-2, 0], [2, 0], [0, 3]], cluster_std=0.3, seed=0)
    seen = []

    def scores(P):
        seen.append(P.shape)
        return -np.linalg.norm(P[:, None, :] - np.array([[-2, 0], [2, 0], [0, 3]]), axis=2)

    plot.plot_decision_boundary(scores, X, y, resolution=30)
    assert seen == [(900, 2)], "the grid is resolution x resolution points with two features"
    plot.plot_decision_boundary(lambda P: 1 / (1 + np.exp(-P[:, :1])), X, (X[:, 0] > 0), resolution=20)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.plot_decision_boundary(scores, np.zeros((5, 3)), np.zeros(5))


def test_plot_activation_draws_function_and_derivative():
    x = np.linspace(-3, 3, 61)
    ax = plot.plot_activation(np.tanh, lambda t: 1 - np.tanh(t) ** 2, x=x)
    lines = labelled_lines(ax)
    assert set(lines) == {"tanh", "tanh'"}
    np.testing.assert_allclose(lines["tanh"].get_ydata(), np.tanh(x))
    np.testing.assert_allclose(lines["tanh'"].get_ydata(), 1 - np.tanh(x) ** 2)
    assert lines["tanh'"].get_linestyle() == "--"


def test_plot_activation_default_range_and_label():
    ax = plot.plot_activation(lambda t: np.maximum(t, 0), label="ReLU")
    (line,) = ax.get_lines()
    assert line.get_label() == "ReLU"
    assert line.get_xdata()[0] == -5 and line.get_xdata()[-1] == 5


def test_show_images_lays_out_digits_with_titles():
    X, y = data.load_digits()
    fig = plot.show_images(X[:10], labels=y[:10], ncols=4)
    axes = fig.get_axes()
    assert len(axes) == 12, "3 rows of 4"
    shown = [ax for ax in axes if ax.get_images()]
    assert len(shown) == 10
    np.testing.assert_array_equal(shown[3].get_images()[0].get_array(), X[3].reshape(8, 8))
    assert [ax.get_title() for ax in shown] == [str(v) for v in y[:10]]


def test_show_images_accepts_channel_first_filters_and_rejects_bad_shapes():
    filters = np.random.default_rng(0).normal(size=(6, 1, 3, 3))
    fig = plot.show_images(filters)
    assert sum(bool(ax.get_images()) for ax in fig.get_axes()) == 6
    with pytest.raises(ValueError, match="square"):
        plot.show_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="labels"):
        plot.show_images(np.zeros((2, 4, 4)), labels=[1])


def test_plots_write_nothing_to_stderr(capsys):
    plot.plot_history(HISTORY)
    plot.plot_activation(np.tanh)
    plot.show_images(np.zeros((3, 4, 4)))
    X, y = data.make_moons(n=50, seed=0)
    plot.plot_decision_boundary(lambda P: (P[:, 1] < 0.25).astype(int), X, y, resolution=20)
    plt.gcf().canvas.draw()
    assert capsys.readouterr().err == ""


def test_book_style_draws_figures_no_wider_than_the_text_column():
    with matplotlib.rc_context():
        plot.use_book_style()
        assert plt.figure().get_figwidth() <= plot.COLUMN_WIDTH
        axes = plot.plot_history(HISTORY)
        assert axes[0].figure.get_figwidth() <= plot.COLUMN_WIDTH
        grid = plot.show_images(np.zeros((16, 8, 8)), ncols=8)
        assert grid.get_figwidth() <= plot.COLUMN_WIDTH
        # figure text a little below the 16 px body text: 10.5 pt is 14 px
        assert 9 <= matplotlib.rcParams["font.size"] <= 12
        assert matplotlib.rcParams["svg.fonttype"] == "path"
    assert matplotlib.rcParams["font.size"] == matplotlib.rcParamsDefault["font.size"]


def test_book_style_ships_with_the_package():
    assert plot.STYLE.is_file() and plot.STYLE.suffix == ".mplstyle"
    assert "figure.figsize" in plot.STYLE.read_text()


def texts(ax):
    return {t.get_text() for t in ax.texts}


def test_draw_neuron_has_inputs_weights_bias_sum_activation_and_output():
    ax = plot.draw_neuron(n_inputs=3, activation="f")
    found = plot.parts(ax)
    for part in ["input 1", "input 2", "input 3", "weight 1", "weight 3", "bias", "sum",
                 "activation", "output"]:
        assert part in found, f"the neuron diagram has no '{part}'"
    assert "input 4" not in found
    assert {"$x_{1}$", "$w_{3}$", "$b$", r"$\Sigma$", "$f$", "$a = f(z)$"} <= texts(ax)
    with pytest.raises(ValueError, match="n_inputs"):
        plot.draw_neuron(n_inputs=0)


def test_draw_network_joins_every_neuron_to_every_neuron_of_the_next_layer():
    ax = plot.draw_network((2, 3, 1))
    found = plot.parts(ax)
    neurons = {p for p in found if " neuron " in p and not p.endswith("label")}
    weights = {p for p in found if p.startswith("weight ")}
    assert len(neurons) == 2 + 3 + 1
    assert len(weights) == 2 * 3 + 3 * 1
    assert {"input", "hidden 1", "output"} <= texts(ax)
    with pytest.raises(ValueError, match="2 names"):
        plot.draw_network((2, 3, 1), layer_names=["in", "out"])


@pytest.mark.parametrize("size, kernel, stride, padding, position, out", [
    (5, 3, 1, 0, (0, 0), 3), (5, 3, 2, 1, (1, 2), 3), (7, 2, 2, 0, (2, 1), 3), (4, 3, 1, 1, (3, 3), 4)])
def test_draw_convolution_places_the_window_by_stride_and_padding(size, kernel, stride, padding,
                                                                 position, out):
    ax = plot.draw_convolution(size, kernel, stride, padding, position)
    patches = {p.get_gid(): p for p in ax.patches}
    full = size + 2 * padding
    assert sum(g.startswith("padding cell") for g in patches) == full * full - size * size
    assert sum(g.startswith("input cell") for g in patches) == size * size
    assert sum(g.startswith("output cell") for g in patches) + 1 == out * out
    window = patches["window"]
    row, col = position
    assert (window.get_x(), window.get_width()) == (col * stride, kernel), "window column"
    assert window.get_y() == full - row * stride - kernel, "window row"
    assert f"output {out}×{out}" in texts(ax)
    with pytest.raises(ValueError, match="outside"):
        plot.draw_convolution(size, kernel, stride, padding, (out, 0))


def test_draw_convolution_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        plot.draw_convolution(size=2, kernel_size=3)


def test_draw_lstm_cell_has_its_four_gates_and_both_states():
    ax = plot.draw_lstm_cell()
    found = plot.parts(ax)
    for part in ["forget gate", "input gate", "candidate", "output gate", "forget product",
                 "input product", "cell sum", "output tanh", "output product", "c_prev", "c_next",
                 "h_prev", "x", "h_next"]:
        assert part in found, f"the LSTM cell diagram has no '{part}'"
    assert {"$f$", "$i$", "$g$", "$o$", "$c_t$", "$h_t$", "$x_t$"} <= texts(ax)


@pytest.mark.parametrize("norm_first", [False, True])
def test_draw_transformer_block_puts_the_norms_where_norm_first_says(norm_first):
    ax = plot.draw_transformer_block(norm_first=norm_first)
    found = plot.parts(ax)
    for part in ("input", "self-attention", "feed-forward", "norm1", "norm2", "add 1", "add 2",
                 "residual 1", "residual 2", "output", "queries", "keys", "values"):
        assert part in found, f"draw_transformer_block(norm_first={norm_first}) has no {part!r}"
    # each box or sum carries its label at its centre
    x = {text.get_gid()[:-len(" label")]: text.get_position()[0] for text in ax.texts
         if text.get_gid() in {f"{g} label" for g in ("self-attention", "feed-forward", "norm1",
                                                       "norm2", "add 1", "add 2")}}
    # post-norm: attention, sum, norm; pre-norm: norm, attention, sum (and the same for the FFN)
    order = sorted(x, key=x.get)
    expected = (["norm1", "self-attention", "add 1", "norm2", "feed-forward", "add 2"] if norm_first
                else ["self-attention", "add 1", "norm1", "feed-forward", "add 2", "norm2"])
    assert order == expected, f"stages left to right: {order}, expected {expected}"
    width = ax.figure.get_size_inches()[0]
    assert width <= plot.COLUMN_WIDTH, f"the diagram is {width} in wide, the column {plot.COLUMN_WIDTH}"
