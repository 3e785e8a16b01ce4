"""Config set-up shared by train_net.py, the demo and the quickstart."""
import torch
from detectron2.config import get_cfg
from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ggnet_d2.config import add_ggnet_config
from ggnet_d2.data import configure_hoi_datasets
from ggnet_d2.data.datasets import register_custom_hoi_datasets

__all__ = ["setup_cfg"]


def setup_cfg(config_file, opts=(), args=None):
    """Build a frozen GGNet config: detectron2 defaults + GGNet keys + ``config_file`` + ``opts``.

    The device is chosen automatically: a config asking for CUDA runs on the CPU where no GPU exists. The datasets
    of ``DATASETS.HOI.CUSTOM`` are registered and every HOI dataset gets the bad-record policy of ``DATASETS.HOI``
    (this runs in every training process). With ``args`` (from ``default_argument_parser``) detectron2's
    ``default_setup`` also runs (logging, output dir, seeds), and the ``ggnet_d2`` logger writes to the console and
    ``OUTPUT_DIR/log.txt`` (main process) as detectron2's does.

    Raises:
        FileNotFoundError: when ``config_file`` does not exist.
        ValueError: a bad ``DATASETS.HOI`` entry (policy, tolerance, custom dataset).
    """
    cfg = get_cfg()
    add_ggnet_config(cfg)
    if config_file:
        cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        cfg.MODEL.DEVICE = "cpu"
    cfg.freeze()
    register_custom_hoi_datasets(cfg)
    configure_hoi_datasets(cfg)
    if args is not None:
        default_setup(cfg, args)
        setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="ggnet_d2")
    return cfg
