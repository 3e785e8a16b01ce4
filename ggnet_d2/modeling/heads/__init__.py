"""GGNet's heads (Sec. 3.2)."""
from .apm_head import APMHead
from .bias_init import HEAD_BIAS_INITS, apply_head_bias_init
from .glance_gaze_head import GlanceGazeHead
from .hoi_heads import HOIHeads
from .object_head import ObjectHead

__all__ = ["APMHead", "GlanceGazeHead", "HOIHeads", "ObjectHead", "HEAD_BIAS_INITS", "apply_head_bias_init"]
