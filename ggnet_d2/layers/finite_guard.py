"""Stop a diverging run before non-finite values reach ``deform_conv2d``.

torchvision's CPU ``deform_conv2d`` indexes the input at positions computed from the offsets; a NaN or infinite offset
becomes an out-of-range index and the process dies with a segmentation fault, before detectron2's ``SimpleTrainer``
can raise its ``FloatingPointError`` on the non-finite loss of that step. :func:`check_finite` raises that same error
(with the iteration, as detectron2 does) instead.
"""
import torch

__all__ = ["check_finite", "check_deform_conv_inputs", "clamp_offsets"]


def _iteration():
    try:
        from detectron2.utils.events import get_event_storage

        return get_event_storage().iter
    except (AssertionError, IndexError):  # no EventStorage open: not inside a detectron2 trainer
        return None


def check_finite(where, **tensors):
    """Raise FloatingPointError unless every tensor is finite (one reduction each, one host read in all).

    Args:
        where (str): what is checked, for the message (e.g. "ModulatedDeformConv").
        **tensors (Tensor | None): named tensors; None entries are ignored.

    Raises:
        FloatingPointError: "<where>: non-finite <name> at iteration=<i>!" (iteration from detectron2's event storage,
            "?" outside a trainer), with the count of NaN and infinite values.
    """
    named = [(name, t) for name, t in tensors.items() if t is not None]
    if not named:
        return
    # a single host read: on CUDA each bool() is a synchronisation
    if bool(torch.stack([torch.isfinite(t).all() for _, t in named]).all()):
        return
    for name, t in named:
        if bool(torch.isfinite(t).all()):
            continue
        num_nan, num_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
        it = _iteration()
        raise FloatingPointError(
            f"{where}: non-finite {name} at iteration={'?' if it is None else it}! ({num_nan} NaN, {num_inf} inf of "
            f"{t.numel()} values; torchvision's deform_conv2d would crash on them.) Training diverged: lower "
            "SOLVER.BASE_LR or set SOLVER.CLIP_GRADIENTS.ENABLED True.")


def check_deform_conv_inputs(module, inputs):
    """``forward_pre_hook`` of ``ModulatedDeformConv``: ``check_finite`` on (x, offset, mask) in training on every
    device, and at inference on the CPU. torchvision's CPU kernel segfaults on a non-finite offset; its CUDA kernel
    fails with a CUDA error on an infinite one (H100, torch 2.11), which breaks the CUDA context. At CUDA inference
    the check is skipped (it would cost a host-device synchronisation per convolution): there
    ``ModulatedDeformConv.forward`` clamps the offsets (``clamp_offsets``), which turns an infinite offset into an
    out-of-map sample, and a NaN offset gives NaN outputs without a crash. Skipped while tracing (fvcore's FLOP
    count)."""
    x = inputs[0]
    if torch.jit.is_tracing() or torch.jit.is_scripting() or not (module.training or x.device.type == "cpu"):
        return None
    names = ("x", "offset", "mask")
    check_finite(type(module).__name__, **dict(zip(names, inputs)))
    return None


def clamp_offsets(offset, height, width, padding, dilation, kernel_size):
    """Clamp deformable-conv offsets to +-L pixels, L large enough that a clamped sample still lies outside the map.

    Exact: a sample whose offset exceeds L in magnitude is outside the (height, width) input whatever its kernel tap
    and output position, so it contributes 0 and has zero gradient, before and after clamping (clamp's gradient is 0
    there too). Why: a huge finite offset (1e30) overflows the integer sample index of torchvision's CUDA kernel and
    fails with a CUDA error (H100, torch 2.11); an infinite one likewise.

    Args:
        offset (Tensor): (B, 2*kh*kw, H', W') in input pixels.
        height, width (int): the input's H, W. padding, dilation ((int, int) | int), kernel_size ((int, int)).

    Returns:
        Tensor: the clamped offsets (NaN stays NaN).
    """
    pad = max(padding) if isinstance(padding, (tuple, list)) else padding
    dil = max(dilation) if isinstance(dilation, (tuple, list)) else dilation
    bound = float(2 * (height + width + 2 * pad + dil * max(kernel_size) + 2))
    return offset.clamp(-bound, bound)
