"""GGNet's heads (Sec. 3.2)."""
from .apm_head import APMHead
from .glance_gaze_head import GlanceGazeHead
from .hoi_heads import HOIHeads
from .object_head import ObjectHead

__all__ = ["APMHead", "GlanceGazeHead", "HOIHeads", "ObjectHead"]
