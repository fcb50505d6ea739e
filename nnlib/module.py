"""The module protocol every nnlib layer follows.

A model is a tree of ``Module`` objects. Each one

* computes ``forward(x)`` and stores what its backward pass will need in ``self._cache`` (one
  name in every layer, as CS231n's ``cache``); ``backward`` reads it with ``self.saved()``;
* computes ``backward(grad_output) -> grad_input``: given dL/d(output) it returns dL/d(input)
  and *adds* dL/d(parameter) to each parameter's ``.grad`` (the chain rule, one layer at a time);
* lists its trainable tensors with ``parameters()``, as ``Parameter`` objects holding ``.data``
  and ``.grad`` -- the same split PyTorch makes between a tensor and its gradient.

State that is not trained but belongs to the model (batch norm's running statistics) is declared
with ``register_buffer(name, array)``, as in PyTorch: it goes into ``state_dict``, is cast by
``.double()`` and restored by ``load_state_dict``, and ``self.name = new_array`` keeps it registered.

Names follow PyTorch: ``zero_grad``, ``train``/``eval``, ``state_dict``/``load_state_dict``,
``named_parameters``. A ``state_dict`` uses PyTorch's keys (``"0.weight"``, ``"fc.bias"``), so
weights move between the two libraries with ``{k: v.numpy() for k, v in sd.items()}``.
"""
from collections import OrderedDict

import numpy as np


def describe(module):
    """How a layer names itself in error messages, e.g. ``Linear(in_features=4, out_features=3)``."""
    return f"{type(module).__name__}({module.extra_repr()})"


def check_shape(module, x, expected, what="input"):
    """Raise a ``ValueError`` unless ``x`` has the shape a layer expects.

    ``expected`` is a tuple with one entry per axis: an ``int`` is a size that must match exactly,
    a ``str`` names a size that may be anything (``"batch"``). For example
    ``check_shape(self, x, ("batch", self.in_features))`` raises
    ``Linear(in_features=4, out_features=3): expected input of shape (batch, 4), got (2, 5)``.
    """
    shape = np.shape(x)
    if len(shape) != len(expected) or any(
            isinstance(e, int) and e != s for e, s in zip(expected, shape)):
        wanted = "(" + ", ".join(str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        raise ValueError(f"{describe(module)}: expected {what} of shape {wanted}, got {tuple(shape)}")


def as_float_array(x, dtype=np.float32):
    """``x`` as a numpy array without copying; float arrays keep their dtype (float32 or float64),
    anything else (ints, lists of python numbers, bools) becomes ``dtype``."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(dtype)


def in_dtype(param, dtype):
    """The parameter's array in ``dtype``: itself when it already is (no copy). Layers compute in
    their input's dtype and use this to read their weights in it."""
    return param.data if param.data.dtype == dtype else param.data.astype(dtype)


class Parameter:
    """A trainable array and the gradient of the loss with respect to it (same shape)."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self):
        return self.data.shape

    def zero_grad(self):
        self.grad = np.zeros_like(self.data)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: subclasses set ``Parameter`` and ``Module`` attributes in ``__init__`` and
    implement ``forward`` and ``backward``."""

    def __init__(self):
        # registration order is kept, so state_dict keys come out in PyTorch's order
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if name in self._buffers:                 # a new array for a buffer stays a buffer
            value = np.asarray(value)
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Declare ``array`` as state of this module that is not a parameter (no gradient, not
        trained) but is saved: it appears in ``state_dict`` under ``name``, after the parameters,
        as PyTorch's ``register_buffer`` does. Read and assign it as ``self.name``."""
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}.register_buffer: '{name}' is already a "
                           f"parameter or a submodule")
        self._buffers[name] = None
        setattr(self, name, array)

    # --- computation --------------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def saved(self):
        """Return ``self._cache``, what ``forward`` stored for the backward pass, or raise a
        ``RuntimeError`` when ``forward`` has not run yet. Use: ``x, y = self.saved()``."""
        if self._cache is None:
            raise RuntimeError(f"{describe(self)}: backward called before forward; call the module "
                               f"on an input first, the backward pass needs what forward saved")
        return self._cache

    # --- parameters ---------------------------------------------------------------------
    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, children after own parameters, as PyTorch does."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for child_name, child in self._modules.items():
            yield from child.named_parameters(prefix + child_name + ".")

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def children(self):
        yield from self._modules.values()

    def modules(self):
        yield self
        for child in self._modules.values():
            yield from child.modules()

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # --- dtype ----------------------------------------------------------------------------
    def to(self, dtype):
        """Cast every parameter (and its gradient) and every floating-point buffer to ``dtype``,
        in place, like PyTorch's ``module.to(torch.float64)``. Returns the module."""
        dtype = np.dtype(dtype)
        for m in self.modules():
            for p in m._parameters.values():
                p.data = p.data.astype(dtype, copy=False)
                p.grad = p.grad.astype(dtype, copy=False)
            for name, value in m._buffers.items():
                if value.dtype.kind == "f":
                    setattr(m, name, value.astype(dtype, copy=False))
        return self

    def double(self):
        """Parameters and buffers in float64 (for gradient checks), like ``torch.nn.Module.double``."""
        return self.to(np.float64)

    def float(self):
        """Parameters and buffers in float32, like ``torch.nn.Module.float``."""
        return self.to(np.float32)

    # --- modes --------------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode: dropout drops, batch norm uses batch statistics."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: dropout is the identity, batch norm uses its running statistics."""
        return self.train(False)

    # --- saving and loading -------------------------------------------------------------
    def state_dict(self, prefix=""):
        """An ordered ``{name: array copy}`` of parameters and buffers, with PyTorch's keys."""
        state = OrderedDict()
        for name, p in self._parameters.items():
            state[prefix + name] = p.data.copy()
        for name, value in self._buffers.items():
            state[prefix + name] = value.copy()
        for child_name, child in self._modules.items():
            state.update(child.state_dict(prefix + child_name + "."))
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into this model. Accepts numpy arrays, or anything ``np.asarray`` takes
        (a PyTorch tensor's ``.numpy()``, nested lists). Shapes must match exactly."""
        own = self.state_dict()
        given = {k: np.asarray(v) for k, v in state_dict.items()}
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for key, value in given.items():
            if key in own:
                if own[key].shape != value.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: '{key}' has shape "
                                     f"{own[key].shape} in the model but {value.shape} in the "
                                     f"state_dict")
                self._set_state(key.split("."), value)
        return self

    def _set_state(self, path, value):
        head = path[0]
        if len(path) > 1:
            self._modules[head]._set_state(path[1:], value)
        elif head in self._parameters:
            p = self._parameters[head]
            p.data = value.astype(p.data.dtype, copy=True)
            p.grad = np.zeros_like(p.data)
        else:
            setattr(self, head, np.array(value, dtype=self._buffers[head].dtype))

    # --- display ------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._modules:
            return head + ")"
        lines = [head]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + "\n)"
