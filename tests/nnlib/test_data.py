"""Tests of nnlib.data: bundled sets, synthetic sets, splits, scaling, batches, IDX files."""
import gzip
import struct

import numpy as np
import pytest

from nnlib import data


# --- bundled data -----------------------------------------------------------------------
def test_load_digits_shapes_dtypes_and_ranges():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X)), "pixels are integers 0..16"
    assert set(np.unique(y)) == set(range(10))
    assert np.bincount(y).min() >= 170, f"every digit has ~180 images, got {np.bincount(y)}"


def test_load_digits_as_images_matches_flat_rows():
    X, y = data.load_digits()
    images, y2 = data.load_digits(as_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)


def test_load_digits_matches_the_uci_source_copy_in_scikit_learn():
    # independent reference: scikit-learn's own copy of the UCI file (used only in the tests)
    from sklearn.datasets import load_digits as sklearn_load_digits
    ref = sklearn_load_digits()
    X, y = data.load_digits()
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)


def test_first_digit_looks_like_a_zero():
    # hand check: the first image is a 0, a ring of ink with an empty centre
    images, y = data.load_digits(as_images=True)
    assert y[0] == 0
    assert images[0, 3:5, 3:5].max() <= 2, f"centre of a 0 should be blank:\n{images[0]}"
    assert images[0, 0].sum() > 0 and images[0, 7].sum() > 0, "top and bottom strokes expected"


def test_load_text_is_ascii_alice():
    text = data.load_text()
    assert text.startswith("ALICE'S ADVENTURES IN WONDERLAND")
    assert "Alice was beginning to get very tired" in text
    assert 5_000 < len(text) < 20_000
    assert all(ord(c) < 128 for c in text)
    with pytest.raises(ValueError, match="unknown text"):
        data.load_text("hamlet")


def test_char_vocab_encode_decode_round_trip():
    text = "hello world"
    stoi, itos = data.char_vocab(text)
    assert itos == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert stoi["h"] == 3 and all(itos[stoi[c]] == c for c in text)
    ids = data.encode(text, stoi)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1])
    assert data.decode(ids, itos) == text
    with pytest.raises(ValueError, match=r"\['z'\]"):
        data.encode("zoo", stoi)


def test_char_windows_targets_are_the_next_character():
    ids = np.arange(10)
    X, Y = data.char_windows(ids, seq_len=4, step=2)
    np.testing.assert_array_equal(X, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]])
    np.testing.assert_array_equal(Y, [[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8]])
    with pytest.raises(ValueError, match="at least"):
        data.char_windows(ids, seq_len=10)


# --- splitting, scaling, one-hot ------------------------------------------------------------
def test_train_test_split_is_a_disjoint_cover_of_the_data():
    X = np.arange(100, dtype=float).reshape(50, 2)
    y = np.arange(50)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.2, seed=3)
    assert len(Xte) == 10 and len(Xtr) == 40
    assert set(ytr).isdisjoint(yte) and set(ytr) | set(yte) == set(range(50))
    np.testing.assert_array_equal(Xtr[:, 0], 2 * ytr, err_msg="rows of X and y stay paired")
    np.testing.assert_array_equal(Xte[:, 0], 2 * yte)


def test_train_test_split_is_reproducible_and_seed_dependent():
    X, y = data.load_digits()
    a = data.train_test_split(X, y, seed=1)
    b = data.train_test_split(X, y, seed=1)
    c = data.train_test_split(X, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3])


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [80, 15, 5])           # unbalanced: 80 % / 15 % / 5 %
    X = np.arange(100)[:, None]
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(yte), [16, 3, 1])
    np.testing.assert_array_equal(np.bincount(ytr), [64, 12, 4])
    assert set(Xtr[:, 0]).isdisjoint(Xte[:, 0])
    np.testing.assert_array_equal(y[Xte[:, 0]], yte, err_msg="rows of X and y stay paired")


def test_stratified_split_of_digits_has_every_class_in_proportion():
    X, y = data.load_digits()
    _, _, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    assert len(yte) == 450
    share_all, share_test = np.bincount(y) / len(y), np.bincount(yte) / len(yte)
    assert np.abs(share_all - share_test).max() < 1 / len(yte) + 1e-12, (share_all, share_test)


def test_train_test_split_rejects_bad_sizes():
    with pytest.raises(ValueError, match="samples"):
        data.train_test_split(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="non-empty"):
        data.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=5)


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(200, 3))
    X_test = rng.normal(-50.0, 10.0, size=(20, 3))     # very different: must not leak in
    Xtr_s, Xte_s, mean, std = data.standardize(X_train, X_test)
    np.testing.assert_allclose(mean, X_train.mean(0))
    np.testing.assert_allclose(std, X_train.std(0))
    np.testing.assert_allclose(Xtr_s.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Xtr_s.std(0), 1, atol=1e-12)
    np.testing.assert_allclose(Xte_s, (X_test - X_train.mean(0)) / X_train.std(0))


