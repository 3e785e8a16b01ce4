"""Which operators of a training step would run on the host next to an accelerator -- found without one.

Method: the model (parameters, buffers) and the optimizer state are moved to PyTorch's ``meta`` device, which stands
in for the accelerator: meta tensors have shapes and dtypes but no data, and every operator on them is a shape
computation. The step is GGNetTrainer's own (``build_step_trainer``: forward, losses, backward, optimizer step), fed
CPU inputs as the data loader gives them. Code that creates a tensor without naming a device (``torch.tensor(x)``,
``torch.as_tensor(shape)``) or computes on the host gets a CPU tensor there exactly as it would next to a CUDA model,
and ``OpCensus("meta")`` classifies every operator by the devices of its tensors: an operator with only CPU tensors
is host work (``cpu_compute``, or ``cpu_staging`` for input staging and factories), one with a CPU 0-dim tensor
among meta ones is a host scalar fed to the device (``cpu_scalar_operand``). A host read of a device value fails on
meta (it has none), so a step that completes here has no ``.item()`` / ``.cpu()`` / ``bool()`` of a device tensor.

Code that branches on ``device.type == "cpu"`` takes its non-CPU branch on meta, as on CUDA (the deformable
convolution's backend "auto" and finite check "auto", ``gather_at_index``'s bounds check). Differences from CUDA:
PyTorch's optimizers pick their foreach implementation only for CUDA-like devices, so the census asks for it
explicitly (``foreach=True``, what Adam and SGD use on CUDA by default).
"""
import torch
from detectron2.utils.events import EventStorage

from ggnet_d2.utils.op_census import OpCensus

from .deferred_metrics import WRITER_PERIOD, build_step_trainer

__all__ = ["meta_step_census"]


def _repeat(batch):
    while True:
        yield batch


def meta_step_census(model, build_optimizer, batch, warmup=1):
    """Census of one steady-state training step of ``model`` on the meta device.

    Args:
        model (nn.Module): a training model returning a loss dict (moved to meta in place).
        build_optimizer (callable): model -> optimizer (e.g. ``GGNetTrainer.build_optimizer`` with its cfg); its
            param groups get ``foreach=True`` where the optimizer has that option (module docstring).
        batch (list[dict]): training inputs with CPU tensors, as the data loader yields them.
        warmup (int): steps before the counted one (the optimizer creates its state in the first).

    Returns:
        OpCensus: the counted step's operators by class (``OpCensus.summary()``).

    Raises:
        NotImplementedError / RuntimeError: from PyTorch, where the step reads a device value on the host.
    """
    model = model.to("meta").train()
    optimizer = build_optimizer(model)
    for group in optimizer.param_groups:
        if "foreach" in group and not group.get("fused"):
            group["foreach"] = True
    # max_iter None and iterations below the period: no flush, i.e. the steps between two host reads of the losses
    trainer = build_step_trainer(model, _repeat(batch), optimizer, amp=False, period=WRITER_PERIOD, max_iter=None)
    with EventStorage(0) as storage:
        for i in range(warmup):
            storage.iter = trainer.iter = i
            trainer.run_step()
        storage.iter = trainer.iter = warmup
        with OpCensus("meta") as census:
            trainer.run_step()
    return census
