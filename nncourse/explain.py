"""Say where in the learner's own code an error came from.

When a test calls a learner's function and numpy raises deep inside it, the bare message
(``matmul: Input operand 1 has a mismatch ...``) does not say which call failed or on what. This
module adds, below the error's own message, the learner's function the test called with the
shapes of its arguments, and the learner's own line that raised::

    ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0 ...
      in your neuron_output(x=array of shape (7, 3), w=array of shape (4,), b=0.31)
      at your line 13: z = x @ w + b

and trims the traceback to the learner's frames: the test's own code (hidden tests included)
and numpy's internals are never shown. "The learner's code" is code from notebook cells other
than the one running, which is where a test cell finds the functions it checks.

``install(shell)`` makes IPython report errors this way; ``explain(exc)`` gives the added lines
for an error caught elsewhere (the hidden tests run by ``nncourse.selfcheck``).
"""
import inspect
import linecache
import numbers

__all__ = ["explain", "install", "learner_frames", "message"]

_installed = {}   # the handler install() gave IPython, to install it once


def _is_cell(filename, shell):
    """Whether ``filename`` names code compiled from a notebook cell."""
    if shell is not None and filename in getattr(shell.compile, "_filename_map", {}):
        return True
    return filename.startswith("<ipython-input-") or "/ipykernel_" in filename


def learner_frames(tb, shell=None, skip_first=True):
    """The (frame, line number) pairs of ``tb`` that run code from other notebook cells.

    With ``skip_first``, the file of the traceback's first frame (the cell being run, whose code
    is the test's) is not the learner's.
    """
    entries = []
    while tb is not None:
        entries.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    cells = [f.f_code.co_filename for f, _ in entries if _is_cell(f.f_code.co_filename, shell)]
    running = cells[0] if skip_first and cells else None
    return [(f, n) for f, n in entries
            if f.f_code.co_filename != running and f.f_code.co_filename in cells]


def describe(value):
    """A value as a message shows an argument: arrays by shape, numbers by value."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) or type(shape).__name__ == "Size":
        kind = "tensor" if type(value).__module__.startswith("torch") else "array"
        return f"{kind} of shape {tuple(shape)}"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, numbers.Number):
        return f"{value:.4g}" if isinstance(value, float) else repr(value)
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    return f"a {type(value).__name__}"


def _call(frame):
    info = inspect.getargvalues(frame)
    args = [f"{name}={describe(info.locals[name])}" for name in info.args if name in info.locals]
    if info.varargs and info.varargs in info.locals:
        args += [describe(v) for v in info.locals[info.varargs]]
    return f"{frame.f_code.co_name}({', '.join(args)})"


def explain(exc, shell=None, skip_first=True):
    """The lines that say where in the learner's code ``exc`` was raised, or None when it was
    not raised there (an error in the test itself, or a failed assertion)."""
    if isinstance(exc, AssertionError):
        return None
    frames = learner_frames(exc.__traceback__, shell, skip_first)
    if not frames:
        return None
    outer, (inner, lineno) = frames[0][0], frames[-1]
    line = linecache.getline(inner.f_code.co_filename, lineno).strip()
    where = "your line" if inner is outer else f"your line in {inner.f_code.co_name},"
    if outer.f_code.co_name == "<module>":
        called = "in a cell of yours"
    else:
        called = f"in your {_call(outer)}"
    return f"  {called}\n  at {where} {lineno}: {line}"


def message(exc, shell=None, skip_first=True):
    """The exception's own message, with ``explain``'s lines below it when there are any."""
    text = str(exc)
    extra = explain(exc, shell, skip_first)
    return f"{text}\n{extra}" if extra else text


def _trimmed_traceback(exc, shell):
    lines = ["Traceback (only the lines of your code):"]
    for frame, lineno in learner_frames(exc.__traceback__, shell):
        code = linecache.getline(frame.f_code.co_filename, lineno).strip()
        lines.append(f"  in {frame.f_code.co_name}, line {lineno}: {code}")
    return lines


def _report(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for errors: the learner's frames and the call, or IPython's own report."""
    if value.__traceback__ is None:
        value = value.with_traceback(tb)
    extra = explain(value, shell)
    if extra is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    evalue = f"{value}\n{extra}"
    stb = _trimmed_traceback(value, shell) + [f"{etype.__name__}: {evalue}"]
    shell._showtraceback(etype, evalue, stb)
    return None


def install(shell):
    """Make ``shell`` report errors raised in the learner's code with ``explain``'s lines."""
    if shell is None or getattr(shell.CustomTB, "__func__", None) is _installed.get("wrapper"):
        return
    shell.set_custom_exc((Exception,), _report)
    _installed["wrapper"] = shell.CustomTB.__func__

