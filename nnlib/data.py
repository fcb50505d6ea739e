"""Data for the course: bundled sets, synthetic sets, splitting, scaling and mini-batches.

Everything here is numpy and works offline. Arrays follow one convention:

* ``X`` has one row per sample, shape ``(n, ...)``, dtype float64;
* ``y`` holds integer class labels, shape ``(n,)``, dtype int64 (or float targets for regression).

Every random function takes ``seed`` (an int or a ``np.random.Generator``), so a reader who
re-runs a page gets the numbers the text states.

Bundled files live in ``nnlib/datasets/`` (see the README there for their origin and licence):
the 8x8 handwritten digits and Chapter I of *Alice's Adventures in Wonderland*. MNIST and
Fashion-MNIST are read from a folder you download yourself; nothing here ever downloads.
"""
import gzip
import math
import struct
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "datasets"


def _rng(seed):
    """An ``np.random.Generator`` from an int, ``None`` or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# --- bundled data sets ----------------------------------------------------------------------
def load_digits(as_images=False):
    """The 1797 handwritten digits of the UCI "Optical Recognition of Handwritten Digits" set.

    Each image is 8x8 pixels with integer intensities 0..16 (white..black), 10 classes.

    Returns ``(X, y)``: ``X`` float64 of shape ``(1797, 64)``, or ``(1797, 8, 8)`` when
    ``as_images=True``; ``y`` int64 of shape ``(1797,)`` with values 0..9.
    """
    with np.load(DATA_DIR / "digits.npz") as f:
        images, target = f["images"], f["target"]
    X = images.astype(np.float64)
    if not as_images:
        X = X.reshape(len(X), -1)
    return X, target.astype(np.int64)


def load_text(name="alice"):
    """A small public-domain English text for character-level models, as one ``str``.

    ``"alice"``: Chapter I of Lewis Carroll's *Alice's Adventures in Wonderland* (1865),
    about 11 000 ASCII characters.
    """
    files = {"alice": "alice_ch1.txt"}
    if name not in files:
        raise ValueError(f"load_text: unknown text {name!r}; available: {sorted(files)}")
    return (DATA_DIR / files[name]).read_text(encoding="ascii")


def char_vocab(text):
    """The characters of ``text``, sorted: returns ``(stoi, itos)``.

    ``stoi`` maps a character to its index, ``itos`` is the list of characters, so
    ``itos[stoi[c]] == c``.
    """
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    return stoi, itos


def encode(text, stoi):
    """Characters -> int64 array of indices, shape ``(len(text),)``."""
    unknown = sorted(set(text) - set(stoi))
    if unknown:
        raise ValueError(f"encode: characters {unknown} are not in the vocabulary")
    return np.array([stoi[c] for c in text], dtype=np.int64)


def decode(indices, itos):
    """Indices -> string (the inverse of ``encode``)."""
    return "".join(itos[int(i)] for i in indices)


def char_windows(ids, seq_len, step=1):
    """Cut an encoded text into training pairs for next-character prediction.

    Window ``k`` starts at ``k * step``. Returns ``(inputs, targets)``, both int64 of shape
    ``(n_windows, seq_len)``, with ``targets[:, t] == inputs[:, t + 1]``: at every position the
    target is the character that follows.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) < seq_len + 1:
        raise ValueError(f"char_windows: need at least seq_len + 1 = {seq_len + 1} characters, "
                         f"got {len(ids)}")
    windows = np.lib.stride_tricks.sliding_window_view(ids, seq_len + 1)[::step]
    return windows[:, :-1].copy(), windows[:, 1:].copy()


# --- splitting, scaling, encoding -----------------------------------------------------------
def train_test_split(X, y, test_size=0.2, seed=0, stratify=False):
    """Shuffle and split into ``(X_train, X_test, y_train, y_test)`` (scikit-learn's order).

    ``test_size``: a fraction in (0, 1) (rounded up to whole samples) or a number of samples.
    ``stratify=True`` keeps every class's share of ``y`` the same in both parts (up to rounding),
    which matters for small or unbalanced sets.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}")
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves {n_test} of {n} "
                         f"samples for testing; both parts must be non-empty")
    rng = _rng(seed)
    if not stratify:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        classes, counts = np.unique(y, return_counts=True)
        # share n_test between classes in proportion to their size (largest remainder rounding)
        quota = n_test * counts / n
        per_class = np.floor(quota).astype(int)
        extra = np.argsort(per_class - quota, kind="stable")[: n_test - per_class.sum()]
        per_class[extra] += 1
        test_parts, train_parts = [], []
        for c, k in zip(classes, per_class):
            idx = rng.permutation(np.flatnonzero(y == c))
            test_parts.append(idx[:k])
            train_parts.append(idx[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


def standardize(X_train, *others):
    """Scale every feature to mean 0 and standard deviation 1, with statistics of the training
    set only (test data must not leak into the model, not even through its mean).

    Returns ``(X_train_s, *others_s, mean, std)``, where ``X_s = (X - mean) / std``, ``mean`` and
    ``std`` of shape ``X_train.shape[1:]``. A constant feature (std 0, such as the always-white
    corner pixels of the digits) gets std 1, so it is centred and never divided by zero.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    scaled = [(np.asarray(X, dtype=np.float64) - mean) / std for X in (X_train, *others)]
    return (*scaled, mean, std)


