"""Table 3 of the GGNet paper: other ways to aggregate features for interaction prediction, on the PPDM baseline.

Each variant keeps the baseline's object head and point-matching regressor (APM reading the backbone features, as
PPDM) and replaces the interaction classifier's input (MODEL.GGNET.INTERACTION_AGGREGATION):

- ``human_point`` ("I + H"): every pixel's F0 feature concatenated with the F0 feature of its matched human center;
- ``object_point`` ("I + O"): ... of its matched object center;
- ``human_object_points`` ("I + H + O"): both;
- ``actpoints`` ("ActPoints w/o glance and gaze"): one modulated deformable convolution over F0 at n coarse
  ActPoints (offsets and weights predicted from F0), no glance supervision and no progressive gaze steps.

F0 = ReLU(3x3 conv(backbone features)), as the glance features. The human/object center matched to a pixel p is
found by PPDM's point matching (GGNet/PPDM src/lib/models/decode.py ``hoidet_decode``; ``match_points_authors``):
the expected location p - APM offset(p) is matched, among the top-K centers of the object heatmap (3x3 max-pool peaks,
humans: the person channel, objects: every channel), to the one with the largest
``score / ((|dx| + 1)(|dy| + 1))``. The matching reads detached predictions (an argmax has no gradient); gradients
flow into F0 at both ends of the concatenation.
"""
import math

import torch
from torch import nn

from ...config_choices import (AGGREGATION_ACTPOINTS, AGGREGATION_GLANCE_GAZE, AGGREGATION_HUMAN_OBJECT_POINTS,
                               AGGREGATION_HUMAN_POINT, AGGREGATION_OBJECT_POINT, CHOICES)
from ...layers import ModulatedDeformConv, split_offset_mask
from ..postprocess import head_candidates, match_points_authors
from .apm_head import APMHead
from .object_head import ObjectHead

__all__ = ["INTERACTION_AGGREGATIONS", "PointAggregationHead", "ActPointsAggregationHead", "AggregationHOIHeads",
           "matched_center_features"]

# MODEL.GGNET.INTERACTION_AGGREGATION values; "glance_gaze" is GGNet's own interaction branch (HOIHeads).
INTERACTION_AGGREGATIONS = CHOICES["MODEL.GGNET.INTERACTION_AGGREGATION"]
_POINT_PARTS = {AGGREGATION_HUMAN_POINT: ("human",), AGGREGATION_OBJECT_POINT: ("object",),
                AGGREGATION_HUMAN_OBJECT_POINTS: ("human", "object")}


def matched_center_features(features, offsets, centers, scores):
    """For every pixel p, the feature at the candidate center matched to p - offsets(p) by PPDM's point matching.

    Args:
        features (Tensor): (B, C, H, W) feature map.
        offsets (Tensor): (B, 2, H, W) (interaction point - center) in feature-map pixels, (x, y).
        centers (Tensor): (B, K, 2) integer candidate centers (x, y), feature-map pixels, K >= 1.
        scores (Tensor): (B, K) candidate scores.

    Returns:
        tuple: features (B, C, H, W) gathered at the matched centers, and the matched index (B, H*W) int64.
    """
    b, c, h, w = features.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=features.device), torch.arange(w, device=features.device),
                            indexing="ij")
    pixels = torch.stack([xs, ys], -1).reshape(1, h * w, 2).to(offsets.dtype)
    expected = pixels - offsets.detach().flatten(2).transpose(1, 2)  # (B, HW, 2)
    index, _ = match_points_authors(expected, centers.detach(), scores.detach())
    flat = centers[..., 1].long() * w + centers[..., 0].long()  # (B, K)
    where = torch.gather(flat, 1, index)  # (B, HW) flat position of each pixel's matched center
    gathered = torch.gather(features.flatten(2), 2, where.unsqueeze(1).expand(b, c, h * w))
    return gathered.view(b, c, h, w), index


class PointAggregationHead(nn.Module):
    """"I + H", "I + O", "I + H + O" (Table 3): interaction logits from F0 concatenated with the F0 features of the
    matched human and/or object centers (see the module docstring).

    forward(x (B, C_in, H, W), obj_scores (B, C, H, W) in [0, 1], apm_subject / apm_object (B, 2, H, W)) -> dict:
    ``interaction_logits`` [(B, V, H, W)], ``glance_features`` F0 (B, head_conv, H, W), ``aggregated_features``
    (B, head_conv * (1 + parts), H, W), empty ``actpoint_offsets`` / ``actpoint_weights`` (B, 0, H, W).

    Raises:
        ValueError: an unknown aggregation name.
    """

    def __init__(self, in_channels, num_verbs, aggregation, head_conv=256, person_class_id=0, topk_humans=100,
                 topk_objects=100, bias_init=-2.19):
        super().__init__()
        if aggregation not in _POINT_PARTS:
            raise ValueError(f"point aggregation must be one of {tuple(_POINT_PARTS)}, got {aggregation!r}")
        self.parts = _POINT_PARTS[aggregation]
        self.person_class_id, self.topk = person_class_id, (topk_humans, topk_objects)
        self.glance_conv = nn.Conv2d(in_channels, head_conv, 3, padding=1)
        self.cls = nn.Conv2d(head_conv * (1 + len(self.parts)), num_verbs, 1)
        nn.init.zeros_(self.glance_conv.bias)
        nn.init.constant_(self.cls.bias, bias_init)

    def aggregate(self, f0, obj_scores, apm_subject, apm_object):
        """[F0, F0 at matched human centers, F0 at matched object centers] (the parts of this variant), channels
        concatenated in that order: (B, head_conv * (1 + parts), H, W)."""
        b, _, h, w = obj_scores.shape
        no_boxes = obj_scores.new_zeros(b, 2, h, w)  # only the centers are used
        humans, objects = head_candidates(obj_scores.detach(), no_boxes, no_boxes,
                                          person_class_id=self.person_class_id, topk_humans=self.topk[0],
                                          topk_objects=self.topk[1])
        feats = [f0]
        for part in self.parts:
            cands, offsets = (humans, apm_subject) if part == "human" else (objects, apm_object)
            feats.append(matched_center_features(f0, offsets, cands["centers"], cands["scores"])[0])
        return torch.cat(feats, 1)

    def forward(self, x, obj_scores, apm_subject, apm_object):
        f0 = torch.relu(self.glance_conv(x))
        agg = self.aggregate(f0, obj_scores, apm_subject, apm_object)
        empty = f0.new_zeros(f0.shape[0], 0, *f0.shape[2:])
        return {"interaction_logits": [self.cls(agg)], "glance_features": f0, "aggregated_features": agg,
                "actpoint_offsets": empty, "actpoint_weights": empty}


