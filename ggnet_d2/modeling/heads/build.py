"""The heads of one backbone feature map, from the config: GGNet's (``HOIHeads``) or a Table 3 aggregation variant
(``AggregationHOIHeads``), with the configured bias initialisation."""
from ...config_choices import AGGREGATION_GLANCE_GAZE
from .aggregation_heads import INTERACTION_AGGREGATIONS, AggregationHOIHeads
from .bias_init import apply_head_bias_init
from .hoi_heads import HOIHeads

__all__ = ["build_hoi_heads"]


def build_hoi_heads(cfg, in_channels, text_embeddings=None):
    """Heads for a (B, ``in_channels``, H, W) feature map, per MODEL.GGNET (INTERACTION_AGGREGATION, HEAD_BIAS_INIT,
    VERB_CLASSIFIER and the head sizes); ``text_embeddings`` (V, D) for VERB_CLASSIFIER "text".

    Raises:
        ValueError: an unknown INTERACTION_AGGREGATION, or an aggregation variant with gaze steps (the variants
            replace the glance and gaze steps: NUM_GAZE_STEPS must be 0) or with the text verb classifier.
    """
    g = cfg.MODEL.GGNET
    aggregation = g.INTERACTION_AGGREGATION
    if aggregation not in INTERACTION_AGGREGATIONS:
        raise ValueError(f"MODEL.GGNET.INTERACTION_AGGREGATION must be one of {INTERACTION_AGGREGATIONS}, got "
                         f"{aggregation!r}")
    if aggregation == AGGREGATION_GLANCE_GAZE:
        heads = HOIHeads(in_channels, num_classes=g.NUM_CLASSES, num_verbs=g.NUM_VERBS, head_conv=g.HEAD_CONV,
                         num_actpoints=g.NUM_ACTPOINTS, num_gaze_steps=g.NUM_GAZE_STEPS,
                         share_gaze_convs=g.SHARE_GAZE_CONVS, apm_per_verb=g.APM_PER_VERB,
                         bias_init=g.OBJ_HEATMAP_BIAS_INIT, apm_input=g.APM_INPUT,
                         deform_conv_backend=cfg.MODEL.DEFORM_CONV_BACKEND, verb_classifier=g.VERB_CLASSIFIER,
                         text_embeddings=text_embeddings, logit_scale_init=g.TEXT.LOGIT_SCALE_INIT)
    else:
        if g.NUM_GAZE_STEPS != 0:
            raise ValueError(f"INTERACTION_AGGREGATION {aggregation!r} replaces the glance and gaze steps (Table 3, "
                             f"built on the PPDM baseline): set MODEL.GGNET.NUM_GAZE_STEPS 0, got {g.NUM_GAZE_STEPS}")
        if g.VERB_CLASSIFIER != "conv":
            raise ValueError(f"INTERACTION_AGGREGATION {aggregation!r} has a 1x1 conv verb classifier: set "
                             f"MODEL.GGNET.VERB_CLASSIFIER 'conv', got {g.VERB_CLASSIFIER!r}")
        heads = AggregationHOIHeads(in_channels, num_classes=g.NUM_CLASSES, num_verbs=g.NUM_VERBS,
                                    aggregation=aggregation, head_conv=g.HEAD_CONV, num_actpoints=g.NUM_ACTPOINTS,
                                    apm_per_verb=g.APM_PER_VERB, person_class_id=g.PERSON_CLASS_ID,
                                    topk_humans=g.TEST.TOPK_HUMANS, topk_objects=g.TEST.TOPK_OBJECTS,
                                    bias_init=g.OBJ_HEATMAP_BIAS_INIT,
                                    deform_conv_backend=cfg.MODEL.DEFORM_CONV_BACKEND)
    return apply_head_bias_init(heads, g.HEAD_BIAS_INIT)
