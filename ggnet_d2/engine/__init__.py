from .config_check import ConfigError, check_ggnet_config
from .launch import launch_hoi
from .setup import setup_cfg
from .trainer import GGNetTrainer, create_ddp_model

__all__ = ["ConfigError", "GGNetTrainer", "check_ggnet_config", "create_ddp_model", "launch_hoi", "setup_cfg"]
