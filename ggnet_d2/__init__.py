"""ggnet_d2: GGNet (Glance and Gaze, CVPR 2021) one-stage HOI detection as a detectron2 extension.

Importing this package registers every GGNet component into detectron2's registries (META_ARCH_REGISTRY,
BACKBONE_REGISTRY, DatasetCatalog/MetadataCatalog), as detectron2's own projects do.
"""
from .config import add_ggnet_config
from . import data  # noqa: F401  registers the built-in HOI datasets
from . import modeling  # noqa: F401  registers GGNet and its backbones
from . import evaluation  # noqa: F401

__version__ = "0.1.0"
__all__ = ["add_ggnet_config"]
