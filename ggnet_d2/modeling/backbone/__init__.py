"""GGNet backbones, registered in detectron2's BACKBONE_REGISTRY on import."""
from .dla import build_dla34_backbone
from .hourglass import build_hourglass104_backbone
from .resnet_deconv import build_resnet_deconv_backbone

__all__ = ["build_dla34_backbone", "build_hourglass104_backbone", "build_resnet_deconv_backbone"]