def test_standardize_guards_constant_features():
    X = np.array([[0.0, 1.0], [0.0, 3.0]])
    Xs, mean, std = data.standardize(X)
    assert np.all(np.isfinite(Xs))
    np.testing.assert_array_equal(std, [1.0, 1.0])
    np.testing.assert_array_equal(Xs, [[0.0, -1.0], [0.0, 1.0]])


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0, 1]), 3),
                                  [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="0..2"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="integer"):
        data.one_hot(np.array([0.0, 1.0]), 2)


# --- mini-batches ---------------------------------------------------------------------------
def test_batches_cover_every_sample_exactly_once_with_a_partial_last_batch():
    X = np.arange(23)[:, None] * 10
    y = np.arange(23)
    got = list(data.batches(X, y, batch_size=5, rng=0))
    assert [len(b[1]) for b in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in got])
    np.testing.assert_array_equal(np.sort(seen), y)
    for xb, yb in got:
        np.testing.assert_array_equal(xb[:, 0], 10 * yb)


def test_batches_shuffle_anew_each_epoch_with_a_shared_generator():
    y = np.arange(50)
    rng = np.random.default_rng(0)
    first = np.concatenate(list(data.batches(y, batch_size=8, rng=rng)))
    second = np.concatenate(list(data.batches(y, batch_size=8, rng=rng)))
    assert not np.array_equal(first, second), "a new permutation every epoch"
    assert not np.array_equal(first, y), "shuffled"
    np.testing.assert_array_equal(np.sort(second), y)
    ordered = np.concatenate(list(data.batches(y, batch_size=8, shuffle=False)))
    np.testing.assert_array_equal(ordered, y)


def test_dataloader_iterates_like_batches_and_knows_its_length():
    X, y = np.arange(10)[:, None], np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    epoch1 = np.concatenate([yb for _, yb in loader])
    epoch2 = np.concatenate([yb for _, yb in loader])
    np.testing.assert_array_equal(np.sort(epoch1), y)
    assert not np.array_equal(epoch1, epoch2)


# --- synthetic sets -----------------------------------------------------------------------
SYNTHETIC = {
    "xor": lambda seed: data.make_xor(n=100, noise=0.1, seed=seed),
    "moons": lambda seed: data.make_moons(n=101, noise=0.1, seed=seed),
    "spirals": lambda seed: data.make_spirals(n=150, n_classes=3, seed=seed),
    "blobs": lambda seed: data.make_blobs(n=90, centers=3, seed=seed),
    "separable": lambda seed: data.make_linearly_separable(n=80, seed=seed)[:2],
}


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_sets_are_reproducible_with_balanced_int_labels(name):
    X, y = SYNTHETIC[name](0)
    X2, y2 = SYNTHETIC[name](0)
    X3, _ = SYNTHETIC[name](1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3), "another seed gives other points"
    assert X.dtype == np.float64 and X.shape == (len(y), 2)
    assert y.dtype == np.int64
    if name != "separable":
        counts = np.bincount(y)
        assert counts.max() - counts.min() <= 1, f"classes should be balanced: {counts}"


