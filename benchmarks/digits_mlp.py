"""An MLP on the 8x8 digits: nnlib beside scikit-learn's MLPClassifier, same split, same recipe.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/digits_mlp.py [--seeds 0,1,2,3,4]

Both libraries train the same network, 64-256-128-10 with ReLU, with Adam (lr 1e-3, no weight
decay), mini-batches of 32, for 30 epochs, on the same standardised, stratified split (75 % /
25 %, split seed 0). The recipe was chosen on a validation split of the training set
(20 %, split seed 1) among a few widths, depths, learning rates and epoch counts; the test set
was only used to report. Only the training seed (initial weights, shuffling) changes between
runs, so the spread over seeds shows how much of a difference between the two is luck.

nnlib trains in float32 (its default), scikit-learn in float64. Times are wall-clock seconds of
training plus prediction on the test set, measured in this process; the script prints ratios
and never asserts on time.
"""
import argparse
import os
import platform
import time
import warnings

# Matrices this small gain nothing from BLAS threads and lose a lot when the cores are shared:
# one thread for both libraries unless the caller chose otherwise (set before numpy loads).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import nnlib as nn  # noqa: E402
from nnlib import data, train  # noqa: E402

HIDDEN = (256, 128)
LR, EPOCHS, BATCH = 1e-3, 30, 32


def split():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0,
                                                             stratify=True)
    X_train, X_test, _, _ = data.standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def run_nnlib(X_train, X_test, y_train, y_test, seed):
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    layers, width = [], X_train.shape[1]
    for h in HIDDEN:
        layers += [nn.Linear(width, h, rng=rng), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, 10, rng=rng))
    optimizer = nn.Adam(model.parameters(), lr=LR)
    train.fit(model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, epochs=EPOCHS,
              batch_size=BATCH, seed=seed, verbose=False)
    acc = train.accuracy(train.predict(model, X_test), y_test)
    return acc, time.perf_counter() - start


def run_sklearn(X_train, X_test, y_train, y_test, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=LR,
                        alpha=0.0, batch_size=BATCH, max_iter=EPOCHS,
                        n_iter_no_change=EPOCHS, random_state=seed)
    with warnings.catch_warnings():   # it warns that 30 epochs did not "converge": expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    acc = float(np.mean(clf.predict(X_test) == y_test))
    return acc, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4",
                        help="training seeds, comma separated; the first is the headline run")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    import sklearn

    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, python "
          f"{platform.python_version()}, {os.cpu_count()} cores, "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, load average "
          f"{os.getloadavg()[0]:.1f} (busy cores slow both libraries)")
    parts = split()
    print(f"digits: {len(parts[0])} training and {len(parts[1])} test images; MLP "
          f"64-{'-'.join(map(str, HIDDEN))}-10, Adam lr {LR}, batch {BATCH}, {EPOCHS} epochs\n")
    print(f"{'seed':>4}  {'nnlib acc':>9}  {'time':>6}  {'sklearn acc':>11}  {'time':>6}  "
          f"{'time ratio':>10}")
    results = []
    for seed in seeds:
        (a1, t1), (a2, t2) = run_nnlib(*parts, seed), run_sklearn(*parts, seed)
        results.append((a1, t1, a2, t2))
        print(f"{seed:>4}  {a1:>9.4f}  {t1:>5.2f}s  {a2:>11.4f}  {t2:>5.2f}s  {t1 / t2:>10.2f}")
    acc1, time1, acc2, time2 = np.array(results).T
    a1, t1, a2, t2 = results[0]
    print(f"\nseed {seeds[0]}: nnlib test accuracy {a1:.2%} in {t1:.2f} s; scikit-learn "
          f"{a2:.2%} in {t2:.2f} s; nnlib takes {t1 / t2:.2f}x scikit-learn's time")
    print(f"over {len(seeds)} seeds: nnlib {acc1.mean():.2%} (min {acc1.min():.2%}, max "
          f"{acc1.max():.2%}, mean time {time1.mean():.2f} s); scikit-learn {acc2.mean():.2%} "
          f"(min {acc2.min():.2%}, max {acc2.max():.2%}, mean time {time2.mean():.2f} s)")
    print(f"goal >= 97% in <= 5 s: {'met' if a1 >= 0.97 and t1 <= 5 else 'NOT met'} for seed "
          f"{seeds[0]}; {int(np.sum((acc1 >= 0.97) & (time1 <= 5)))}/{len(seeds)} seeds")


if __name__ == "__main__":
    main()
