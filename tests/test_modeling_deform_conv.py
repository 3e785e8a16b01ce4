import torch
import torch.nn.functional as F

from ggnet_d2.layers import ModulatedDeformConv, ModulatedDeformConvPack, split_offset_mask


def test_zero_offsets_unit_weights_equal_plain_conv():
    torch.manual_seed(0)
    conv = ModulatedDeformConv(3, 5, 3, padding=1)
    x = torch.randn(2, 3, 7, 9)
    out = conv(x, torch.zeros(2, 18, 7, 9), torch.ones(2, 9, 7, 9))
    torch.testing.assert_close(out, F.conv2d(x, conv.weight, conv.bias, padding=1), rtol=1e-5, atol=1e-5)


def test_offset_layout_is_dy_dx_per_kernel_position():
    # A 1x1 kernel with offset (dy, dx) = (0, 1) samples x[:, :, y, x + 1]; (1, 0) samples x[:, :, y + 1, x].
    torch.manual_seed(0)
    conv = ModulatedDeformConv(2, 2, 1, bias=False)
    x = torch.randn(1, 2, 5, 6)
    ones = torch.ones(1, 1, 5, 6)
    shift_x = torch.cat([torch.zeros_like(ones), ones], 1)
    shift_y = torch.cat([ones, torch.zeros_like(ones)], 1)
    plain = F.conv2d(x, conv.weight)
    torch.testing.assert_close(conv(x, shift_x, ones)[..., :-1], plain[..., 1:], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(conv(x, shift_y, ones)[..., :-1, :], plain[..., 1:, :], rtol=1e-5, atol=1e-5)


def test_pack_starts_as_half_weighted_conv():
    torch.manual_seed(0)
    conv = ModulatedDeformConvPack(3, 4, 3, padding=1)
    conv.bias.data.normal_()
    x = torch.randn(1, 3, 6, 6)
    expected = 0.5 * F.conv2d(x, conv.weight, padding=1) + conv.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(conv(x), expected, rtol=1e-5, atol=1e-5)


def test_split_offset_mask():
    raw = torch.arange(27.0).view(1, 27, 1, 1)
    off, w = split_offset_mask(raw)
    assert off.shape == (1, 18, 1, 1) and w.shape == (1, 9, 1, 1)
    torch.testing.assert_close(w.flatten(), torch.sigmoid(torch.arange(18.0, 27.0)))
    try:
        split_offset_mask(torch.zeros(1, 4, 1, 1))
    except ValueError as e:
        assert "3n" in str(e)
    else:
        raise AssertionError("expected ValueError")


# --- gather+GEMM backend (ggnet_d2/layers/deform_conv_gemm.py) against torchvision's deform_conv2d ---------------
import pytest  # noqa: E402
from torchvision.ops import deform_conv2d  # noqa: E402

from ggnet_d2.layers import resolve_deform_conv_backend  # noqa: E402
from ggnet_d2.layers.deform_conv_gemm import gather_gemm_deform_conv2d  # noqa: E402


def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def _compare(B, C, H, W, k, stride, pad, offset, budget=1 << 30, dilation=1, seed=0):
    torch.manual_seed(seed)
    x = torch.randn(B, C, H, W, requires_grad=True)
    w = torch.randn(4, C, k, k, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    off = offset.clone().requires_grad_()
    m = torch.rand(B, k * k, *offset.shape[2:], requires_grad=True)
    ref = deform_conv2d(x, off, w, b, stride=stride, padding=pad, dilation=dilation, mask=m)
    out = gather_gemm_deform_conv2d(x, off, w, b, stride=stride, padding=pad, dilation=dilation, mask=m,
                                    column_budget_bytes=budget)
    go = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, (x, w, b, off, m), go)
    g_out = torch.autograd.grad(out, (x, w, b, off, m), go)
    assert out.shape == ref.shape
    assert _rel(out, ref) < 1e-4
    for name, a, r in zip(("input", "weight", "bias", "offset", "mask"), g_out, g_ref):
        assert _rel(a, r) < 1e-4, name


@pytest.mark.parametrize("B,k,stride,pad", [(1, 3, 1, 1), (3, 3, 2, 0), (1, 5, 1, 2), (3, 5, 2, 1), (1, 7, 1, 3),
                                            (3, 7, 2, 2)])
def test_gather_gemm_matches_torchvision_random_offsets(B, k, stride, pad):
    H, W = 9, 8
    ho, wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    # Scale 4 pushes many samples outside the 9x8 map (and some past the -1/H zero band).
    torch.manual_seed(1)
    _compare(B, 3, H, W, k, stride, pad, torch.randn(B, 2 * k * k, ho, wo) * 4)


def test_gather_gemm_matches_torchvision_integer_samples_on_borders():
    # Integer offsets land samples exactly on rows/cols -1, 0, H-1, H (and W analogues): the boundary cases of the
    # "y <= -1 or y >= H is zero" rule and of neighbours that fall outside the map.
    B, k, H, W = 2, 3, 6, 7
    torch.manual_seed(2)
    off = torch.randint(-8, 9, (B, 2 * k * k, H, W)).float()
    _compare(B, 4, H, W, k, 1, 1, off)
    # Half-integers just inside the zero band: y = -0.5, H - 0.5.
    _compare(B, 4, H, W, k, 1, 1, off + 0.5)


def test_gather_gemm_row_chunking_equals_unchunked():
    torch.manual_seed(3)
    off = torch.randn(3, 18, 9, 8) * 2
    # 200 bytes = less than one output row of columns: every row is its own chunk.
    _compare(3, 3, 9, 8, 3, 1, 1, off, budget=200)
    _compare(3, 3, 9, 8, 3, 1, 1, off, budget=1 << 30, dilation=1)


def test_gather_gemm_dilation_matches_torchvision():
    torch.manual_seed(4)
    _compare(2, 3, 9, 9, 3, 1, 2, torch.randn(2, 18, 9, 9) * 2, dilation=2)


def test_gather_gemm_gradcheck_float64():
    torch.manual_seed(5)
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    # Offsets away from integers: the bilinear sample is not differentiable where it crosses a pixel boundary.
    off = (torch.randint(-2, 3, (1, 18, 4, 5)).double() + 0.25 + 0.5 * torch.rand(1, 18, 4, 5, dtype=torch.float64))
    off.requires_grad_()
    m = torch.rand(1, 9, 4, 5, dtype=torch.float64, requires_grad=True)

    def f(x, off, w, b, m):
        return gather_gemm_deform_conv2d(x, off, w, b, padding=1, mask=m)

    assert torch.autograd.gradcheck(f, (x, off, w, b, m), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("backend", ["torchvision", "gather_gemm", "auto"])
def test_module_backends_agree(backend):
    torch.manual_seed(6)
    ref = ModulatedDeformConvPack(3, 4, 3, padding=1)
    ref.conv_offset_mask.weight.data.normal_(0, 0.3)
    conv = ModulatedDeformConvPack(3, 4, 3, padding=1, backend=backend)
    conv.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 7, 6)
    torch.testing.assert_close(conv(x), ref(x), rtol=1e-4, atol=1e-5)


def test_backend_resolution_and_errors():
    assert resolve_deform_conv_backend("auto", "cpu", grad_enabled=True) == "gather_gemm"
    assert resolve_deform_conv_backend("auto", "cpu", grad_enabled=False) == "gather_gemm"
    assert resolve_deform_conv_backend("torchvision", "cpu") == "torchvision"
    with pytest.raises(ValueError, match="unknown deformable-conv backend"):
        ModulatedDeformConv(2, 2, 3, backend="nope")
    with pytest.raises(ValueError, match="groups=1"):
        gather_gemm_deform_conv2d(torch.zeros(1, 4, 5, 5), torch.zeros(1, 18, 5, 5), torch.zeros(2, 2, 3, 3))


# --- gather_gemm's inference path (no autograd: embedding_bag columns, GEMM into the output) ------------------------
import ggnet_d2.layers.deform_conv_gemm as dcg  # noqa: E402


def _compare_no_grad(B, C, H, W, k, stride, pad, dilation, offset, bias=True, budget=1 << 30, dtype=torch.float32,
                     seed=0):
    torch.manual_seed(seed)
    x = torch.randn(B, C, H, W, dtype=dtype)
    w = torch.randn(5, C, k, k, dtype=dtype)
    b = torch.randn(5, dtype=dtype) if bias else None
    m = torch.rand(B, k * k, *offset.shape[2:], dtype=dtype)
    off = offset.to(dtype)
    ref = deform_conv2d(x, off, w, b, stride=stride, padding=pad, dilation=dilation, mask=m)
    with torch.no_grad():
        out = gather_gemm_deform_conv2d(x, off, w, b, stride=stride, padding=pad, dilation=dilation, mask=m,
                                        column_budget_bytes=budget)
    assert out.shape == ref.shape and out.is_contiguous()
    assert _rel(out, ref) < 1e-4
    return out


@pytest.mark.parametrize("B,k,stride,pad,dilation,bias", [
    (1, 3, 1, 1, 1, True), (3, 3, 2, 0, 1, False), (1, 5, 1, 2, 1, False), (3, 5, 2, 1, 2, True),
    (1, 7, 1, 3, 1, True), (3, 7, 2, 2, 1, False), (1, 3, 2, 2, 2, True)])
def test_gather_gemm_no_grad_matches_torchvision(B, k, stride, pad, dilation, bias, monkeypatch):
    calls, cols = [], []
    fast, columns = dcg._forward_no_grad, dcg._columns
    monkeypatch.setattr(dcg, "_forward_no_grad", lambda *a: calls.append(1) or fast(*a))
    monkeypatch.setattr(dcg, "_columns", lambda *a: cols.append(1) or columns(*a))
    H, W = 10, 9
    ho = (H + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    wo = (W + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    # Scale 4 pushes many samples outside the map (and past the -1 / H zero band).
    torch.manual_seed(11)
    off = torch.randn(B, 2 * k * k, ho, wo) * 4
    out = _compare_no_grad(B, 3, H, W, k, stride, pad, dilation, off, bias=bias)
    assert calls, "the inference path was not taken"
    # Chunked: 200 bytes is less than one output row of columns, so every row of every image is its own chunk.
    cols.clear()
    chunked = _compare_no_grad(B, 3, H, W, k, stride, pad, dilation, off, bias=bias, budget=200)
    assert len(cols) == B * ho
    torch.testing.assert_close(chunked, out, rtol=1e-5, atol=1e-5)


def test_gather_gemm_no_grad_integer_and_half_integer_borders():
    B, k, H, W = 2, 3, 6, 7
    torch.manual_seed(12)
    off = torch.randint(-8, 9, (B, 2 * k * k, H, W)).float()
    _compare_no_grad(B, 4, H, W, k, 1, 1, 1, off)
    _compare_no_grad(B, 4, H, W, k, 1, 1, 1, off + 0.5)
    _compare_no_grad(B, 4, H, W, k, 1, 1, 1, off + 0.5, dtype=torch.float64)


def test_gather_gemm_no_grad_chunks_of_whole_images_and_of_rows():
    # Budget for 2 whole 6x7 images of 3x3 x 4-channel columns (6 * 7 * 9 * 4 * 4 bytes each): batch 3 -> chunks of
    # 2 + 1 images; then a budget of 2 rows of one image -> 3 row chunks per image.
    B, k, H, W = 3, 3, 6, 7
    torch.manual_seed(13)
    off = torch.randn(B, 2 * k * k, H, W) * 3
    per_image = H * W * k * k * 4 * 4
    _compare_no_grad(B, 4, H, W, k, 1, 1, 1, off, budget=2 * per_image)
    _compare_no_grad(B, 4, H, W, k, 1, 1, 1, off, budget=2 * per_image // H)


def test_gather_gemm_grad_enabled_without_requires_grad_takes_inference_path(monkeypatch):
    # Evaluation outside torch.no_grad() (parameters frozen) needs no graph either; with a parameter that requires
    # grad, the autograd path must be kept.
    calls = []
    fast = dcg._forward_no_grad
    monkeypatch.setattr(dcg, "_forward_no_grad", lambda *a: calls.append(1) or fast(*a))
    torch.manual_seed(14)
    x, off, m = torch.randn(1, 2, 5, 5), torch.randn(1, 18, 5, 5), torch.rand(1, 9, 5, 5)
    w = torch.randn(3, 2, 3, 3)
    out = gather_gemm_deform_conv2d(x, off, w, padding=1, mask=m)
    assert calls and out.grad_fn is None
    calls.clear()
    out = gather_gemm_deform_conv2d(x, off, w.requires_grad_(), padding=1, mask=m)
    assert not calls and out.grad_fn is not None
    torch.testing.assert_close(out, deform_conv2d(x, off, w, padding=1, mask=m), rtol=1e-4, atol=1e-5)
