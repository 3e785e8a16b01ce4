"""Checks that a training run on CUDA stays on CUDA (no silent CPU model, no AMP off CUDA)."""
import logging

import torch

__all__ = ["check_amp_device", "check_model_device", "check_outputs_on_first_forward"]

logger = logging.getLogger(__name__)


def check_amp_device(cfg):
    """detectron2's AMPTrainer autocasts with ``torch.cuda.amp`` only and asserts CUDA at its first step; say so at
    start instead.

    Raises:
        ValueError: when SOLVER.AMP.ENABLED with PRECISION float16 and MODEL.DEVICE is not CUDA (bfloat16, GGNet's
            own autocast, also runs on the CPU).
    """
    if cfg.SOLVER.AMP.ENABLED and cfg.SOLVER.AMP.PRECISION == "float16" and not str(cfg.MODEL.DEVICE).startswith(
            "cuda"):
        raise ValueError(f"SOLVER.AMP.ENABLED needs MODEL.DEVICE cuda (detectron2's AMPTrainer is CUDA-only), got "
                         f"MODEL.DEVICE {cfg.MODEL.DEVICE!r}; set SOLVER.AMP.ENABLED False or SOLVER.AMP.PRECISION bfloat16 "
                         "for CPU training")


def check_model_device(model, device):
    """Every parameter and buffer of ``model`` is on the device type of ``device`` (e.g. "cuda", "cuda:0", "cpu").

    Raises:
        RuntimeError: naming the first tensor found elsewhere.
    """
    kind = torch.device(device).type
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        if tensor is not None and tensor.device.type != kind:
            raise RuntimeError(f"MODEL.DEVICE is {device} but {name} is on {tensor.device}")


def check_outputs_on_first_forward(model, device):
    """Register a one-shot forward hook: the first training forward's loss tensors must be on ``device``'s type.

    Catches a model that moves its work to the CPU internally (a loss computed on the CPU would come back there).
    The hook removes itself after the first call. Returns the hook handle.

    Raises (at that first forward):
        RuntimeError: naming the losses that are elsewhere.
    """
    kind = torch.device(device).type
    handle = None

    def hook(module, inputs, outputs):
        handle.remove()
        if not isinstance(outputs, dict):
            return
        wrong = {k: str(v.device) for k, v in outputs.items() if torch.is_tensor(v) and v.device.type != kind}
        if wrong:
            raise RuntimeError(f"MODEL.DEVICE is {device} but the first forward returned losses on {wrong}")
        logger.info("First training forward: parameters, buffers and %d loss tensors on %s", len(outputs), kind)

    handle = model.register_forward_hook(hook)
    return handle
