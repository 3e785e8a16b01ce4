"""GGNet inference (Sec. 3.4): batched decoding (``decode``) and the post-processor that applies the decoding presets
and maps results to original pixels (``HOIPostProcessor``)."""
from .decode import (
    MATCH_RULES,
    clip_boxes_authors,
    decode_actpoints,
    decode_boxes,
    decode_hoi,
    duplicate_triplets,
    head_candidates,
    heatmap_peaks,
    match_points,
    match_points_authors,
    topk_peaks,
)
from .hoi_postprocessor import BOX_CLIPS, HOIPostProcessor

__all__ = ["MATCH_RULES", "BOX_CLIPS", "HOIPostProcessor", "clip_boxes_authors", "decode_actpoints", "decode_boxes",
           "decode_hoi", "duplicate_triplets", "head_candidates", "heatmap_peaks", "match_points",
           "match_points_authors", "topk_peaks"]
