from .launch import launch_hoi
from .setup import setup_cfg
from .trainer import GGNetTrainer, create_ddp_model

__all__ = ["GGNetTrainer", "create_ddp_model", "launch_hoi", "setup_cfg"]
