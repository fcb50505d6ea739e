"""Time nnlib against PyTorch (CPU, float32, same shapes, same process) and print the ratios.

    python benchmarks/nnlib_vs_torch.py [--repeats 30] [--only CASE] [--one-thread]

Each case runs the same computation in both libraries: a warm-up, then ``--repeats`` rounds that
alternate nnlib and PyTorch (so a burst of load from other processes hits both), and the median
of each. The ratio of the medians, nnlib / PyTorch, is what matters; absolute times depend on the
machine. The last column, the ratio of the fastest rounds, shows how the two compare when other
processes leave the cores alone. Nothing is asserted: the goals are printed next to the ratios.

PyTorch keeps its default number of threads and numpy's BLAS its own (both printed). On a machine
busy with other work, thread pools that wait for each other make both libraries slow and the
times jumpy; ``--one-thread`` limits both to one thread (with threadpoolctl) for a steadier
comparison. Some machines set OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE, which can force a slow OpenBLAS
kernel; to measure without them:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/nnlib_vs_torch.py
"""
import argparse
import os
import time

import numpy as np
import torch

import nnlib

GOALS = {"MLP training step": 1.1, "Conv2d forward+backward": 1.0,
         "MaxPool2d forward+backward": 1.5, "LSTM forward+backward": 1.5,
         "MHA self-attention fwd+bwd": 2.0, "TransformerEncoderLayer f+b": 2.0}


