"""The training speed options of a config (issue 24: the fastest exact configuration), applied to a built model.

Keys (ggnet_d2/config.py): MODEL.CHANNELS_LAST (memory format), MODEL.COMPILE (``torch.compile`` of the backbone and
the heads), SOLVER.AMP.ENABLED / SOLVER.AMP.PRECISION (float16 through detectron2's AMPTrainer, bfloat16 through
GGNet's own autocast; deformable convolutions and losses stay float32), SOLVER.ADAM_FUSED (GGNetTrainer's
optimizer) and detectron2's CUDNN_BENCHMARK (set by ``default_setup``).
"""
import logging

import torch

from ggnet_d2.layers import AMP_PRECISIONS

__all__ = ["apply_speed_options", "check_amp_precision"]

logger = logging.getLogger(__name__)


def check_amp_precision(cfg):
    """Raises ValueError for an unknown SOLVER.AMP.PRECISION."""
    if cfg.SOLVER.AMP.PRECISION not in AMP_PRECISIONS:
        raise ValueError(f"SOLVER.AMP.PRECISION must be one of {sorted(AMP_PRECISIONS)}, got "
                         f"{cfg.SOLVER.AMP.PRECISION!r}")


def apply_speed_options(model, cfg):
    """Channels-last parameters (MODEL.CHANNELS_LAST) and in-place ``nn.Module.compile`` of ``model.backbone`` and
    each of ``model.heads`` (MODEL.COMPILE; in place, so parameter names and checkpoints are unchanged). Both leave
    the outputs unchanged up to the summation order of the kernels chosen. Returns ``model``."""
    if cfg.MODEL.CHANNELS_LAST:
        model.to(memory_format=torch.channels_last)  # 4-d parameters and buffers; convs then produce channels-last
    if cfg.MODEL.COMPILE:
        model.backbone.compile()
        for head in model.heads:
            head.compile()
    if cfg.MODEL.CHANNELS_LAST or cfg.MODEL.COMPILE:
        logger.info(f"Speed options: channels-last {cfg.MODEL.CHANNELS_LAST}, torch.compile {cfg.MODEL.COMPILE}")
    return model
