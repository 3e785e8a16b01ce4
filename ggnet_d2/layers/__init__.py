"""Custom ops of GGNet, kept apart from the model parts as in detectron2's ``layers``: modulated deformable
convolution (torchvision and gather+GEMM backends), the finite guard in front of it, and gathering dense predictions
at flat indices."""
from .deform_conv import (
    AUTO_BACKEND_BY_DEVICE,
    DEFORM_CONV_BACKENDS,
    ModulatedDeformConv,
    ModulatedDeformConvPack,
    resolve_deform_conv_backend,
    split_offset_mask,
)
from .deform_conv_gemm import gather_gemm_deform_conv2d
from .finite_guard import check_deform_conv_inputs, check_finite, clamp_offsets, raise_if_nonfinite, record_nonfinite
from .gather import gather_at_index
from .precision import AMP_PRECISIONS, float32_region

__all__ = ["AUTO_BACKEND_BY_DEVICE", "DEFORM_CONV_BACKENDS", "ModulatedDeformConv", "ModulatedDeformConvPack",
           "resolve_deform_conv_backend", "split_offset_mask", "gather_gemm_deform_conv2d", "check_deform_conv_inputs",
           "check_finite", "clamp_offsets", "gather_at_index", "raise_if_nonfinite", "record_nonfinite",
           "AMP_PRECISIONS", "float32_region"]