def one_hot(y, num_classes):
    """Integer labels, shape ``(n,)`` -> float64 one-hot rows, shape ``(n, num_classes)``."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"one_hot: expected a 1-D array of integer labels, got shape {y.shape} "
                         f"and dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in 0..{num_classes - 1}, got values from "
                         f"{y.min()} to {y.max()}")
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


# --- mini-batches ---------------------------------------------------------------------------
def batches(X, y=None, batch_size=32, shuffle=True, rng=None):
    """Iterate over mini-batches ``(X_batch, y_batch)`` (or ``X_batch`` alone when ``y`` is
    None). Every sample appears exactly once per pass; the last batch may be smaller.

    With ``shuffle=True`` the order is a new permutation drawn from ``rng`` each time the
    iterator is created (pass the same Generator every epoch to get a new order every epoch).
    """
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"batches: X has {n} samples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}")
    order = _rng(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx] if y is None else (X[idx], y[idx])


class DataLoader:
    """``for xb, yb in DataLoader(X, y, batch_size=64):`` -- a new shuffle every epoch.

    A small stand-in for ``torch.utils.data.DataLoader`` over in-memory arrays;
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=True, seed=0):
        self.X, self.y = X, y
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = _rng(seed)

    def __iter__(self):
        return batches(self.X, self.y, self.batch_size, self.shuffle, self.rng)

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)


