"""The tripwire against tests that were made to pass: runs inside the grading kernel.

A test cell passes when it raises nothing. A submission can make every test "pass" without
solving anything by changing what the tests rely on: ``np.testing.assert_allclose = lambda *a,
**k: None``, ``np.allclose = ...``, a helper the notebook defines, ``builtins.AssertionError``,
or IPython's own machinery (``set_custom_exc``, an AST transformer that strips ``assert``).

Before any student code runs, the kernel imports the modules the tests use and fingerprints
every function, class and module they expose (its identity and, for functions, the identity of
its code object and defaults): numpy, nnlib and this package with all their submodules, any
other module exactly as the test cells import it (``torch``, not its hundreds of submodules),
the builtins, the exception and display hooks, and IPython's transformers and run/traceback
methods. Code from the instructor (read-only and test cells) may
change these; the grader accepts its changes. Before each test cell the grader asks for the
fingerprints again: if anything the student's code ran has replaced, the test cell earns no
points, with a message naming what was replaced, and the submission's status is ``tampered``.

What this is and is not. It catches a learner rebinding, wrapping or re-coding what the tests
call, the way one makes tests pass by hand. It runs in the same process as the student's code,
so it is not a wall against someone who sets out to defeat the guard itself (by rewriting this
module's state through ``gc`` or ``ctypes``). The wall is the sandbox: whatever happens inside
the kernel, it cannot reach the gradebook, the solutions or the grader's own process, which
computes the scores from the outputs alone.
"""
import builtins
import importlib
import sys
import types

# packages protected with every submodule; others (torch, ...) only as the tests name them
ALWAYS_PROTECTED = ("builtins", "math", "numpy", "nnlib", "nncourse")
SHELL_METHODS = ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
                 "_showtraceback", "showsyntaxerror", "get_exception_only", "excepthook",
                 "transform_cell", "transform_ast", "should_run_async", "ex", "ev")

_roots = set(ALWAYS_PROTECTED)
_named = set()
_shell = None
_baseline = {}
_mark = {}


def preload(modules=()):
    """Import the protected modules now, before any student code."""
    _named.update(modules)
    for name in sorted(set(ALWAYS_PROTECTED) | set(modules)):
        try:
            importlib.import_module(name)
        except Exception:  # a module the tests import may be missing: the test will say so
            pass


def _fp(obj):
    # by type only: never call a protected object's own __getattr__
    if isinstance(obj, types.MethodType):  # made anew on each access: look at its function
        func = obj.__func__
        return ("method", id(func), id(getattr(func, "__code__", None))
                if isinstance(func, types.FunctionType) else 0)
    if isinstance(obj, types.FunctionType):
        return (id(obj), id(obj.__code__), id(obj.__defaults__), id(obj.__kwdefaults__))
    return (id(obj),)


def _installed_code(callback):
    """A callback written in an installed library (matplotlib's pyplot registers one on import),
    not in the notebook: registering it changes nothing the tests rely on."""
    func = getattr(callback, "__func__", callback)
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    return code.co_filename.startswith(tuple({sys.prefix, sys.base_prefix}))


def _watched(obj):
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
                            type, types.MethodType, staticmethod, classmethod, property))


def _protected_module(name):
    return name.split(".")[0] in _roots or name in _named


def snapshot():
    """Fingerprints of everything the tests rely on, keyed by a readable name."""
    out = {}
    for name, module in list(sys.modules.items()):
        if module is None or not _protected_module(name):
            continue
        out[f"sys.modules[{name!r}]"] = (id(module),)
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, obj in items:
            if not isinstance(attr, str):
                continue
            if not _watched(obj):
                continue
            out[f"{name}.{attr}"] = _fp(obj)
            if isinstance(obj, type) and getattr(obj, "__module__", "") == name:
                for key, member in list(vars(obj).items()):
                    if _watched(member):
                        out[f"{name}.{attr}.{key}"] = _fp(member)
    for hook in ("excepthook", "displayhook"):
        out[f"sys.{hook}"] = _fp(getattr(sys, hook))
    out["sys.gettrace()"] = (id(sys.gettrace()),)
    out["sys.getprofile()"] = (id(sys.getprofile()),)
    out["sys.meta_path"] = tuple(id(f) for f in sys.meta_path)
    out["builtins.__import__"] = _fp(builtins.__import__)
    if _shell is not None:
        sh = _shell
        out["shell.custom_exceptions"] = tuple(id(e) for e in sh.custom_exceptions)
        out["shell.CustomTB"] = _fp(getattr(sh, "CustomTB", None))
        out["shell.ast_transformers"] = tuple(id(t) for t in sh.ast_transformers)
        out["shell.input_transformers_post"] = tuple(id(t) for t in sh.input_transformers_post)
        tm = sh.input_transformer_manager
        for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
            out[f"shell.input_transformer_manager.{attr}"] = tuple(
                id(t) for t in getattr(tm, attr, ()))
        for event, callbacks in sh.events.callbacks.items():
            out[f"shell.events[{event!r}]"] = tuple(_fp(c) for c in callbacks
                                                   if not _installed_code(c))
        for method in SHELL_METHODS:
            out[f"shell.{method}"] = _fp(getattr(sh, method, None))
        for key, obj in list(sh.user_ns.items()):
            if not key.startswith("_") and _watched(obj):
                out[f"{key}"] = _fp(obj)
    return out


def install(shell):
    """Take the baseline once the shell exists, before the first cell."""
    global _shell, _baseline
    _shell = shell
    _baseline = {k: v for k, v in snapshot().items() if not _is_user_name(k)}


def _is_user_name(key):
    return "." not in key and "[" not in key and "(" not in key


def mark():
    """Before an instructor cell: remember the state, to accept what that cell changes."""
    global _mark
    _mark = snapshot()


def accept():
    """After an instructor cell: what it defined or changed becomes part of the baseline."""
    now = snapshot()
    for key, value in now.items():
        if _mark.get(key) != value and (key in _baseline or _is_user_name(key)):
            _baseline[key] = value
    return len(_baseline)


def audit(limit=8):
    """The names in the baseline that something other than the instructor's code replaced.

    Also marks the state, as ``mark`` does: a test cell comes next.
    """
    global _mark
    now = _mark = snapshot()
    changed = sorted(k for k, v in _baseline.items() if now.get(k, v) != v or k not in now)
    return changed[:limit]
