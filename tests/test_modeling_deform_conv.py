import torch
import torch.nn.functional as F

from ggnet_d2.modeling.deform_conv import ModulatedDeformConv, ModulatedDeformConvPack, split_offset_mask


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
