"""Which device every ATen operator of a code block ran on: catches CPU work inside a CUDA training step.

``OpCensus`` is a ``TorchDispatchMode``: every operator call below autograd and autocast (forward and backward,
torchvision's deformable convolution included) passes through it with its real tensor arguments. Each call is
classified by the devices of its tensor arguments and results:

- ``target``: everything on the target device (e.g. "cuda");
- ``transfer``: a copy between devices (``_to_copy``, ``copy_``) or a read-back of a device scalar
  (``_local_scalar_dense``, i.e. ``.item()`` / ``int(tensor)``: a device-to-host synchronisation);
- ``cpu_staging``: CPU-only calls of the input-staging kind (stacking and viewing the data loader's CPU tensors
  before they are moved), see ``STAGING_OPS``;
- ``cpu_compute``: any other call with only CPU tensors -- work that should have run on the target device;
- ``mixed``: a call with both CPU (more than one element) and target-device tensors that is not a transfer;
- ``cpu_scalar_operand``: a target-device call with a one-element CPU tensor among its operands (PyTorch reads it on
  the host and passes it as a scalar: no synchronisation, but a host tensor made or kept for it).

A CUDA training step is free of CPU fallbacks when ``cpu_compute`` and ``mixed`` are empty.
"""
from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["OpCensus", "STAGING_OPS"]

STAGING_OPS = frozenset({
    "aten::stack", "aten::cat", "aten::unsqueeze", "aten::view", "aten::_unsafe_view", "aten::reshape",
    "aten::expand", "aten::detach", "aten::alias", "aten::lift_fresh", "aten::empty", "aten::empty_strided",
    "aten::empty_like", "aten::clone", "aten::contiguous", "aten::select", "aten::slice", "aten::squeeze",
    "aten::permute", "aten::transpose", "aten::t", "aten::as_strided",
    # factories: building small CPU tensors is not computing on the CPU
    "aten::zeros", "aten::ones", "aten::full", "aten::arange", "aten::scalar_tensor", "aten::zeros_like",
    # same-device copies and dtype casts, reading a CPU scalar
    "aten::_to_copy", "aten::copy_", "aten::to", "aten::_local_scalar_dense",
})
TRANSFER_OPS = frozenset({"aten::_to_copy", "aten::copy_", "aten::_local_scalar_dense", "aten::to"})


def _name(func):
    packet = getattr(func, "overloadpacket", func)
    name = getattr(packet, "__name__", str(func))
    ns = getattr(func, "namespace", "aten")
    return f"{ns}::{name}"


class OpCensus(TorchDispatchMode):
    """Count operator calls per class (module docstring) while active.

    Args:
        target_device (str | torch.device): the device the step should run on ("cuda", "cpu", "meta").

    Attributes:
        counts (dict[str, Counter]): class -> Counter of operator names ("aten::add", "torchvision::deform_conv2d").
    """

    def __init__(self, target_device):
        super().__init__()
        self.target = torch.device(target_device).type
        self.counts = {k: Counter() for k in ("target", "transfer", "cpu_staging", "cpu_compute", "mixed",
                                              "cpu_scalar_operand")}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        tensors = [x for x in tree_flatten((args, kwargs, out))[0] if isinstance(x, torch.Tensor)]
        self.counts[self._classify(_name(func), tensors)][_name(func)] += 1
        return out

    def _classify(self, name, tensors):
        kinds = {t.device.type for t in tensors}
        if name in TRANSFER_OPS and (len(kinds) > 1 or name == "aten::_local_scalar_dense" and "cpu" not in kinds):
            return "transfer"
        big_cpu = any(t.device.type == "cpu" and t.numel() > 1 for t in tensors)
        if self.target != "cpu" and self.target in kinds and big_cpu:
            return "mixed"
        if self.target != "cpu" and self.target in kinds and "cpu" in kinds:
            return "cpu_scalar_operand"
        if kinds and kinds <= {"cpu"} and self.target != "cpu":
            return "cpu_staging" if name in STAGING_OPS else "cpu_compute"
        return "target"

    def summary(self):
        """dict: class -> total calls, plus ``"cpu_fallback"``: the cpu_compute and mixed operators with counts."""
        out = {k: sum(c.values()) for k, c in self.counts.items()}
        out["cpu_fallback"] = dict(self.counts["cpu_compute"] + self.counts["mixed"])
        return out
