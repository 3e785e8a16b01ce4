"""Regions kept in float32 under automatic mixed precision: the deformable convolutions and the losses."""
import contextlib
import functools

import torch

__all__ = ["float32_region", "AMP_PRECISIONS"]

# SOLVER.AMP.PRECISION values (the name of the ``precision`` argument of later detectron2 AMPTrainers)
AMP_PRECISIONS = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def float32_region(fn):
    """Decorator: run ``fn`` with every active autocast (CPU, CUDA) switched off, so its ops keep the float32 of
    their inputs. Callers cast half-precision inputs with ``.float()``.

    Why: the deformable convolution samples at fractional offsets (bilinear weights in half precision move its
    samples) and the focal losses take logs and 4th/7th powers of probabilities near 0 and 1; both are the ops the
    issue names as needing a numerically safe precision.
    """

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with contextlib.ExitStack() as stack:
            for device in ("cuda", "cpu"):
                if torch.is_autocast_enabled(device):
                    stack.enter_context(torch.autocast(device_type=device, enabled=False))
            return fn(*args, **kwargs)

    return wrapped
