"""Config set-up shared by train_net.py, the demo and the quickstart."""
import torch
from detectron2.config import get_cfg
from detectron2.engine import default_setup

from ggnet_d2.config import add_ggnet_config
from ggnet_d2.data import configure_hoi_datasets

__all__ = ["setup_cfg"]


def setup_cfg(config_file, opts=(), args=None):
    """Build a frozen GGNet config: detectron2 defaults + GGNet keys + ``config_file`` + ``opts``.

    The device is chosen automatically: a config asking for CUDA runs on the CPU where no GPU exists. With ``args``
    (from ``default_argument_parser``) detectron2's ``default_setup`` also runs (logging, output dir, seeds).

    Raises:
        FileNotFoundError: when ``config_file`` does not exist.
    """
    cfg = get_cfg()
    add_ggnet_config(cfg)
    if config_file:
        cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        cfg.MODEL.DEVICE = "cpu"
    cfg.freeze()
    configure_hoi_datasets(cfg)
    if args is not None:
        default_setup(cfg, args)
    return cfg