# --- synthetic data sets --------------------------------------------------------------------
def _split_evenly(n, k):
    """``n`` samples shared between ``k`` groups as evenly as possible."""
    return [n // k + (j < n % k) for j in range(k)]


def xor_table():
    """The XOR truth table: ``X`` float64 ``(4, 2)`` with rows 00, 01, 10, 11; ``y`` int64
    ``[0, 1, 1, 0]``."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0], dtype=np.int64)


def make_xor(n=200, noise=0.1, seed=0):
    """Noisy XOR: points scattered around the four corners of the unit square.

    Each sample is a corner of ``xor_table()`` (equal numbers of each) plus Gaussian noise of
    standard deviation ``noise``; its label is the XOR of the corner's coordinates. No straight
    line separates the classes, one hidden layer does. Returns ``X`` (n, 2), ``y`` (n,).
    """
    rng = _rng(seed)
    corners, labels = xor_table()
    which = rng.permutation(np.repeat(np.arange(4), _split_evenly(n, 4)))
    X = corners[which] + noise * rng.standard_normal((n, 2))
    return X, labels[which]


def make_moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles (the shape of scikit-learn's ``make_moons``).

    Class 0 lies on ``(cos t, sin t)``, class 1 on ``(1 - cos t, 0.5 - sin t)``, ``t`` in
    ``[0, pi]``, plus Gaussian noise. Returns shuffled ``X`` (n, 2), ``y`` (n,).
    """
    rng = _rng(seed)
    n0, n1 = _split_evenly(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    y = np.repeat(np.arange(2), [n0, n1])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_spirals(n=300, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (the CS231n toy set).

    Arm ``j`` has radius ``r`` from 0 to 1 and angle ``4 (j + r)`` plus Gaussian noise of std
    ``noise`` (in radians); the point is ``r (sin angle, cos angle)``. Returns shuffled ``X``
    (n, 2) inside the unit disc and ``y`` (n,) in ``0..n_classes-1``.
    """
    rng = _rng(seed)
    Xs, ys = [], []
    for j, m in enumerate(_split_evenly(n, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        angle = 4.0 * (j + r) + noise * rng.standard_normal(m)
        Xs.append(np.stack([r * np.sin(angle), r * np.cos(angle)], 1))
        ys.append(np.full(m, j, dtype=np.int64))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    order = rng.permutation(n)
    return X[order], y[order]


def make_blobs(n=200, centers=2, cluster_std=1.0, n_features=2, center_box=(-10.0, 10.0),
               seed=0):
    """Gaussian clusters, one per class.

    ``centers``: an int (that many centres drawn uniformly in ``center_box``) or an array of
    shape ``(n_classes, n_features)``. Returns shuffled ``X`` (n, n_features), ``y`` (n,).
    """
    rng = _rng(seed)
    if np.ndim(centers) == 0:
        centers = rng.uniform(*center_box, size=(int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    y = rng.permutation(np.repeat(np.arange(len(centers)), _split_evenly(n, len(centers))))
    X = centers[y] + cluster_std * rng.standard_normal((n, centers.shape[1]))
    return X, y


def make_linearly_separable(n=200, margin=0.1, seed=0):
    """2-D points in ``[-1, 1]^2`` split by a random line through the origin, with an empty strip
    of half-width ``margin`` around it: a perceptron is guaranteed to converge.

    Returns ``X`` (n, 2), ``y`` (n,) with ``y = 1`` on the side the line's normal points to, and
    the unit normal ``w`` (2,) of the line, so ``y == (X @ w > 0)``.
    """
    rng = _rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    w = np.array([np.cos(angle), np.sin(angle)])
    X = np.empty((0, 2))
    while len(X) < n:  # rejection sampling: drop points inside the margin, draw more
        cand = rng.uniform(-1, 1, size=(2 * n, 2))
        X = np.concatenate([X, cand[np.abs(cand @ w) > margin]])
    X = X[:n]
    return X, (X @ w > 0).astype(np.int64), w


def sine_sequences(n=200, seq_len=20, freq_range=(0.2, 0.6), noise=0.0, seed=0):
    """Sine waves for sequence prediction: at every step, predict the next value.

    Sequence ``i`` is ``sin(omega_i t + phi_i)``, ``t = 0..seq_len``, with ``omega_i`` uniform in
    ``freq_range`` (radians per step) and ``phi_i`` uniform in ``[0, 2 pi)``. Returns
    ``(inputs, targets)``, both float64 of shape ``(n, seq_len, 1)`` (batch first):
    ``inputs[:, t]`` is the wave at step ``t`` plus Gaussian noise of std ``noise``,
    ``targets[:, t]`` the clean value at step ``t + 1``.
    """
    rng = _rng(seed)
    omega = rng.uniform(*freq_range, size=(n, 1))
    phi = rng.uniform(0, 2 * np.pi, size=(n, 1))
    wave = np.sin(omega * np.arange(seq_len + 1) + phi)
    inputs = wave[:, :-1] + noise * rng.standard_normal((n, seq_len))
    return inputs[..., None], wave[:, 1:, None]


# --- MNIST and Fashion-MNIST: IDX files -----------------------------------------------------
# IDX format: 2 zero bytes, 1 byte type code, 1 byte number of dimensions, one big-endian uint32
# per dimension, then the data in big-endian C order.
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """Read an IDX file (the format of MNIST and Fashion-MNIST), gzipped or not.

    Returns a numpy array in native byte order, with the shape stored in the file. Raises
    ``ValueError`` when the file is not IDX (wrong magic number or type code) or is truncated.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise ValueError(f"read_idx: {path} is not an IDX file: its magic number starts with "
                         f"{raw[:2].hex() or 'nothing'}, an IDX file starts with 0000")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} has unknown IDX type code 0x{code:02x}; known codes "
                         f"are {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header needs {header} bytes, the "
                         f"file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"read_idx: {path} is truncated or corrupted: shape {shape} needs "
                         f"{expected} bytes of data, the file has {len(raw) - header}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in _IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of "
                         f"{sorted(str(d) for d in codes)}")
    code = codes[native]
    raw = (struct.pack(">BBBB", 0, 0, code, array.ndim)
           + struct.pack(f">{array.ndim}I", *array.shape)
           + array.astype(_IDX_TYPES[code]).tobytes())
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


MNIST_FILES = {kind: (f"{kind}-images-idx3-ubyte", f"{kind}-labels-idx1-ubyte")
               for kind in ("train", "t10k")}


def load_mnist(root, kind="train"):
    """MNIST or Fashion-MNIST from the four standard IDX files in the folder ``root``.

    ``kind="train"`` (60 000 images) or ``"t10k"`` (10 000 test images). Files may be gzipped
    (``train-images-idx3-ubyte.gz``) or not. Both data sets use the same file names, so keep
    them in separate folders.

    Returns ``(images, labels)``: uint8 ``(n, 28, 28)`` with values 0..255 (divide by 255 for
    inputs in [0, 1]) and int64 ``(n,)`` with values 0..9.
    """
    if kind not in MNIST_FILES:
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    root = Path(root)
    paths = []
    for name in MNIST_FILES[kind]:
        found = [root / (name + ext) for ext in (".gz", "") if (root / (name + ext)).is_file()]
        if not found:
            wanted = "\n".join(f"  {n}.gz" for names in MNIST_FILES.values() for n in names)
            raise FileNotFoundError(
                f"load_mnist: {root / name}[.gz] not found. nnlib never downloads data; put the "
                f"four files\n{wanted}\ninto the folder {root.resolve()} (gzipped or not).\n"
                f"MNIST: https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror of "
                f"http://yann.lecun.com/exdb/mnist/); Fashion-MNIST: "
                f"https://github.com/zalandoresearch/fashion-mnist (folder data/fashion).")
        paths.append(found[0])
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"load_mnist: expected images (n, rows, cols) and labels (n,), got "
                         f"{images.shape} in {paths[0].name} and {labels.shape} in "
                         f"{paths[1].name}")
    return images, labels.astype(np.int64)