def test_xor_labels_are_the_xor_of_the_nearest_corner():
    X, y = data.make_xor(n=400, noise=0.1, seed=0)
    corner = (X > 0.5).astype(int)
    agree = np.mean((corner[:, 0] ^ corner[:, 1]) == y)
    assert agree > 0.99, f"with noise 0.1 almost every point is nearest its own corner: {agree}"
    Xt, yt = data.xor_table()
    np.testing.assert_array_equal(Xt, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(yt, [0, 1, 1, 0])


def test_noise_free_moons_lie_on_their_half_circles():
    X, y = data.make_moons(n=60, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12


def test_spirals_stay_in_the_unit_disc_and_wind_around():
    X, y = data.make_spirals(n=300, n_classes=3, noise=0.0, seed=0)
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12
    # noise-free arm j: angle measured from the y axis is 4 (j + r) with r the radius
    r = np.hypot(*X.T)
    far = r > 0.05
    expected = 4.0 * (y + r)
    np.testing.assert_allclose(X[far, 0], r[far] * np.sin(expected[far]), atol=1e-12)
    np.testing.assert_allclose(X[far, 1], r[far] * np.cos(expected[far]), atol=1e-12)


def test_blobs_with_given_centres():
    centers = np.array([[-5.0, 0.0], [5.0, 0.0]])
    X, y = data.make_blobs(n=400, centers=centers, cluster_std=0.5, seed=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.1)
        np.testing.assert_allclose(X[y == k].std(0), 0.5, atol=0.07)


def test_linearly_separable_respects_the_margin():
    X, y, w = data.make_linearly_separable(n=300, margin=0.2, seed=4)
    score = X @ w
    assert np.abs(score).min() > 0.2
    np.testing.assert_array_equal(y, (score > 0).astype(int))
    assert np.abs(X).max() <= 1 and 0.2 < y.mean() < 0.8


def test_sine_sequences_targets_are_next_values():
    inputs, targets = data.sine_sequences(n=8, seq_len=12, seed=0)
    assert inputs.shape == targets.shape == (8, 12, 1)
    np.testing.assert_allclose(targets[:, :-1], inputs[:, 1:], err_msg="target t = input t+1")
    assert np.abs(inputs).max() <= 1.0
    # each row is a sine: x[t+1] + x[t-1] = 2 cos(omega) x[t], so the ratio is constant per row
    x = inputs[:, :, 0]
    ratio = (x[:, 2:] + x[:, :-2]) / (2 * x[:, 1:-1])
    ok = np.abs(x[:, 1:-1]) > 0.1
    cos_omega = np.array([np.median(r[m]) for r, m in zip(ratio, ok)])
    assert np.all(np.abs(ratio - cos_omega[:, None])[ok] < 1e-8)
    assert np.all((cos_omega <= np.cos(0.2) + 1e-9) & (cos_omega >= np.cos(0.6) - 1e-9))
    noisy, clean = data.sine_sequences(n=8, seq_len=12, noise=0.1, seed=0)
    np.testing.assert_array_equal(clean, targets)
    assert 0.05 < np.std(noisy - inputs) < 0.2


# --- IDX files ------------------------------------------------------------------------------
def idx_bytes(array, code):
    """IDX bytes written by hand from the format description (independent of nnlib)."""
    big = {0x08: ">u1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(big).tobytes()


@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_reads_hand_written_files(tmp_path, dtype, code):
    array = (np.arange(24).reshape(2, 3, 4) * 3 - 5 * (dtype != np.uint8)).astype(dtype)
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(array, code))
    got = data.read_idx(path)
    assert got.dtype == dtype and got.dtype.isnative and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, array)


def test_write_idx_writes_the_standard_bytes_and_round_trips_gzip(tmp_path):
    array = np.arange(12, dtype=np.int32).reshape(3, 4) - 6
    data.write_idx(tmp_path / "a.idx", array)
    assert (tmp_path / "a.idx").read_bytes() == idx_bytes(array, 0x0C)
    data.write_idx(tmp_path / "a.idx.gz", array)
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes()) == idx_bytes(array, 0x0C)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a.idx.gz"), array)


def test_read_idx_rejects_a_wrong_magic_number(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(ValueError, match="type code 0x07"):
        data.read_idx(path)


def test_read_idx_rejects_truncated_data(tmp_path):
    full = idx_bytes(np.zeros((4, 5), dtype=np.uint8), 0x08)
    path = tmp_path / "short.idx"
    path.write_bytes(full[:-3])
    with pytest.raises(ValueError, match="needs 20 bytes of data, the file has 17"):
        data.read_idx(path)
    path.write_bytes(full[:6])
    with pytest.raises(ValueError, match="header"):
        data.read_idx(path)


def write_fake_mnist(root, kind, n, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    ext = ".gz" if gz else ""
    for name, arr in [(f"{kind}-images-idx3-ubyte", images), (f"{kind}-labels-idx1-ubyte", labels)]:
        raw = idx_bytes(arr, 0x08)
        (root / (name + ext)).write_bytes(gzip.compress(raw) if gz else raw)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_reads_the_standard_files(tmp_path, gz):
    images, labels = write_fake_mnist(tmp_path, "t10k", 7, gz)
    X, y = data.load_mnist(tmp_path, kind="t10k")
    assert X.dtype == np.uint8 and X.shape == (7, 28, 28) and y.dtype == np.int64
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_names_the_missing_files_and_never_downloads(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        data.load_mnist(tmp_path, kind="train")
    message = str(err.value)
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", str(tmp_path)]:
        assert name in message, f"the message should name {name}:\n{message}"
    assert list(tmp_path.iterdir()) == [], "nothing may be written or downloaded"
    with pytest.raises(ValueError, match="'train' or 't10k'"):
        data.load_mnist(tmp_path, kind="test")


def test_load_mnist_rejects_mismatched_counts(tmp_path):
    write_fake_mnist(tmp_path, "train", 5, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.uint8), 0x08))
    with pytest.raises(ValueError, match=r"\(5, 28, 28\).*\(4,\)"):
        data.load_mnist(tmp_path)
