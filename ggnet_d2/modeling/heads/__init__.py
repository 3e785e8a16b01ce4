"""GGNet's heads (Sec. 3.2)."""
from .aggregation_heads import INTERACTION_AGGREGATIONS, AggregationHOIHeads
from .apm_head import APMHead
from .bias_init import HEAD_BIAS_INITS, apply_head_bias_init
from .build import build_hoi_heads
from .glance_gaze_head import GlanceGazeHead
from .hoi_heads import HOIHeads
from .object_head import ObjectHead

__all__ = ["APMHead", "GlanceGazeHead", "HOIHeads", "ObjectHead", "HEAD_BIAS_INITS", "apply_head_bias_init",
           "AggregationHOIHeads", "INTERACTION_AGGREGATIONS", "build_hoi_heads"]
