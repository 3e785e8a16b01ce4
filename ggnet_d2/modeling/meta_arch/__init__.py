"""GGNet meta-architecture, registered in detectron2's META_ARCH_REGISTRY on import."""
from .ggnet import GGNet

__all__ = ["GGNet"]
