"""Conv2d, MaxPool2d, im2col/col2im against PyTorch autograd (float64) and numerical gradients."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nnlib.conv import (BatchNorm2d, Conv2d, MaxPool2d, ResidualBlock, col2im, conv_output_size,
                        im2col)
from nnlib.gradcheck import gradcheck
from torch_reference import assert_close, compare_with_torch, to_torch

def compare_conv_with_torch(n, c_in, c_out, hw, kernel_size, stride, padding, bias=True, seed=0):
    """Output, dL/dx, dL/dweight and dL/dbias of nnlib's Conv2d vs torch's, in float64."""
    layer = Conv2d(c_in, c_out, kernel_size, stride, padding, bias=bias)
    twin = torch.nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=bias)
    x = np.random.default_rng(seed).standard_normal((n, c_in) + hw)
    compare_with_torch(layer, twin, x, seed=seed)


CONV_CASES = [
    # n, c_in, c_out, (H, W), kernel_size, stride, padding
    (2, 3, 4, (8, 8), 3, 1, 0),
    (2, 3, 4, (8, 8), 3, 1, 1),
    (3, 2, 5, (7, 9), 3, 2, 1),          # odd sizes, stride 2: last row/column dropped
    (2, 1, 3, (6, 5), (2, 3), (1, 2), (0, 1)),   # non-square kernel, stride and padding
    (1, 2, 2, (5, 5), 5, 1, 0),          # batch of 1, kernel covers the whole image
    (2, 2, 3, (4, 4), 1, 1, 0),          # 1x1 convolution
    (2, 3, 2, (9, 7), (4, 2), 3, 2),     # stride larger than the kernel width
]


@pytest.mark.parametrize("n, c_in, c_out, hw, kernel_size, stride, padding", CONV_CASES)
def test_conv2d_forward_and_gradients_match_torch(n, c_in, c_out, hw, kernel_size, stride, padding):
    compare_conv_with_torch(n, c_in, c_out, hw, kernel_size, stride, padding)


def test_conv2d_without_bias_matches_torch_and_has_no_bias_parameter():
    compare_conv_with_torch(2, 3, 4, (6, 6), 3, 1, 1, bias=False)
    layer = Conv2d(3, 4, 3, bias=False)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


@settings(max_examples=20)
@given(n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), extra_h=st.integers(0, 5),
       extra_w=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch_for_random_shapes(n, c_in, c_out, kh, kw, sh, sw, ph, pw,
                                                 extra_h, extra_w, seed):
    # PyTorch allows padding up to half the kernel; the image must fit at least one window
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    hw = (max(1, kh - 2 * ph + extra_h), max(1, kw - 2 * pw + extra_w))
    compare_conv_with_torch(n, c_in, c_out, hw, (kh, kw), (sh, sw), (ph, pw), seed=seed)


@pytest.mark.parametrize("kernel_size, stride, padding", [(3, 1, 0), ((3, 2), (2, 1), 1),
                                                      (2, 3, (0, 1))])
def test_conv2d_gradients_match_numerical_gradient(kernel_size, stride, padding):
    rng = np.random.default_rng(1)
    layer = Conv2d(2, 3, kernel_size, stride, padding, dtype=np.float64, rng=rng)
    errors = gradcheck(layer, rng.standard_normal((2, 2, 5, 4)))   # raises above 1e-6
    assert set(errors) == {"input", "weight", "bias"}, errors


def test_conv2d_backward_adds_to_existing_parameter_gradients():
    rng = np.random.default_rng(2)
    layer = Conv2d(2, 3, 3, dtype=np.float64, rng=rng)
    x = rng.standard_normal((2, 2, 5, 5))
    grad_out = rng.standard_normal(layer(x).shape)
    layer.backward(grad_out)
    once_w, once_b = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(grad_out)
    assert_close(layer.weight.grad, 2 * once_w, "weight.grad after two backward passes")
    assert_close(layer.bias.grad, 2 * once_b, "bias.grad after two backward passes")


def test_conv_output_size_follows_the_floor_formula_and_torch():
    assert conv_output_size(28, 3, 1, 1) == 28
    assert conv_output_size(28, 3) == 26
    assert conv_output_size(7, 2, 2) == 3                 # floor(5 / 2) + 1
    assert conv_output_size(8, 3, 2, 1) == 4              # floor(7 / 2) + 1
    for size, k, s, p in [(9, 4, 3, 2), (5, 5, 1, 0), (10, 3, 4, 1)]:
        torch_size = torch.nn.functional.conv2d(torch.zeros(1, 1, size, size),
                                                torch.zeros(1, 1, k, k), stride=s,
                                                padding=p).shape[-1]
        assert conv_output_size(size, k, s, p) == torch_size, (size, k, s, p)


def test_im2col_matches_torch_unfold():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6))
    cols, (oh, ow) = im2col(x, (3, 2), stride=(2, 1), padding=(1, 0))
    expected = torch.nn.functional.unfold(torch.from_numpy(x), (3, 2), padding=(1, 0),
                                          stride=(2, 1)).numpy()
    assert (oh, ow) == (4, 5)
    assert_close(cols, expected, "im2col columns", tol=0)


def test_im2col_column_holds_the_patch_under_the_window():
    x = np.arange(2 * 4 * 4, dtype=np.float64).reshape(1, 2, 4, 4)
    cols, (oh, ow) = im2col(x, 2, stride=2)
    assert (oh, ow) == (2, 2)
    # output position (r=1, s=0) sees rows 2-3, columns 0-1 of both channels
    expected = np.concatenate([x[0, 0, 2:4, 0:2].ravel(), x[0, 1, 2:4, 0:2].ravel()])
    assert_close(cols[0, :, 1 * ow + 0], expected, "column of window (1, 0)", tol=0)


def test_col2im_matches_torch_fold_and_sums_overlapping_windows():
    rng = np.random.default_rng(4)
    x_shape, k, s, p = (2, 3, 7, 6), (3, 2), (2, 1), (1, 1)
    _, (oh, ow) = im2col(np.zeros(x_shape), k, s, p)
    cols = rng.standard_normal((2, 3 * 3 * 2, oh * ow))
    expected = torch.nn.functional.fold(torch.from_numpy(cols), x_shape[2:], k, padding=p,
                                        stride=s).numpy()
    assert_close(col2im(cols, x_shape, k, s, p), expected, "col2im")
    # every pixel of a 3x3 image is covered by as many 2x2 windows (stride 1) as col2im of ones says
    counts = col2im(np.ones((1, 4, 4)), (1, 1, 3, 3), 2)[0, 0]
    assert_close(counts, np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), "window counts", tol=0)


def test_conv2d_default_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = Conv2d(8, 16, (3, 5), rng=np.random.default_rng(5))
    bound = 1 / np.sqrt(8 * 3 * 5)
    assert layer.weight.shape == tuple(torch.nn.Conv2d(8, 16, (3, 5)).weight.shape)
    for name, p in layer.named_parameters():
        assert np.all(np.abs(p.data) <= bound), f"{name} has values beyond +-{bound:.4f}"
    assert np.abs(layer.weight.data).max() > 0.95 * bound, "weights do not fill U(-b, b)"
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound, \
        f"weight std {layer.weight.data.std():.4f}, U(-b, b) has {bound / np.sqrt(3):.4f}"


def test_conv2d_state_dict_round_trips_with_torch():
    torch.manual_seed(0)
    twin = torch.nn.Conv2d(3, 4, (3, 2), stride=2, padding=1).double()
    layer = Conv2d(3, 4, (3, 2), stride=2, padding=1, dtype=np.float64)
    layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 6))
    assert_close(layer(x), twin(torch.from_numpy(x)).detach().numpy(),
                 "forward after loading torch weights")

    back = torch.nn.Conv2d(3, 4, (3, 2), stride=2, padding=1).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    for key, value in twin.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), f"{key} changed on the way back"


@pytest.mark.parametrize("shape", [(2, 4, 8, 8), (3, 8, 8), (2, 3, 8)])
def test_conv2d_wrong_input_shape_raises_value_error_naming_layer_and_shapes(shape):
    layer = Conv2d(3, 2, 3)
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, dtype=np.float32))
    message = str(info.value)
    assert "Conv2d" in message and "(batch, 3, H, W)" in message and str(shape) in message, message


def test_conv2d_input_smaller_than_kernel_raises_value_error():
    with pytest.raises(ValueError, match="Conv2d.*smaller than the kernel"):
        Conv2d(1, 1, 5, padding=1)(np.zeros((1, 1, 2, 8)))


def test_conv2d_wrong_grad_output_shape_raises_value_error():
    layer = Conv2d(1, 2, 3)
    layer(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv2d.*grad_output.*\(2, 2, 3, 3\).*\(2, 2, 5, 5\)"):
        layer.backward(np.zeros((2, 2, 5, 5)))


def test_conv2d_backward_before_forward_raises_runtime_error():
    with pytest.raises(RuntimeError, match="Conv2d.*before forward"):
        Conv2d(1, 2, 3).backward(np.zeros((1, 2, 3, 3)))


def test_conv2d_float32_input_stays_float32_and_matches_torch():
    rng = np.random.default_rng(7)
    layer = Conv2d(3, 4, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    out = layer(x)
    grad_x = layer.backward(np.ones_like(out))
    assert out.dtype == np.float32, f"output is {out.dtype}"
    assert grad_x.dtype == np.float32, f"dL/dx is {grad_x.dtype}"
    assert layer.weight.grad.dtype == np.float32, f"weight.grad is {layer.weight.grad.dtype}"
    twin = torch.nn.Conv2d(3, 4, 3, padding=1)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    assert_close(out, twin(torch.from_numpy(x)).detach().numpy(), "float32 forward", tol=1e-5)


def test_conv2d_float32_layer_computes_in_float64_for_float64_input():
    layer = Conv2d(1, 1, 2)
    assert layer(np.ones((1, 1, 3, 3))).dtype == np.float64


def compare_pool_with_torch(x, kernel_size, stride=None, seed=0):
    """Output and dL/dx of nnlib's MaxPool2d vs torch's, in float64."""
    compare_with_torch(MaxPool2d(kernel_size, stride), torch.nn.MaxPool2d(kernel_size, stride), x,
                       seed=seed)


POOL_CASES = [
    # (N, C, H, W), kernel_size, stride
    ((2, 3, 8, 8), 2, None),
    ((2, 3, 7, 9), 2, None),             # odd sizes: floor mode drops the last row and column
    ((1, 2, 9, 9), 3, 2),                # overlapping windows
    ((2, 1, 8, 7), (2, 3), (1, 2)),      # non-square kernel and stride
    ((1, 1, 5, 5), 5, None),             # one window covers the image
    ((2, 2, 6, 6), 1, None),             # 1x1: the identity
    ((2, 2, 10, 10), 2, 3),              # stride larger than the kernel: some pixels unused
]


@pytest.mark.parametrize("shape, kernel_size, stride", POOL_CASES)
def test_maxpool2d_forward_and_gradient_match_torch(shape, kernel_size, stride):
    compare_pool_with_torch(np.random.default_rng(8).standard_normal(shape), kernel_size, stride)


@pytest.mark.parametrize("shape, kernel_size, stride", POOL_CASES)
def test_maxpool2d_ties_send_gradient_where_torch_does(shape, kernel_size, stride):
    # values in {0, 1, 2}: most windows have tied maxima
    x = np.random.default_rng(9).integers(0, 3, shape).astype(np.float64)
    compare_pool_with_torch(x, kernel_size, stride)


def test_maxpool2d_tie_sends_gradient_to_first_maximum_only():
    x = np.array([[[[1.0, 5.0, 5.0, 0.0],
                    [5.0, 2.0, 3.0, 5.0]]]])
    pool = MaxPool2d(2)
    assert_close(pool(x), np.array([[[[5.0, 5.0]]]]), "forward", tol=0)
    expected = np.array([[[[0.0, 1.0, 1.0, 0.0],
                           [0.0, 0.0, 0.0, 0.0]]]])
    assert_close(pool.backward(np.ones((1, 1, 1, 2))), expected,
                 "gradient goes to the first 5 of each window", tol=0)


def test_maxpool2d_gradient_matches_numerical_gradient():
    x = np.random.default_rng(10).standard_normal((2, 2, 5, 6))   # distinct values: max is smooth
    errors = gradcheck(MaxPool2d((2, 3), stride=(1, 2)), x)       # raises above 1e-6
    assert set(errors) == {"input"}, errors


@settings(max_examples=20)
@given(n=st.integers(1, 3), c=st.integers(1, 3), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 4), sw=st.integers(1, 4), extra_h=st.integers(0, 6),
       extra_w=st.integers(0, 6), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_maxpool2d_matches_torch_for_random_shapes(n, c, kh, kw, sh, sw, extra_h, extra_w, ties,
                                                   seed):
    rng = np.random.default_rng(seed)
    shape = (n, c, kh + extra_h, kw + extra_w)
    x = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    compare_pool_with_torch(x, (kh, kw), (sh, sw), seed)


def test_maxpool2d_stride_defaults_to_kernel_size():
    assert MaxPool2d(3).stride == (3, 3)
    assert MaxPool2d((2, 3)).stride == (2, 3)
    assert MaxPool2d(2, stride=1).stride == (1, 1)


@pytest.mark.parametrize("shape", [(3, 8, 8), (8, 8), (1, 1, 1, 8, 8)])
def test_maxpool2d_wrong_input_shape_raises_value_error_naming_layer_and_shapes(shape):
    with pytest.raises(ValueError) as info:
        MaxPool2d(2)(np.zeros(shape))
    message = str(info.value)
    assert "MaxPool2d" in message and "(batch, C, H, W)" in message and str(shape) in message, message


def test_maxpool2d_input_smaller_than_kernel_raises_value_error():
    with pytest.raises(ValueError, match="MaxPool2d.*smaller than the kernel"):
        MaxPool2d(3)(np.zeros((1, 1, 2, 5)))


def test_maxpool2d_backward_before_forward_raises_runtime_error():
    with pytest.raises(RuntimeError, match="MaxPool2d.*before forward"):
        MaxPool2d(2).backward(np.zeros((1, 1, 2, 2)))


def test_maxpool2d_wrong_grad_output_shape_raises_value_error():
    pool = MaxPool2d(2)
    pool(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d.*grad_output.*\(1, 1, 2, 2\).*\(1, 1, 4, 4\)"):
        pool.backward(np.zeros((1, 1, 4, 4)))


def test_maxpool2d_float32_input_stays_float32():
    x = np.random.default_rng(11).standard_normal((2, 3, 6, 6)).astype(np.float32)
    pool = MaxPool2d(2)
    out = pool(x)
    grad_x = pool.backward(np.ones_like(out))
    assert out.dtype == np.float32, f"output is {out.dtype}"
    assert grad_x.dtype == np.float32, f"dL/dx is {grad_x.dtype}"


# --- BatchNorm2d and the residual block -----------------------------------------------------

def _perturb(torch_module, seed=1):
    """Batch norm starts at weight 1, bias 0, which would hide a swapped or missing term."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in torch_module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g, dtype=m.weight.dtype) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g, dtype=m.bias.dtype))
    return torch_module


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 3, 3), (2, 1, 4, 1)])
def test_batchnorm2d_matches_torch_in_training(shape):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    compare_with_torch(BatchNorm2d(shape[1]), _perturb(torch.nn.BatchNorm2d(shape[1])), x)