class ActPointsAggregationHead(nn.Module):
    """"ActPoints w/o glance and gaze" (Table 3): G = ReLU(modulated deformable conv of F0 at n ActPoints whose
    offsets and weights a sqrt(n) x sqrt(n) conv predicts from F0), interaction logits = 1x1 conv(G); no glance
    heatmap, one step. Offsets start at zero (the regular grid, weights 0.5), as the gaze steps'.

    forward(x (B, C_in, H, W), *unused) -> dict: ``interaction_logits`` [(B, V, H, W)], ``glance_features`` F0,
    ``aggregated_features`` G (B, head_conv, H, W), ``actpoint_offsets`` (B, 2n, H, W), ``actpoint_weights``
    (B, n, H, W) (layout of ``GlanceGazeHead``).

    Raises:
        ValueError: n is not an odd perfect square.
    """

    def __init__(self, in_channels, num_verbs, head_conv=256, num_actpoints=25, bias_init=-2.19,
                 deform_conv_backend="torchvision"):
        super().__init__()
        ks = int(round(math.sqrt(num_actpoints)))
        if ks * ks != num_actpoints or ks % 2 == 0:
            raise ValueError(f"NUM_ACTPOINTS must be an odd square (9, 25, 49), got {num_actpoints}")
        self.glance_conv = nn.Conv2d(in_channels, head_conv, 3, padding=1)
        self.actpoint_offsets = nn.Conv2d(head_conv, 3 * num_actpoints, ks, padding=ks // 2)
        self.actpoint_dcn = ModulatedDeformConv(head_conv, head_conv, ks, padding=ks // 2,
                                                backend=deform_conv_backend)
        self.cls = nn.Conv2d(head_conv, num_verbs, 1)
        nn.init.zeros_(self.glance_conv.bias)
        nn.init.zeros_(self.actpoint_offsets.weight)
        nn.init.zeros_(self.actpoint_offsets.bias)
        nn.init.constant_(self.cls.bias, bias_init)

    def forward(self, x, *unused):
        f0 = torch.relu(self.glance_conv(x))
        offsets, weights = split_offset_mask(self.actpoint_offsets(f0))
        g = torch.relu(self.actpoint_dcn(f0, offsets, weights))
        return {"interaction_logits": [self.cls(g)], "glance_features": f0, "aggregated_features": g,
                "actpoint_offsets": offsets, "actpoint_weights": weights}


class AggregationHOIHeads(nn.Module):
    """The PPDM baseline's heads with a Table 3 interaction branch: ``object`` (ObjectHead), ``apm`` (APMHead on the
    backbone features x) and ``interaction`` (``PointAggregationHead`` or ``ActPointsAggregationHead``).

    forward(x (B, C_in, H, W)) -> the keys of ``HOIHeads`` (plus ``aggregated_features``).

    Raises:
        ValueError: an unknown aggregation, or a point aggregation with per-verb APM (the matching needs one
            subject/object offset per pixel: APM_PER_VERB False, as PPDM).
    """

    apm_input = "backbone"

    def __init__(self, in_channels, *, num_classes, num_verbs, aggregation, head_conv=256, num_actpoints=25,
                 apm_per_verb=False, person_class_id=0, topk_humans=100, topk_objects=100, bias_init=-2.19,
                 deform_conv_backend="torchvision"):
        super().__init__()
        if aggregation not in INTERACTION_AGGREGATIONS or aggregation == AGGREGATION_GLANCE_GAZE:
            raise ValueError(f"MODEL.GGNET.INTERACTION_AGGREGATION must be one of {INTERACTION_AGGREGATIONS}, got "
                             f"{aggregation!r}")
        if aggregation in _POINT_PARTS and apm_per_verb:
            raise ValueError(f"INTERACTION_AGGREGATION {aggregation!r} matches points with PPDM's shared APM "
                             "offsets: set MODEL.GGNET.APM_PER_VERB False")
        self.object = ObjectHead(in_channels, num_classes, head_conv, bias_init)
        self.apm = APMHead(in_channels, num_verbs, head_conv, apm_per_verb)
        if aggregation == AGGREGATION_ACTPOINTS:
            self.interaction = ActPointsAggregationHead(in_channels, num_verbs, head_conv, num_actpoints, bias_init,
                                                        deform_conv_backend)
        else:
            self.interaction = PointAggregationHead(in_channels, num_verbs, aggregation, head_conv, person_class_id,
                                                    topk_humans, topk_objects, bias_init)

    def forward(self, x):
        out = self.object(x)
        out.update(self.apm(x))
        out.update(self.interaction(x, torch.sigmoid(out["obj_heatmap"]), out["apm_subject"], out["apm_object"]))
        return out
