"""Training hooks of GGNet (detectron2 ``HookBase``)."""
from detectron2.engine import HookBase

from ggnet_d2.layers import raise_if_nonfinite

__all__ = ["FiniteCheckHook"]


class FiniteCheckHook(HookBase):
    """Every ``period`` iterations and at the last one, read the deformable convolutions' deferred non-finite flags
    (``ggnet_d2.layers.finite_guard``, one host read) and end training with detectron2's ``FloatingPointError``
    naming the first iteration that saw a non-finite input. Inside the steps in between nothing waits for the host.

    Args:
        period (int): iterations between checks (``SOLVER.FINITE_CHECK_PERIOD``).
    """

    def __init__(self, period):
        if period < 1:
            raise ValueError(f"SOLVER.FINITE_CHECK_PERIOD must be >= 1, got {period}")
        self._period = period

    def after_step(self):
        done = self.trainer.iter + 1
        if done % self._period == 0 or done == self.trainer.max_iter:
            raise_if_nonfinite(self.trainer.model)