def test_batchnorm2d_running_statistics_and_eval_match_torch():
    rng = np.random.default_rng(3)
    bn, bn_t = BatchNorm2d(3).double(), _perturb(torch.nn.BatchNorm2d(3, momentum=0.3)).double()
    bn.momentum = 0.3
    for step in range(4):
        x = rng.standard_normal((2 + step, 3, 4, 5)) * 3 - 1
        bn(x)
        bn_t(to_torch(x))
    state = bn.state_dict()
    assert list(state) == list(bn_t.state_dict())
    for key, value in bn_t.state_dict().items():
        if key in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(state[key], value.numpy(), f"BatchNorm2d {key} after 4 steps", tol=1e-12)
    bn.eval()
    bn_t.eval()
    compare_with_torch(bn, bn_t, rng.standard_normal((1, 3, 2, 2)))


def test_batchnorm2d_gradients_pass_numerical_gradcheck():
    rng = np.random.default_rng(4)
    bn = BatchNorm2d(2).double()
    bn.weight.data[...] = [0.7, 1.6]
    errors = gradcheck(bn, rng.standard_normal((3, 2, 2, 3)))
    assert set(errors) == {"input", "weight", "bias"}, errors


def test_batchnorm2d_wrong_channels_names_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3, .*expected input of shape "
                                         r"\(batch, 3, H, W\), got \(2, 4, 5, 5\)"):
        BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))


class TorchBasicBlock(torch.nn.Module):
    """torchvision's BasicBlock without downsampling, written out."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.relu = torch.nn.ReLU()
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + x)


@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (1, 2, 4, 3)])
def test_residual_block_matches_torch_and_shares_its_state_dict_keys(shape):
    torch.manual_seed(0)
    block, block_t = ResidualBlock(shape[1]), _perturb(TorchBasicBlock(shape[1]))
    assert list(block.state_dict()) == list(block_t.state_dict())
    compare_with_torch(block, block_t, np.random.default_rng(1).standard_normal(shape))


def test_residual_block_passes_numerical_gradcheck():
    rng = np.random.default_rng(5)
    block = ResidualBlock(2, dtype=np.float64, rng=rng)
    errors = gradcheck(block, rng.standard_normal((2, 2, 3, 3)))
    assert len(errors) == 1 + len(list(block.parameters())), errors
