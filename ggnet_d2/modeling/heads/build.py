"""The heads of one backbone feature map, from the config: GGNet's (``HOIHeads``) or a Table 3 aggregation variant
(``AggregationHOIHeads``), with the configured bias initialisation."""
from .aggregation_heads import INTERACTION_AGGREGATIONS, AggregationHOIHeads
from .bias_init import apply_head_bias_init
from .hoi_heads import HOIHeads

__all__ = ["build_hoi_heads"]


def build_hoi_heads(cfg, in_channels):
    """Heads for a (B, ``in_channels``, H, W) feature map, per MODEL.GGNET (INTERACTION_AGGREGATION, HEAD_BIAS_INIT
    and the head sizes).

    Raises:
        ValueError: an unknown INTERACTION_AGGREGATION, or an aggregation variant with gaze steps (the variants
            replace the glance and gaze steps: NUM_GAZE_STEPS must be 0).
    """
    g = cfg.MODEL.GGNET
    aggregation = g.get("INTERACTION_AGGREGATION", "glance_gaze")
    if aggregation not in INTERACTION_AGGREGATIONS:
        raise ValueError(f"MODEL.GGNET.INTERACTION_AGGREGATION must be one of {INTERACTION_AGGREGATIONS}, got "
                         f"{aggregation!r}")
    if aggregation == "glance_gaze":
        heads = HOIHeads(in_channels, num_classes=g.NUM_CLASSES, num_verbs=g.NUM_VERBS, head_conv=g.HEAD_CONV,
                         num_actpoints=g.NUM_ACTPOINTS, num_gaze_steps=g.NUM_GAZE_STEPS,
                         share_gaze_convs=g.SHARE_GAZE_CONVS, apm_per_verb=g.APM_PER_VERB,
                         bias_init=g.OBJ_HEATMAP_BIAS_INIT, apm_input=g.APM_INPUT,
                         deform_conv_backend=cfg.MODEL.DEFORM_CONV_BACKEND)
    else:
        if g.NUM_GAZE_STEPS != 0:
            raise ValueError(f"INTERACTION_AGGREGATION {aggregation!r} replaces the glance and gaze steps (Table 3, "
                             f"built on the PPDM baseline): set MODEL.GGNET.NUM_GAZE_STEPS 0, got {g.NUM_GAZE_STEPS}")
        heads = AggregationHOIHeads(in_channels, num_classes=g.NUM_CLASSES, num_verbs=g.NUM_VERBS,
                                    aggregation=aggregation, head_conv=g.HEAD_CONV, num_actpoints=g.NUM_ACTPOINTS,
                                    apm_per_verb=g.APM_PER_VERB, person_class_id=g.PERSON_CLASS_ID,
                                    topk_humans=g.TEST.TOPK_HUMANS, topk_objects=g.TEST.TOPK_OBJECTS,
                                    bias_init=g.OBJ_HEATMAP_BIAS_INIT,
                                    deform_conv_backend=cfg.MODEL.DEFORM_CONV_BACKEND)
    return apply_head_bias_init(heads, g.get("HEAD_BIAS_INIT", "zero"))
