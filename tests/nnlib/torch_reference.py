"""Shared helpers for checking nnlib against PyTorch: ``from torch_reference import ...``.

(They live in a module of their own rather than in conftest.py because several test folders may
each have a conftest.py, and ``from conftest import`` would then pick up whichever comes first.)

The reference is PyTorch autograd in float64. ``compare_with_torch(nn_module, torch_module, x)``
copies the torch module's weights into the nnlib one, runs both on ``x`` with the same random
upstream gradient and compares the output, the input gradient and every parameter gradient,
failing with a message that names the one that differs.
"""
import numpy as np
import torch

from nnlib.gradcheck import relative_error

TOL = 1e-6


def to_torch(a, requires_grad=False):
    """A float64 torch tensor holding a copy of ``a``."""
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def to_numpy(t):
    return t.detach().cpu().numpy()


def assert_close(actual, expected, what, tol=TOL):
    """Fail unless ``actual`` and ``expected`` have the same shape and a relative error <= tol;
    the message says what was compared and shows both when they are small."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape}, expected {expected.shape}")
    err = relative_error(actual, expected)
    shown = f"\nnnlib:\n{actual}\nexpected:\n{expected}" if actual.size <= 24 else ""
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:g}{shown}"


def load_from_torch(nn_module, torch_module):
    """Copy a torch module's parameters and buffers into an nnlib module (by state_dict keys)."""
    nn_module.load_state_dict({k: to_numpy(v) for k, v in torch_module.state_dict().items()})
    return nn_module


def compare_with_torch(nn_module, torch_module, x, seed=0, tol=TOL):
    """Run ``nn_module`` and ``torch_module`` (same architecture, same parameter names) in float64
    on input ``x`` and compare output, dL/dx and every dL/dparameter; returns the nnlib output.

    Both modules are converted to float64 and the torch weights are copied into nnlib first, so
    any difference comes from the computation. Call ``.eval()`` on both beforehand to compare
    evaluation mode.
    """
    torch_module.double()
    nn_module.double()
    load_from_torch(nn_module, torch_module)
    nn_names = [name for name, _ in nn_module.named_parameters()]
    torch_names = [name for name, _ in torch_module.named_parameters()]
    assert nn_names == torch_names, f"parameter names differ: nnlib {nn_names}, torch {torch_names}"

    x = np.asarray(x, dtype=np.float64)
    x_t = to_torch(x, requires_grad=True)
    y_t = torch_module(x_t)
    # a stream unlike default_rng(seed), which may well have drawn x: upstream == x would make a
    # batch-norm input gradient ~0 and the comparison meaningless
    upstream = np.random.default_rng((seed, 1)).standard_normal(tuple(y_t.shape))
    y_t.backward(to_torch(upstream))

    nn_module.zero_grad()
    y = nn_module(x)
    assert_close(y, to_numpy(y_t), f"{type(nn_module).__name__} output", tol)
    assert y.dtype == np.float64, f"output dtype {y.dtype} for a float64 input"
    dx = nn_module.backward(upstream)
    assert_close(dx, to_numpy(x_t.grad), f"{type(nn_module).__name__} gradient w.r.t. the input", tol)
    torch_params = dict(torch_module.named_parameters())
    for name, p in nn_module.named_parameters():
        assert_close(p.grad, to_numpy(torch_params[name].grad),
                     f"{type(nn_module).__name__} gradient w.r.t. '{name}'", tol)
    return y
