"""Stop a diverging run before non-finite values reach ``deform_conv2d``.

torchvision's CPU ``deform_conv2d`` indexes the input at positions computed from the offsets; a NaN or infinite offset
becomes an out-of-range index and the process dies with a segmentation fault, before detectron2's ``SimpleTrainer``
can raise its ``FloatingPointError`` on the non-finite loss of that step. :func:`check_finite` raises that same error
(with the iteration, as detectron2 does) instead.
"""
import torch

__all__ = ["check_finite", "check_deform_conv_inputs"]


def _iteration():
    try:
        from detectron2.utils.events import get_event_storage

        return get_event_storage().iter
    except (AssertionError, IndexError):  # no EventStorage open: not inside a detectron2 trainer
        return None


def check_finite(where, **tensors):
    """Raise FloatingPointError unless every tensor is finite (one reduction each, no copy).

    Args:
        where (str): what is checked, for the message (e.g. "ModulatedDeformConv").
        **tensors (Tensor | None): named tensors; None entries are ignored.

    Raises:
        FloatingPointError: "<where>: non-finite <name> at iteration=<i>!" (iteration from detectron2's event storage,
            "?" outside a trainer), with the count of NaN and infinite values.
    """
    for name, t in tensors.items():
        if t is None or bool(torch.isfinite(t).all()):
            continue
        num_nan, num_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
        it = _iteration()
        raise FloatingPointError(
            f"{where}: non-finite {name} at iteration={'?' if it is None else it}! ({num_nan} NaN, {num_inf} inf of "
            f"{t.numel()} values; torchvision's deform_conv2d would crash on them.) Training diverged: lower "
            "SOLVER.BASE_LR or set SOLVER.CLIP_GRADIENTS.ENABLED True.")


def check_deform_conv_inputs(module, inputs):
    """``forward_pre_hook`` of ``ModulatedDeformConv``: ``check_finite`` on (x, offset, mask) on the CPU, where the
    crash happens (the check costs one pass over the input, a fraction of the convolution). Not on CUDA: there the
    kernels bound-check every sample (a NaN position compares false and samples zero), the loss turns non-finite and
    detectron2's own FloatingPointError fires, and a check would cost a host-device synchronisation per gaze step.
    Skipped while tracing (fvcore's FLOP count)."""
    x = inputs[0]
    if torch.jit.is_tracing() or torch.jit.is_scripting() or x.device.type != "cpu":
        return None
    names = ("x", "offset", "mask")
    check_finite(type(module).__name__, **dict(zip(names, inputs)))
    return None
