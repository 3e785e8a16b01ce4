"""Stop a diverging run before non-finite values reach ``deform_conv2d``.

torchvision's CPU ``deform_conv2d`` indexes the input at positions computed from the offsets; a NaN or infinite offset
becomes an out-of-range index and the process dies with a segmentation fault, before detectron2's ``SimpleTrainer``
can raise its ``FloatingPointError`` on the non-finite loss of that step. :func:`check_finite` raises that same error
(with the iteration, as detectron2 does) instead.

Two modes (``ModulatedDeformConv.finite_check``): "sync" checks before the op with one host read (the CPU, where the
crash happens and a host read costs nothing); "deferred" records, on the device and without a host read, the first
iteration at which a module saw a non-finite input (``record_nonfinite``), and ``raise_if_nonfinite`` -- run once per
logging period by ``engine.hooks.FiniteCheckHook`` -- reads all flags in one host read and raises the same error
naming that iteration. "auto" (default) is "sync" on the CPU and "deferred" elsewhere: on CUDA the offset clamp
(``clamp_offsets``) already prevents the kernel's crash, and a host read per convolution cost 2-3% of a step (README).
"""
import torch

__all__ = ["check_finite", "check_deform_conv_inputs", "clamp_offsets", "record_nonfinite", "raise_if_nonfinite",
           "FINITE_CHECK_MODES", "NO_NONFINITE"]

FINITE_CHECK_MODES = ("auto", "sync", "deferred")
# value of a module's ``nonfinite_iter`` buffer while it has seen only finite inputs; -2 = seen outside a trainer
NO_NONFINITE = -1


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
    """``forward_pre_hook`` of ``ModulatedDeformConv``: checks (x, offset, mask) in training on every device, and at
    inference on the CPU, by ``module.finite_check`` (module docstring): "sync" -> ``check_finite`` (raises at once),
    "deferred" -> ``record_nonfinite`` (no host read). torchvision's CPU kernel segfaults on a non-finite offset; its
    CUDA kernel fails with a CUDA error on an infinite one (H100, torch 2.11), which breaks the CUDA context. At CUDA
    inference nothing is checked: ``ModulatedDeformConv.forward`` clamps the offsets (``clamp_offsets``), which turns
    an infinite offset into an out-of-map sample, and a NaN offset gives NaN outputs without a crash. Skipped while
    tracing (fvcore's FLOP count, export).

    Raises:
        FloatingPointError: "sync" mode, a non-finite input.
        ValueError: "deferred" mode on the CPU with torchvision's kernel, which would crash before any later check.
    """
    x = inputs[0]
    if torch.jit.is_tracing() or torch.jit.is_scripting() or not (module.training or x.device.type == "cpu"):
        return None
    names = ("x", "offset", "mask")
    mode = getattr(module, "finite_check", "auto")
    if mode == "auto":
        mode = "sync" if x.device.type == "cpu" else "deferred"
    if mode == "sync":
        check_finite(type(module).__name__, **dict(zip(names, inputs)))
    elif mode == "deferred":
        if x.device.type == "cpu" and module.resolved_backend(x) == "torchvision":
            raise ValueError("finite_check 'deferred' on the CPU needs the gather_gemm backend: torchvision's CPU "
                             "deform_conv2d crashes on non-finite offsets before a deferred check could report them")
        record_nonfinite(module.nonfinite_iter, *inputs)
    else:
        raise ValueError(f"finite_check must be one of {FINITE_CHECK_MODES}, got {mode!r}")
    return None


def record_nonfinite(flag, *tensors):
    """Store the current iteration in ``flag`` (int64 scalar, ``NO_NONFINITE`` while clean) when a tensor holds a
    non-finite value and ``flag`` is still clean -- all on the tensors' device, no host read, so a CUDA step never
    waits for it. The iteration comes from detectron2's event storage (-2 outside a trainer).

    Args:
        flag (Tensor): () int64, on the tensors' device; updated in place.
        *tensors (Tensor | None): None entries are ignored.
    """
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return
    finite = torch.stack([torch.isfinite(t).all() for t in tensors]).all()
    it = _iteration()
    first = ~finite & (flag == NO_NONFINITE)
    flag.copy_(torch.where(first, torch.full_like(flag, -2 if it is None else it), flag))


def raise_if_nonfinite(model):
    """One host read of every deferred non-finite flag of ``model`` (``nonfinite_iter`` buffers); raises for the
    earliest flagged iteration.

    Args:
        model (nn.Module): possibly wrapped (DDP); its ``ModulatedDeformConv`` modules carry the flags.

    Raises:
        FloatingPointError: "<module name> (ModulatedDeformConv): non-finite input at iteration=<i>! ..." (as
            detectron2's message; "?" when flagged outside a trainer).
    """
    named = [(name, buf) for name, buf in model.named_buffers() if name.endswith("nonfinite_iter")]
    if not named:
        return
    values = torch.stack([buf for _, buf in named]).tolist()  # the one host read
    flagged = [(v if v >= 0 else float("inf"), name) for (name, _), v in zip(named, values) if v != NO_NONFINITE]
    if not flagged:
        return
    it, name = min(flagged)
    module = name[: -len(".nonfinite_iter")] if "." in name else "<model>"
    raise FloatingPointError(
        f"{module} (ModulatedDeformConv): non-finite input at iteration={'?' if it == float('inf') else it}! "
        f"({len(flagged)} of {len(named)} deformable convolutions saw NaN or inf in x, offset or mask; checked "
        "without a host read, reported once per period.) Training diverged: lower SOLVER.BASE_LR or set "
        "SOLVER.CLIP_GRADIENTS.ENABLED True.")


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