def blas_info():
    """Which BLAS numpy calls, and the kernel OpenBLAS chose for this CPU."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    numpy_dir = os.path.dirname(np.__file__)
    for lib in threadpool_info():
        if lib["user_api"] == "blas" and os.path.dirname(numpy_dir) in lib["filepath"] \
                and "torch" not in lib["filepath"]:
            return (f"{lib['internal_api']} {lib.get('version')}, kernel "
                    f"{lib.get('architecture')}, {lib['num_threads']} threads")
    return "unknown"


def compare(nnlib_step, torch_step, repeats, warmup=5):
    """Seconds per call of ``nnlib_step()`` and ``torch_step()``, alternating between the two:
    ``{"nnlib": [...], "torch": [...]}``, one entry per round."""
    for _ in range(warmup):
        nnlib_step()
        torch_step()
    times = {"nnlib": [], "torch": []}
    for _ in range(repeats):
        for name, step in (("nnlib", nnlib_step), ("torch", torch_step)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def mlp_case(rng):
    """784-256-128-10 MLP, batch 256: forward, cross-entropy, backward, SGD step."""
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)

    model = nnlib.Sequential(nnlib.Linear(784, 256, rng=rng), nnlib.ReLU(),
                             nnlib.Linear(256, 128, rng=rng), nnlib.ReLU(),
                             nnlib.Linear(128, 10, rng=rng))
    loss_fn, opt = nnlib.CrossEntropyLoss(), nnlib.SGD(model.parameters(), lr=0.01)

    def nnlib_step():
        opt.zero_grad()
        loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        opt.step()

    t_model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10))
    t_loss_fn, t_opt = torch.nn.CrossEntropyLoss(), torch.optim.SGD(t_model.parameters(), lr=0.01)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step():
        t_opt.zero_grad()
        t_loss_fn(t_model(x_t), y_t).backward()
        t_opt.step()

    return nnlib_step, torch_step


def conv_case(rng):
    """Conv2d 1 -> 32 channels, 3x3, padding 1, on (64, 1, 28, 28); both compute dL/dx."""
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    conv = nnlib.Conv2d(1, 32, 3, padding=1, rng=rng)
    grad = np.ones((64, 32, 28, 28), dtype=np.float32)

    def nnlib_step():
        conv(x)
        conv.backward(grad)

    t_conv = torch.nn.Conv2d(1, 32, 3, padding=1)
    x_t, grad_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def torch_step():
        t_conv(x_t).backward(grad_t)

    return nnlib_step, torch_step


def pool_case(rng):
    """MaxPool2d 2x2 on the conv output (64, 32, 28, 28)."""
    x = rng.standard_normal((64, 32, 28, 28)).astype(np.float32)
    pool = nnlib.MaxPool2d(2)
    grad = np.ones((64, 32, 14, 14), dtype=np.float32)

    def nnlib_step():
        pool(x)
        pool.backward(grad)

    t_pool = torch.nn.MaxPool2d(2)
    x_t, grad_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def torch_step():
        t_pool(x_t).backward(grad_t)

    return nnlib_step, torch_step


def lstm_case(rng):
    """LSTM 64 -> 128, sequence 50, batch 32; gradient flows from every output and into dL/dx."""
    x = rng.standard_normal((32, 50, 64)).astype(np.float32)
    lstm = nnlib.LSTM(64, 128, rng=rng)
    grad = np.ones((32, 50, 128), dtype=np.float32)

    def nnlib_step():
        lstm(x)
        lstm.backward(grad)

    t_lstm = torch.nn.LSTM(64, 128, batch_first=True)
    x_t, grad_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def torch_step():
        t_lstm(x_t)[0].backward(grad_t)

    return nnlib_step, torch_step


def attention_case(rng):
    """Causal self-attention, E = 64, 4 heads, T = 64, batch 32; dL/dx and every weight gradient."""
    x = rng.standard_normal((32, 64, 64)).astype(np.float32)
    grad = np.ones_like(x)
    mha = nnlib.MultiheadAttention(64, 4, rng=rng)
    mask = nnlib.functional.causal_mask(64)

    def nnlib_step():
        mha(x, x, x, attn_mask=mask, need_weights=False)
        mha.backward(grad)

    t_mha = torch.nn.MultiheadAttention(64, 4, batch_first=True)
    x_t, grad_t, mask_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad), \
        torch.from_numpy(mask)

    def torch_step():
        t_mha(x_t, x_t, x_t, attn_mask=mask_t, need_weights=False)[0].backward(grad_t)

    return nnlib_step, torch_step


def encoder_case(rng):
    """TransformerEncoderLayer(64, 4, 256), dropout 0, on (32, 64, 64) with a causal mask."""
    x = rng.standard_normal((32, 64, 64)).astype(np.float32)
    grad = np.ones_like(x)
    layer = nnlib.TransformerEncoderLayer(64, 4, 256, dropout=0.0, rng=rng)
    mask = nnlib.functional.causal_mask(64)

    def nnlib_step():
        layer(x, src_mask=mask)
        layer.backward(grad)

    t_layer = torch.nn.TransformerEncoderLayer(64, 4, 256, dropout=0.0, batch_first=True)
    x_t, grad_t, mask_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad), \
        torch.from_numpy(mask)

    def torch_step():
        t_layer(x_t, src_mask=mask_t).backward(grad_t)

    return nnlib_step, torch_step


CASES = {"MLP training step": mlp_case, "Conv2d forward+backward": conv_case,
         "MaxPool2d forward+backward": pool_case, "LSTM forward+backward": lstm_case,
         "MHA self-attention fwd+bwd": attention_case, "TransformerEncoderLayer f+b": encoder_case}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds per case")
    parser.add_argument("--only", choices=list(CASES), help="run one case")
    parser.add_argument("--one-thread", action="store_true",
                        help="limit numpy's BLAS and PyTorch to one thread each")
    args = parser.parse_args()
    if args.one_thread:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
        torch.set_num_threads(1)

    print(f"numpy {np.__version__}: {blas_info()}")
    print(f"torch {torch.__version__}: {torch.get_num_threads()} threads")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        print(f"  {var}={os.environ.get(var, '(unset)')}")
    print()
    # "best" is the ratio of the fastest rounds: on a busy machine, closer to the unloaded speed
    print(f"{'case':<28} {'nnlib ms':>9} {'torch ms':>9} {'ratio':>6} {'goal':>7}  {'verdict':<10} "
          f"{'best':>5}")
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    for name, make in CASES.items():
        if args.only and name != args.only:
            continue
        times = compare(*make(rng), repeats=args.repeats)
        t_nnlib, t_torch = np.median(times["nnlib"]), np.median(times["torch"])
        ratio, best = t_nnlib / t_torch, min(times["nnlib"]) / min(times["torch"])
        verdict = "ok" if ratio <= GOALS[name] else "above goal"
        print(f"{name:<28} {t_nnlib * 1e3:9.2f} {t_torch * 1e3:9.2f} {ratio:6.2f} "
              f"{'<= ' + str(GOALS[name]):>7}  {verdict:<10} {best:5.2f}")


if __name__ == "__main__":
    main()
