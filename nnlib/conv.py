"""Convolution, max pooling, batch norm and the residual block on NCHW images; im2col inside.

A 2-D convolution slides a ``(C, kh, kw)`` filter over the image and takes a dot product at every
position. ``im2col`` copies every patch the filter sees into one column of a matrix, so the whole
convolution becomes one matrix product::

    cols = im2col(x)              # (N, C*kh*kw, OH*OW)   one column per output position
    out  = weight_matrix @ cols   # (O, C*kh*kw) @ (N, C*kh*kw, OH*OW) -> (N, O, OH*OW)

The backward pass is the same product read backwards, and ``col2im`` -- the adjoint of
``im2col`` -- adds every column's gradient back onto the pixels it was copied from.
"""
import numpy as np

from .init import get_rng
from .layers import BatchNorm1d, ReLU
from .module import (Module, Parameter, as_float_array, check_shape, describe,
                     in_dtype)


def _pair(value, name):
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    pair = tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length along one axis: ``floor((size + 2*padding - kernel_size) / stride) + 1``.

    >>> conv_output_size(28, 3, stride=1, padding=1)
    28
    >>> conv_output_size(7, 2, stride=2)      # the last row does not fit a window: dropped
    3
    """
    return (size + 2 * padding - kernel_size) // stride + 1


def _output_hw(x_shape, kernel_size, stride, padding=(0, 0)):
    """(OH, OW) of a window of ``kernel_size`` moved by ``stride`` over an (N, C, H, W) input."""
    return tuple(conv_output_size(size, k, s, p)
                 for size, k, s, p in zip(x_shape[2:], kernel_size, stride, padding))


def _windows(x, i, j, stride, out_hw):
    """View of ``x[..., i + stride_h*r, j + stride_w*c]`` for r < OH, c < OW: the pixel every window
    sees at kernel offset ``(i, j)``. Shape ``x.shape[:-2] + (OH, OW)``."""
    (sh, sw), (oh, ow) = stride, out_hw
    return x[..., i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]


def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold every ``(C, kh, kw)`` patch of ``x`` into a column.

    x:       (N, C, H, W)
    returns: cols (N, C*kh*kw, OH*OW) and (OH, OW), where
             ``cols[n, (c*kh + i)*kw + j, r*OW + s] = x_padded[n, c, r*sh + i, s*sw + j]``.

    The row order ``(c, i, j)`` is the order of ``weight.reshape(O, C*kh*kw)``, so a convolution is
    ``weight.reshape(O, -1) @ cols``. One loop over the kh*kw kernel offsets; each step copies the
    pixel that offset sees in *all* windows of the batch at once.
    """
    (kh, kw), stride, (ph, pw) = _pair(kernel_size, "kernel_size"), _pair(stride, "stride"), \
        _pair(padding, "padding")
    n, c, h, w = x.shape
    out_hw = _output_hw(x.shape, (kh, kw), stride, (ph, pw))
    x_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    cols = np.empty((n, c, kh, kw) + out_hw, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = _windows(x_padded, i, j, stride, out_hw)
    return cols.reshape(n, c * kh * kw, out_hw[0] * out_hw[1]), out_hw


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Adjoint of ``im2col``: add each column entry back onto the input pixel it came from.

    cols:    (N, C*kh*kw, OH*OW), e.g. dL/d(cols)
    returns: (N, C, H, W), e.g. dL/dx. A pixel covered by several windows receives the sum of
             their gradients; padding is cut off at the end.
    """
    (kh, kw), stride, (ph, pw) = _pair(kernel_size, "kernel_size"), _pair(stride, "stride"), \
        _pair(padding, "padding")
    n, c, h, w = x_shape
    out_hw = _output_hw(x_shape, (kh, kw), stride, (ph, pw))
    cols = cols.reshape((n, c, kh, kw) + out_hw)
    x_padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            _windows(x_padded, i, j, stride, out_hw)[...] += cols[:, :, i, j]
    return x_padded[:, :, ph:ph + h, pw:pw + w]


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in PyTorch) of NCHW images.

    out[n, o] = bias[o] + sum_c sum_{i,j} weight[o, c, i, j] * x_padded[n, c, r*sh + i, s*sw + j]

    x (N, C_in, H, W) -> out (N, C_out, OH, OW), OH = conv_output_size(H, kh, sh, ph).
    Parameters: weight (C_out, C_in, kh, kw), bias (C_out,), both U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    with fan_in = C_in*kh*kw (PyTorch's kaiming_uniform with a = sqrt(5)), in ``dtype``. The layer
    computes in the dtype of its input, as ``Linear`` does.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=np.float32, rng=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        rng = get_rng(rng)
        bound = 1.0 / np.sqrt(in_channels * self.kernel_size[0] * self.kernel_size[1])
        shape = (out_channels, in_channels) + self.kernel_size
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype(dtype))
        self.bias = (Parameter(rng.uniform(-bound, bound, out_channels).astype(dtype)) if bias
                     else None)

    def forward(self, x):
        x = as_float_array(x, self.weight.data.dtype)
        check_shape(self, x, ("batch", self.in_channels, "H", "W"))
        for size, k, p in zip(x.shape[2:], self.kernel_size, self.padding):
            if size + 2 * p < k:
                raise ValueError(f"{describe(self)}: input of shape {x.shape} padded by "
                                 f"{self.padding} is smaller than the kernel {self.kernel_size}")
        cols, (oh, ow) = im2col(x, self.kernel_size, self.stride, self.padding)
        w = in_dtype(self.weight, x.dtype).reshape(self.out_channels, -1)
        out = w @ cols                                              # (N, C_out, OH*OW)
        if self.bias is not None:
            out += in_dtype(self.bias, x.dtype)[:, None]
        self._cache = (x.shape, cols, w)
        return out.reshape(x.shape[0], self.out_channels, oh, ow)

    def backward(self, grad_output):
        """dL/d(out) (N, C_out, OH, OW) -> dL/dx (N, C_in, H, W); adds dL/dweight, dL/dbias."""
        x_shape, cols, w = self.saved()
        grad_output = np.asarray(grad_output)
        n, _, length = cols.shape
        expected = (n, self.out_channels) + _output_hw(x_shape, self.kernel_size, self.stride,
                                                        self.padding)
        check_shape(self, grad_output, expected, "grad_output")
        g = grad_output.reshape(n, self.out_channels, length)       # (N, C_out, OH*OW)
        # out = w @ cols + bias  =>  dw = sum_n g[n] @ cols[n].T,  dcols = w.T @ g,  dbias = sum g
        self.weight.grad += np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0) \
            .reshape(self.weight.shape)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=(0, 2))
        return col2im(w.T @ g, x_shape, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """Max over each ``kh x kw`` window, moved by ``stride`` (default: the kernel size).

    out[n, c, r, s] = max_{i,j} x[n, c, r*sh + i, s*sw + j]
    x (N, C, H, W) -> out (N, C, OH, OW), OH = floor((H - kh) / sh) + 1 (rows that do not fill a
    window are dropped, PyTorch's floor mode). The backward pass sends each output's gradient to the
    position of its window's maximum; on ties, to the first maximum in row-major order, as PyTorch
    does on the CPU. (A NaN in a window makes its output NaN, as in PyTorch, but its gradient is
    dropped: NaN equals nothing.)
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")

    def forward(self, x):
        x = as_float_array(x)
        check_shape(self, x, ("batch", "C", "H", "W"))
        if x.shape[2] < self.kernel_size[0] or x.shape[3] < self.kernel_size[1]:
            raise ValueError(f"{describe(self)}: input of shape {x.shape} is smaller than the "
                             f"kernel {self.kernel_size}")
        out_hw = _output_hw(x.shape, self.kernel_size, self.stride)
        # one loop over kernel offsets: compare the pixel each offset sees in every window at once
        out = _windows(x, 0, 0, self.stride, out_hw).copy()
        for i in range(self.kernel_size[0]):
            for j in range(self.kernel_size[1]):
                np.maximum(out, _windows(x, i, j, self.stride, out_hw), out=out)
        self._cache = (x, out)
        return out

    def backward(self, grad_output):
        """dL/d(out) (N, C, OH, OW) -> dL/dx (N, C, H, W): each gradient goes to its argmax."""
        x, out = self.saved()
        check_shape(self, grad_output, out.shape, "grad_output")
        grad_x = np.zeros_like(x, dtype=np.result_type(x, grad_output))
        found = np.zeros(out.shape, dtype=bool)       # window's first maximum already seen?
        for i in range(self.kernel_size[0]):
            for j in range(self.kernel_size[1]):
                is_max = _windows(x, i, j, self.stride, out.shape[2:]) == out
                is_max &= ~found
                found |= is_max
                _windows(grad_x, i, j, self.stride, out.shape[2:])[...] += grad_output * is_max
        return grad_x

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of image channels: x (N, C, H, W), statistics per channel c over the
    N*H*W values of that channel (the batch and every position), as PyTorch's ``nn.BatchNorm2d``.

    It is ``BatchNorm1d`` applied to the channels laid out as rows: (N, C, H, W) -> (N*H*W, C),
    so the formulas, the running statistics (momentum, unbiased variance with n = N*H*W,
    ``num_batches_tracked``) and train/eval behave exactly as there.
    """

    expected_input = ("batch", "C", "H", "W")

    def _to_rows(self, x):
        return np.moveaxis(x, 1, -1).reshape(-1, self.num_features)    # (N*H*W, C)

    def _from_rows(self, rows, shape):
        n, c, h, w = shape
        return np.moveaxis(rows.reshape(n, h, w, c), -1, 1)


class ResidualBlock(Module):
    """The basic block of a ResNet (He et al. 2015), same number of channels in and out:

        y = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)       convs 3x3, padding 1, no bias

    The identity path ``+ x`` lets the gradient reach x unchanged: dL/dx = dL/ds + the residual
    branch's backward of dL/ds, with s the sum before the last ReLU. Submodule names as
    torchvision's ``BasicBlock``: conv1, bn1, relu, conv2, bn2. x, y (N, C, H, W).
    """

    def __init__(self, channels, dtype=np.float32, rng=None):
        super().__init__()
        rng = get_rng(rng)
        self.channels = channels
        self.conv1 = Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype, rng=rng)
        self.bn1 = BatchNorm2d(channels, dtype=dtype)
        self.relu = ReLU()
        self.conv2 = Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype, rng=rng)
        self.bn2 = BatchNorm2d(channels, dtype=dtype)
        self.relu_out = ReLU()

    def forward(self, x):
        x = as_float_array(x, self.conv1.weight.data.dtype)
        check_shape(self, x, ("batch", self.channels, "H", "W"))
        branch = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        self._cache = x.shape
        return self.relu_out(branch + x)

    def backward(self, grad_output):
        self.saved()
        grad_sum = self.relu_out.backward(grad_output)
        grad_branch = self.conv1.backward(self.bn1.backward(self.relu.backward(
            self.conv2.backward(self.bn2.backward(grad_sum)))))
        return grad_sum + grad_branch                  # identity path + residual branch

    def extra_repr(self):
        return f"{self.channels}"
