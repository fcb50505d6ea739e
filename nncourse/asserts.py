"""Assertions for exercise test cells that tell the learner what went wrong.

A bare ``AssertionError`` teaches nothing. These helpers say which quantity is wrong, show the
expected and the actual value, and where arrays differ, the first place they differ::

    assert_close(neuron_output(x, w, b), 0.5150, "neuron_output(x, w, b)", atol=1e-4)

Each raises ``AssertionError`` with a message that nbgrader's feedback and ``nncourse check`` show
as the reason a test failed.
"""
import numpy as np

__all__ = ["assert_close", "assert_equal", "assert_shape", "assert_true"]


def _fmt(value):
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    with np.printoptions(precision=6, suppress=True, threshold=40, edgeitems=4):
        return np.array2string(arr, prefix=" " * 12)


def _as_array(actual, what):
    if actual is None:
        raise AssertionError(f"{what} returned None: did you forget a `return`?")
    try:
        return np.asarray(actual, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{what} should be a number or an array of numbers, got "
                             f"{type(actual).__name__}: {actual!r}") from exc


def assert_shape(actual, shape, what):
    """The array ``actual`` must have exactly ``shape``."""
    got = np.shape(actual)
    if tuple(got) != tuple(shape):
        raise AssertionError(f"{what} has the wrong shape.\n  expected shape: {tuple(shape)}\n"
                             f"  got shape:      {tuple(got)}")


def assert_close(actual, expected, what, rtol=1e-6, atol=1e-8):
    """``actual`` must equal ``expected`` within ``atol + rtol * |expected|``, elementwise."""
    a = _as_array(actual, what)
    e = np.asarray(expected, dtype=float)
    assert_shape(a, e.shape, what)
    if not np.all(np.isfinite(a)) and np.all(np.isfinite(e)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise AssertionError(f"{what} contains {a[bad]} at index {bad}: expected finite values "
                             f"(overflow, or a division by zero?)\n  expected: {_fmt(e)}\n"
                             f"  got:      {_fmt(a)}")
    ok = np.isclose(a, e, rtol=rtol, atol=atol)
    if not np.all(ok):
        msg = f"{what} is wrong.\n  expected: {_fmt(e)}\n  got:      {_fmt(a)}"
        if e.ndim:
            where = tuple(int(i) for i in np.argwhere(~ok)[0])
            msg += f"\n  first difference at index {where}: expected {e[where]:.6g}, got {a[where]:.6g}"
        raise AssertionError(msg)


def assert_equal(actual, expected, what):
    """Exact equality, for integers, labels, lists and shapes."""
    a, e = actual, expected
    # a list and a tuple with the same items are the same answer
    if isinstance(a, (list, tuple)) and isinstance(e, (list, tuple)):
        a, e = list(a), list(e)
    if isinstance(e, np.ndarray) or isinstance(a, np.ndarray):
        a_arr, e_arr = np.asarray(a), np.asarray(e)
        assert_shape(a_arr, e_arr.shape, what)
        equal = bool(np.all(a_arr == e_arr))
    else:
        equal = a == e
    if not equal:
        show = _fmt if isinstance(e, np.ndarray) else repr
        raise AssertionError(f"{what} is wrong.\n  expected: {show(e)}\n  got:      {show(a)}")


def assert_true(condition, message):
    """A plain check with a message that explains the rule being tested."""
    if not condition:
        raise AssertionError(message)
