"""GGNet model: backbones, heads, losses, decoding and checkpoint conversion; importing registers "GGNet" in
META_ARCH_REGISTRY and the three backbones in BACKBONE_REGISTRY."""
from . import backbone  # noqa: F401
from . import meta_arch  # noqa: F401
from .checkpoint import GGNetCheckpointer, convert_reference_state_dict
from .meta_arch import GGNet

__all__ = ["GGNet", "GGNetCheckpointer", "convert_reference_state_dict"]
