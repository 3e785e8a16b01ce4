"""Loss normalisers summed over all training processes, so N processes with batch b train like one with batch N*b.

Each loss is ``sum over the process's batch / count`` (count: positives of a focal loss, mask entries of an L1
loss). Under DistributedDataParallel every process divides by its own count and DDP then *averages* the gradients
over the N processes, which is not the gradient of one loss over the union batch. Dividing each process's sum by
``count_all / N`` instead (count_all summed with all_reduce, as CenterNet2's ``reduce_sum(num_pos) / world_size``)
makes the averaged gradient ``(1/N) sum_i grad(sum_i) * N / count_all = grad(sum_all) / count_all``: exactly the
single-process gradient. The clamps are the single-process ones, applied to the global count (max(N, 1) for the
focal losses, + 1e-4 for the L1 losses), so the equality also holds when a batch has fewer positives than processes.
"""
import torch
import torch.distributed as dist
from detectron2.utils import comm

__all__ = ["cross_process_normalizer"]


def cross_process_normalizer(counts, floors):
    """Per-process normalisers of the losses, from this process's counts.

    Args:
        counts (dict[str, Tensor]): name -> scalar count on this process (float tensors on the loss device).
        floors (dict[str, tuple[str, float]]): name -> ("max", m) for max(count_all, m) or ("add", e) for
            count_all + e.

    Returns:
        dict[str, Tensor]: name -> clamp(count_all) / world_size; with one process, the single-process normaliser.
        All counts travel in one all_reduce, so every process must call this once per forward with the same names.
    """
    names = sorted(counts)
    totals = torch.stack([counts[n].detach().float().reshape(()) for n in names])
    world_size = comm.get_world_size()
    if world_size > 1:
        totals = totals.clone()
        dist.all_reduce(totals)
    out = {}
    for name, total in zip(names, totals):
        how, value = floors[name]
        clamped = total.clamp(min=value) if how == "max" else total + value
        out[name] = clamped / world_size
    return out
