"""Gradient checking: compare a backward pass with finite differences.

A derivative is a limit, df/dx = lim (f(x + h) - f(x - h)) / 2h, so for a small h the centered
difference approximates it with an error of order h^2 (about 1e-10 for h = 1e-5). In float64 a
correct backward pass agrees with it to a relative error of about 1e-8 or better; a bug (a missing
term, a wrong transpose, a forgotten sum over the batch) gives errors near 1.
"""
import numpy as np


class GradientCheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numerical one."""


def numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of a scalar function: for every entry i of ``x``,

        df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)

    ``x`` must be a float64 array; it is perturbed in place (and restored), so ``f`` may either
    use its argument or read ``x`` elsewhere (a layer's weight). Returns an array shaped like x.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError(f"numerical_gradient needs a float64 numpy array (it perturbs it in place by "
                        f"h={h}, which float32 cannot resolve), got {type(x).__name__} of dtype "
                        f"{getattr(x, 'dtype', None)}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b):
    """max |a - b| / max(1e-8, max(|a| + |b|)): 0 for equal arrays, ~1 for unrelated ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))


def gradcheck(module, x, h=1e-5, seed=0, tol=1e-6, raise_on_failure=True):
    """Check ``module.backward`` against numerical gradients, for the input and every parameter.

    The scalar checked is L = sum(module(x) * G) with a fixed random upstream gradient G
    (so dL/d output = G, which exercises every output entry). The module must be deterministic
    (dropout in eval mode) and in float64 (``module.double()``); ``x`` is copied to float64.

    Returns ``{"input": error, "<parameter name>": error, ...}`` with relative errors; raises
    ``GradientCheckError`` naming every gradient whose error exceeds ``tol`` unless
    ``raise_on_failure`` is False.
    """
    x = np.array(x, dtype=np.float64)
    named = list(module.named_parameters())
    for name, p in named:
        if p.data.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 parameters, but '{name}' is {p.data.dtype}; "
                            f"call module.double() first")
    # entropy (seed, 1), not seed: a stream unlike default_rng(seed), which may have drawn x itself
    # (with upstream == x, a batch-norm input gradient is ~0 and the check would test roundoff)
    upstream = np.random.default_rng((seed, 1)).standard_normal(np.shape(module(x)))

    def loss(_):
        return np.sum(module(x) * upstream)

    module.zero_grad()
    module(x)
    analytic = {"input": module.backward(upstream)}
    analytic.update((name, p.grad.copy()) for name, p in named)
    numeric = {"input": numerical_gradient(loss, x, h)}
    numeric.update((name, numerical_gradient(loss, p.data, h)) for name, p in named)

    errors = {name: relative_error(analytic[name], numeric[name]) for name in analytic}
    failed = [f"  {name}: relative error {err:.3g} (analytic vs numerical)"
              for name, err in errors.items() if not err <= tol]
    if failed and raise_on_failure:
        raise GradientCheckError(f"gradcheck of {type(module).__name__}: gradients above tolerance "
                                 f"{tol:g}:\n" + "\n".join(failed))
    return errors
