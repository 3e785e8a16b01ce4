"""Total batch vs number of processes: make SOLVER.IMS_PER_BATCH divisible by the world size, readably.

detectron2 reads SOLVER.IMS_PER_BATCH as the *total* batch over all processes and asserts that it divides by the
world size (``detectron2/data/build.py``, ``build_batch_data_loader``). The GGNet paper's batches (23 on HICO-DET, 7 on
V-COCO) come from the authors' single-process DataParallel training and divide by almost nothing, so
``--num-gpus 8`` would stop at start. The rule here:

    new total = the multiple of N nearest to IMS_PER_BATCH (a tie goes up), and at least N;
    BASE_LR x (new / old)                          (linear scaling rule, Goyal et al. 2017);
    MAX_ITER, STEPS, WARMUP_ITERS, CHECKPOINT_PERIOD, EVAL_PERIOD x (old / new)   (same number of epochs).

The scaling itself is detectron2's ``DefaultTrainer.auto_scale_workers`` (the same list of keys and rounding), called
with the batch sizes in place of the worker counts (its factor is "new / reference"; here one "worker" is one image).
"""
import logging

from detectron2.engine import DefaultTrainer

__all__ = ["divisible_total_batch", "fit_batch_to_world_size"]

logger = logging.getLogger(__name__)


def divisible_total_batch(total_batch, world_size):
    """The multiple of ``world_size`` nearest to ``total_batch``; a tie rounds up; never below ``world_size``.

    Examples: (23, 8) -> 24, (23, 7) -> 21, (23, 2) -> 24, (7, 2) -> 8, (7, 3) -> 6, (7, 8) -> 8.

    Raises:
        ValueError: when either argument is below 1.
    """
    total_batch, world_size = int(total_batch), int(world_size)
    if total_batch < 1 or world_size < 1:
        raise ValueError(f"total batch ({total_batch}) and world size ({world_size}) must be >= 1")
    lower = total_batch // world_size * world_size
    upper = lower + world_size if lower != total_batch else lower
    nearest = upper if upper - total_batch <= total_batch - lower else lower
    return max(nearest, world_size)


def fit_batch_to_world_size(cfg, world_size):
    """Return ``cfg`` with SOLVER.IMS_PER_BATCH divisible by ``world_size`` (the module docstring's rule).

    Unchanged (the same object) when it divides already. Otherwise a new config (frozen if ``cfg`` was) with the
    batch, LR and iteration counts rescaled, and one WARNING log line giving old and new figures.

    Args:
        cfg (CfgNode): a GGNet config.
        world_size (int): number of training processes (detectron2's ``comm.get_world_size()``).

    Raises:
        ValueError: for a non-positive batch or world size.
    """
    old = int(cfg.SOLVER.IMS_PER_BATCH)
    new = divisible_total_batch(old, world_size)
    if new == old:
        return cfg
    s = cfg.SOLVER
    before = (s.BASE_LR, s.MAX_ITER, tuple(s.STEPS))
    frozen = cfg.is_frozen()
    per_image = cfg.clone()
    per_image.defrost()
    reference = per_image.SOLVER.REFERENCE_WORLD_SIZE
    per_image.SOLVER.REFERENCE_WORLD_SIZE = old  # auto_scale_workers scales by new / REFERENCE_WORLD_SIZE
    scaled = DefaultTrainer.auto_scale_workers(per_image, new)
    scaled.SOLVER.REFERENCE_WORLD_SIZE = reference  # keep the user's detectron2 setting (0: off)
    if frozen:
        scaled.freeze()
    t = scaled.SOLVER
    # WARNING, not INFO: the experiment differs from the config file, and setup_cfg runs before logging is set up.
    logger.warning(
        f"SOLVER.IMS_PER_BATCH {old} does not divide by {world_size} processes: total batch {old} -> {new} "
        f"({new // world_size} per process), BASE_LR {before[0]:g} -> {t.BASE_LR:g} (x {new}/{old}), "
        f"MAX_ITER {before[1]} -> {t.MAX_ITER}, STEPS {before[2]} -> {tuple(t.STEPS)} (same number of epochs)")
    return scaled
