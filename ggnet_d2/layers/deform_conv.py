"""Modulated deformable convolution (DCNv2) on top of ``torchvision.ops.deform_conv2d``.

Offset layout (identical in torchvision and in the DCNv2 extension used by CenterNet / PPDM / GGNet, so their
weights load unchanged): for a kh x kw kernel with kernel positions k = i * kw + j (row-major), the offset tensor has
2 * kh * kw channels and channels ``[2k, 2k + 1]`` hold ``(dy, dx)`` of position k, in pixels of the convolved feature
map; the mask tensor has kh * kw channels, channel k the modulation weight of position k. Position k samples the
input at ``(y * stride - pad + i * dilation + dy, x * stride - pad + j * dilation + dx)`` with bilinear interpolation.
"""
import math

import torch
from torch import nn
from torchvision.ops import deform_conv2d

from .deform_conv_gemm import gather_gemm_deform_conv2d
from .finite_guard import NO_NONFINITE, check_deform_conv_inputs, clamp_offsets
from .precision import float32_region

__all__ = ["ModulatedDeformConv", "ModulatedDeformConvPack", "split_offset_mask", "DEFORM_CONV_BACKENDS",
           "resolve_deform_conv_backend"]

DEFORM_CONV_BACKENDS = {"torchvision": deform_conv2d, "gather_gemm": gather_gemm_deform_conv2d}
# What "auto" picks per (device type, autograd on). Source: tools/benchmark_gaze.py --repeats 3 (README, "Fast
# deformable convolution on CPU"). CPU (2-core dev machine, idle): gather_gemm ran the HICO gaze step 4.2x faster
# forward and 9.6x faster forward+backward than torchvision's op (whose CPU backward is single-threaded), a quickstart
# training step 2.55x faster, GGNet-DLA34 inference at 512x512 3.4x faster. CUDA (H100, torch 2.11): torchvision's
# fused kernel won everywhere (HICO gaze step forward+backward 31.5 vs 114.4 ms; GGNet-DLA34 inference 16.2 vs
# 65.6 ms).
AUTO_BACKEND_BY_DEVICE = {("cpu", True): "gather_gemm", ("cpu", False): "gather_gemm",
                          ("cuda", True): "torchvision", ("cuda", False): "torchvision"}


def resolve_deform_conv_backend(name, device_type, grad_enabled=True):
    """Name of the deform-conv function for ``name`` ("torchvision" | "gather_gemm" | "auto") on ``device_type``
    (``torch.device.type``), with autograd on or off (``torch.is_grad_enabled()``).

    Raises:
        ValueError: unknown backend name.
    """
    if name == "auto":
        return AUTO_BACKEND_BY_DEVICE.get((device_type, bool(grad_enabled)), "torchvision")
    if name not in DEFORM_CONV_BACKENDS:
        raise ValueError(f"unknown deformable-conv backend {name!r}; choose from "
                         f"{sorted(DEFORM_CONV_BACKENDS) + ['auto']}")
    return name


def split_offset_mask(raw):
    """Split a DCNv2 offset/mask prediction into offsets and sigmoid weights.

    Args:
        raw (Tensor): (B, 3n, H, W) logits as predicted by a conv: channels [0, 2n) are the offsets in the layout
            described in this module's docstring, channels [2n, 3n) the mask logits (DCNv2's ``chunk(3)`` convention).

    Returns:
        tuple[Tensor, Tensor]: offsets (B, 2n, H, W) in feature-map pixels, weights (B, n, H, W) in (0, 1).

    Raises:
        ValueError: when the channel count is not a multiple of 3.
    """
    if raw.shape[1] % 3 != 0:
        raise ValueError(f"offset/mask prediction needs 3n channels, got {raw.shape[1]}")
    n = raw.shape[1] // 3
    return raw[:, : 2 * n], torch.sigmoid(raw[:, 2 * n :])


class ModulatedDeformConv(nn.Module):
    """DCNv2 convolution whose offsets and weights are given by the caller (GGNet's gaze steps, Sec. 3.2 Eq. 2-3).

    Parameters ``weight`` (C_out, C_in, kh, kw) and ``bias`` (C_out,) are named as in DCNv2's ``DCNv2`` module.
    ``backend``: "torchvision" (``torchvision.ops.deform_conv2d``), "gather_gemm" (``deform_conv_gemm``, multi-threaded
    on CPU) or "auto" (per device type, see ``AUTO_BACKEND_BY_DEVICE``); config key MODEL.DEFORM_CONV_BACKEND.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                 backend="torchvision"):
        super().__init__()
        resolve_deform_conv_backend(backend, "cpu")  # fail at build time on a bad name
        self.backend = backend
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kh, kw))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        # DCNv2's initialisation: uniform(+-1/sqrt(fan_in)), zero bias.
        stdv = 1.0 / math.sqrt(in_channels * kh * kw)
        nn.init.uniform_(self.weight, -stdv, stdv)
        # Non-finite offsets crash deform_conv2d's kernels: checked before the op ("sync") or flagged on the device
        # and raised later by engine.hooks.FiniteCheckHook ("deferred"); "auto": sync on the CPU (finite_guard.py).
        self.finite_check = "auto"
        self.register_buffer("nonfinite_iter", torch.full((), NO_NONFINITE, dtype=torch.long), persistent=False)
        self.register_forward_pre_hook(check_deform_conv_inputs)

    def resolved_backend(self, x):
        """The backend name this module uses for input ``x`` now (``auto`` resolved by device and autograd)."""
        return resolve_deform_conv_backend(self.backend, x.device.type, torch.is_grad_enabled())

    @property
    def kernel_size(self):
        return tuple(self.weight.shape[2:])

    @float32_region
    def forward(self, x, offset, mask):
        """Args: x (B, C_in, H, W); offset (B, 2*kh*kw, H', W'); mask (B, kh*kw, H', W') in [0, 1].

        Under autocast (AMP) the inputs are cast to float32 and the op runs in float32 (``float32_region``).

        Returns:
            Tensor (B, C_out, H', W').
        """
        x, offset, mask = x.float(), offset.float(), mask.float()
        fn = DEFORM_CONV_BACKENDS[self.resolved_backend(x)]
        offset = clamp_offsets(offset, x.shape[-2], x.shape[-1], self.padding, self.dilation, self.kernel_size)
        return fn(x, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                  dilation=self.dilation, mask=mask)


class ModulatedDeformConvPack(ModulatedDeformConv):
    """DCNv2 convolution that predicts its own offsets and mask from its input (DCNv2's ``DCN``).

    Used by CenterNet's DLAUp/IDAUp. ``conv_offset_mask`` is a conv with the same geometry producing 3 * kh * kw
    channels, zero-initialised so that training starts as a plain convolution with weights 0.5.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                 backend="torchvision"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias, backend)
        kh, kw = self.kernel_size
        self.conv_offset_mask = nn.Conv2d(in_channels, 3 * kh * kw, (kh, kw), stride=stride, padding=padding,
                                          dilation=dilation, bias=True)
        nn.init.zeros_(self.conv_offset_mask.weight)
        nn.init.zeros_(self.conv_offset_mask.bias)

    def forward(self, x):
        """Args: x (B, C_in, H, W). Returns: (B, C_out, H', W')."""
        offset, mask = split_offset_mask(self.conv_offset_mask(x))
        return super().forward(x, offset, mask)
