"""Wrong submissions for exercise 7, the mistakes learners really make.

Each entry replaces some solution cells (by nbgrader grade id) of an otherwise correct
submission; every other cell holds the instructor's solution. ``expected`` gives the points each
graded test cell must award: the wrong cell loses its own points and those of later tasks that
call it, and nothing else.
"""

SUBMISSIONS = {
    "output_size_without_plus_one": {
        "why": "the output size is (n + 2p - k) // s, the off-by-one that forgets the first position",
        "cells": {
            "conv_output_size": '''
def conv_output_size(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) // stride
''',
        },
        # im2col, the convolution and max pooling size their outputs with it; the loop version does not
        "expected": {"test_conv_output_size": 0, "test_conv2d_single": 2, "test_im2col": 0,
                     "test_conv2d_forward": 0, "test_conv2d_backward": 0,
                     "test_maxpool_forward": 0, "test_maxpool_backward": 0},
        "message": "conv_output_size(5, kernel_size=3) is wrong",
    },
    "output_size_forgets_padding": {
        "why": "the output size ignores the padding: (n - k) // s + 1",
        "cells": {
            "conv_output_size": '''
def conv_output_size(n, kernel_size, stride=1, padding=0):
    return (n - kernel_size) // stride + 1
''',
        },
        # pooling has no padding, so only the padded convolutions break
        "expected": {"test_conv_output_size": 0, "test_conv2d_single": 2, "test_im2col": 0,
                     "test_conv2d_forward": 0, "test_conv2d_backward": 0,
                     "test_maxpool_forward": 1, "test_maxpool_backward": 2},
        "message": "conv_output_size(5, kernel_size=3, padding=1) is wrong",
    },
    "kernel_flipped": {
        "why": "the loop convolution flips the kernel (true convolution instead of cross-correlation)",
        "cells": {
            "conv2d_single": '''
def conv2d_single(x, k):
    k = np.asarray(k, dtype=float)[::-1, ::-1]
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for r in range(out.shape[0]):
        for s in range(out.shape[1]):
            out[r, s] = np.sum(x[r:r + kh, s:s + kw] * k)
    return out
''',
        },
        "expected": {"test_conv_output_size": 1, "test_conv2d_single": 0, "test_im2col": 2,
                     "test_conv2d_forward": 2, "test_conv2d_backward": 3,
                     "test_maxpool_forward": 1, "test_maxpool_backward": 2},
        "message": "conv2d_single flips the kernel",
    },
    "bias_gradient_not_summed_over_batch": {
        "why": "dbias sums over the output positions but not over the batch: shape (N, C_out)",
        "cells": {
            "conv2d_backward": '''
def conv2d_backward(dout, x, weight, stride=1, padding=0):
    n, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    oh, ow = dout.shape[2:]
    cols = im2col(x, kh, kw, stride, padding)
    g = dout.reshape(n, c_out, oh * ow)
    dbias = dout.sum(axis=(2, 3))
    dweight = sum(g[i] @ cols[i].T for i in range(n)).reshape(weight.shape)
    dcols = (weight.reshape(c_out, -1).T @ g).reshape(n, c, kh, kw, oh, ow)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride] += dcols[:, :, i, j]
    return dxp[:, :, padding:padding + h, padding:padding + w], dweight, dbias
''',
        },
        "expected": {"test_conv_output_size": 1, "test_conv2d_single": 2, "test_im2col": 2,
                     "test_conv2d_forward": 2, "test_conv2d_backward": 0,
                     "test_maxpool_forward": 1, "test_maxpool_backward": 2},
        "message": "dbias, the bias gradient (summed over the batch and all output positions) has the wrong shape",
    },
    "maxpool_backward_spreads_gradient": {
        "why": "max-pool backward gives every element of the window the output's gradient",
        "cells": {
            "maxpool_backward": '''
def maxpool_backward(dout, x, kernel_size=2, stride=2):
    dx = np.zeros_like(x, dtype=float)
    oh, ow = dout.shape[2:]
    for r in range(oh):
        for s in range(ow):
            window = (slice(None), slice(None), slice(r * stride, r * stride + kernel_size),
                      slice(s * stride, s * stride + kernel_size))
            dx[window] += dout[:, :, r, s][:, :, None, None]
    return dx
''',
        },
        "expected": {"test_conv_output_size": 1, "test_conv2d_single": 2, "test_im2col": 2,
                     "test_conv2d_forward": 2, "test_conv2d_backward": 3,
                     "test_maxpool_forward": 1, "test_maxpool_backward": 0},
        "message": "not to every element of the window",
    },
}
