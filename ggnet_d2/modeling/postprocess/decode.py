"""GGNet inference decoding (Sec. 3.4, Eq. 8): peaks, top-K, action-aware point matching and box decoding.

Everything is batched over images and points (no Python loop over detections). All coordinates here are in
feature-map pixels (x, y); the meta-architecture scales them to original pixels.
"""
import torch
import torch.nn.functional as F

from ...config_choices import CHOICES, MATCH_EQ8, resolve_choice
from ...layers import gather_at_index

__all__ = ["heatmap_peaks", "topk_peaks", "decode_boxes", "decode_actpoints", "match_points", "match_points_authors",
           "head_candidates",
           "duplicate_triplets", "clip_boxes_authors", "decode_hoi"]

MATCH_RULES = CHOICES["MODEL.GGNET.TEST.MATCH_RULE"]  # the one table: config_choices.py


def heatmap_peaks(heat, kernel=3):
    """Keep only local maxima of a (B, C, H, W) score map (``kernel`` x ``kernel`` max-pool NMS, CenterNet)."""
    hmax = F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).to(heat.dtype)


def topk_peaks(heat, k):
    """Top-k over all channels and positions of a (B, C, H, W) score map.

    Returns:
        tuple: scores (B, k), channel (B, k) int64, ys (B, k) int64, xs (B, k) int64 (feature-map pixels), sorted by
        decreasing score; k is clipped to C * H * W.
    """
    b, c, h, w = heat.shape
    k = min(k, c * h * w)
    scores, flat = heat.reshape(b, -1).topk(k, dim=1)
    channel = torch.div(flat, h * w, rounding_mode="floor")
    pos = flat - channel * h * w
    ys = torch.div(pos, w, rounding_mode="floor")
    return scores, channel, ys, pos - ys * w


def _gather_points(fmap, ys, xs):
    """fmap (B, C, H, W), ys/xs (B, K) -> (B, K, C)."""
    return gather_at_index(fmap, ys * fmap.shape[-1] + xs)


def decode_boxes(wh, reg, ys, xs):
    """Boxes of center points: center = (x + reg_x, y + reg_y), box = center -+ wh / 2.

    Args: wh, reg (B, 2, H, W); ys, xs (B, K) int64. Returns: (B, K, 4) XYXY, feature-map pixels.
    A negative regressed width/height (possible early in training) gives an empty box, never x2 < x1.
    """
    size = _gather_points(wh, ys, xs).clamp(min=0)
    off = _gather_points(reg, ys, xs)
    cx = xs.to(size.dtype) + off[..., 0]
    cy = ys.to(size.dtype) + off[..., 1]
    return torch.stack([cx - size[..., 0] / 2, cy - size[..., 1] / 2, cx + size[..., 0] / 2,
                        cy + size[..., 1] / 2], dim=-1)


def decode_actpoints(offsets, weights, ys, xs):
    """Absolute ActPoint positions of interaction points.

    Args:
        offsets (Tensor): (B, 2n, H, W), [2k, 2k+1] = (dy, dx) of kernel position k (row-major over a
            sqrt(n) x sqrt(n) grid centred on the point, dilation 1), see ``deform_conv``.
        weights (Tensor): (B, n, H, W).
        ys, xs (Tensor): (B, K) int64 interaction points.

    Returns:
        tuple: points (B, K, n, 2) as (x, y) feature-map pixels, weights (B, K, n).
    """
    b, n = weights.shape[0], weights.shape[1]
    k = ys.shape[1]
    if n == 0:
        return offsets.new_zeros(b, k, 0, 2), weights.new_zeros(b, k, 0)
    ks = int(round(float(n) ** 0.5))  # float(): under torch.jit.trace a shape entry is a 0-dim tensor
    grid = torch.arange(ks, device=offsets.device, dtype=offsets.dtype) - (ks - 1) / 2
    gy, gx = torch.meshgrid(grid, grid, indexing="ij")
    off = _gather_points(offsets, ys, xs).view(b, k, n, 2)  # (dy, dx)
    px = xs.to(off.dtype)[..., None] + gx.reshape(1, 1, n) + off[..., 1]
    py = ys.to(off.dtype)[..., None] + gy.reshape(1, 1, n) + off[..., 0]
    return torch.stack([px, py], dim=-1), _gather_points(weights, ys, xs)


def match_points(expected, cand_xy, cand_scores, allowed=None):
    """Eq. 8: for each expected location pick argmin over candidates of ||expected - candidate|| / score.

    Args:
        expected (Tensor): (B, K, 2) expected (x, y) of the subject/object.
        cand_xy (Tensor): (B, M, 2) candidate points; cand_scores (B, M) their scores.
        allowed (Tensor or None): (B, K, M) bool, candidates eligible for each point (verb-object validity).

    Returns:
        tuple: index (B, K) int64 into the candidates, found (B, K) bool (False when no candidate is allowed).
    """
    dist = torch.cdist(expected.float(), cand_xy.float())
    cost = dist / cand_scores.float().clamp(min=1e-12).unsqueeze(1)
    if allowed is not None:
        cost = cost.masked_fill(~allowed, float("inf"))
    best, index = cost.min(dim=2)
    return index, torch.isfinite(best)


def match_points_authors(expected, cand_xy, cand_scores, allowed=None):
    """The authors' matching (GGNet/PPDM src/lib/models/decode.py ``hoidet_decode_match`` / ``hoidet_decode``): for
    each expected location pick argmax over candidates of ``1 / (|dx| + 1) * 1 / (|dy| + 1) * score`` (times 0 for
    disallowed candidates, their ``corremat``), the first candidate on ties (``torch.argmax``), computed in their
    operation order so float ties fall alike.

    Args:
        expected (Tensor): (B, K, 2) expected (x, y) of the subject/object.
        cand_xy (Tensor): (B, M, 2) candidate points; cand_scores (B, M) their scores.
        allowed (Tensor or None): (B, K, M) bool, candidates eligible for each point (verb-object validity).

    Returns:
        tuple: index (B, K) int64 into the candidates, found (B, K) bool: whether the chosen candidate is allowed
        (when none is, the all-zero row picks candidate 0, which the authors then drop as an invalid triplet).
    """
    diff = (expected.float().unsqueeze(2) - cand_xy.float().unsqueeze(1)).abs()  # (B, K, M, 2)
    score = (1 / (diff[..., 0] + 1)) * (1 / (diff[..., 1] + 1)) * cand_scores.float().unsqueeze(1)
    if allowed is not None:
        score = score * allowed.to(score.dtype)
    index = score.argmax(dim=2)
    found = torch.ones_like(index, dtype=torch.bool) if allowed is None else \
        torch.gather(allowed, 2, index.unsqueeze(-1)).squeeze(-1)
    return index, found


def duplicate_triplets(subject_index, object_index, verb, num_objects, num_verbs):
    """Mark repeated (subject, object, verb) triplets, keeping the first of each, as the authors' decode.py does
    (``np.unique(..., return_index=True)`` over triplets sorted by decreasing score keeps the highest-scoring one).

    Args:
        subject_index, object_index, verb (Tensor): (B, K) int64, triplets in decreasing score order.
        num_objects, num_verbs (int): ranges of ``object_index`` and ``verb`` (to build one key per triplet).

    Returns:
        Tensor: (B, K) bool, True where an earlier triplet of the same image has the same key.
    """
    key = (subject_index * num_objects + object_index) * num_verbs + verb
    same = key.unsqueeze(2) == key.unsqueeze(1)  # (B, K, K)
    earlier = torch.ones(key.shape[1], key.shape[1], dtype=torch.bool, device=key.device).tril(-1)
    return (same & earlier).any(dim=2)


def clip_boxes_authors(boxes, height, width):
    """Border boxes as the authors treat them (GGNet/PPDM src/lib/detectors/hoidet.py ``bbox_clip``, called by
    ``get_hoi_output`` on boxes in original pixels): x1 clamped to [0, width], y1 to [0, height], box width clamped to
    [10, width] and height to [10, height] (10 when the side is below 10: ``max(10, min(w, W))``), then
    x2 = x1 + width, y2 = y1 + height. A box crossing the left/top border thus moves inside keeping its size; one
    crossing the right/bottom border keeps x2/y2 beyond it. One difference remains upstream: ``decode_boxes`` clamps
    a negative regressed size to 0 (x1 = center), while the authors' decoder keeps it (x1 = center + |w| / 2); both
    then get the minimum side 10. Only degenerate (e.g. untrained) outputs have negative sizes.

    Args:
        boxes (Tensor): (N, 4) XYXY, original pixels.
        height, width (int or float): image size, original pixels.

    Returns:
        Tensor: (N, 4) XYXY, original pixels.
    """
    x1 = boxes[:, 0].clamp(min=0).clamp(max=width)
    y1 = boxes[:, 1].clamp(min=0).clamp(max=height)
    w = torch.clamp(boxes[:, 2] - boxes[:, 0], max=width).clamp(min=10)
    h = torch.clamp(boxes[:, 3] - boxes[:, 1], max=height).clamp(min=10)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


def head_candidates(obj_heatmap, obj_wh, obj_offset, *, person_class_id=0, topk_humans=100, topk_objects=100):
    """GGNet's own human and object candidates (Sec. 3.4): top-K peaks of the object-center heatmap.

    Args:
        obj_heatmap (Tensor): (B, C, H, W) object-center scores in [0, 1] (after sigmoid).
        obj_wh, obj_offset (Tensor): (B, 2, H, W) box size and center offset, feature-map pixels.
        person_class_id (int): channel of human points.
        topk_humans, topk_objects (int): K of Sec. 3.4 (clipped to the number of heatmap positions).

    Returns:
        tuple: (humans, objects), dicts of padded tensors in feature-map pixels, the layout ``decode_hoi`` takes for
        its ``humans`` / ``objects``: ``boxes`` (B, K, 4) XYXY, ``centers`` (B, K, 2) (x, y), ``scores`` (B, K),
        ``mask`` (B, K) bool (all True here); ``objects`` also has ``classes`` (B, K) int64. The centers are the
        integer peak locations, not the regressed box centers: the APM targets are offsets to integer centers.
    """
    s_h, _, ys_h, xs_h = topk_peaks(heatmap_peaks(obj_heatmap[:, person_class_id:person_class_id + 1]), topk_humans)
    s_o, cls_o, ys_o, xs_o = topk_peaks(heatmap_peaks(obj_heatmap), topk_objects)
    humans = {"boxes": decode_boxes(obj_wh, obj_offset, ys_h, xs_h),
              "centers": torch.stack([xs_h, ys_h], -1).to(obj_wh.dtype), "scores": s_h,
              "mask": torch.ones_like(s_h, dtype=torch.bool)}
    objects = {"boxes": decode_boxes(obj_wh, obj_offset, ys_o, xs_o),
               "centers": torch.stack([xs_o, ys_o], -1).to(obj_wh.dtype), "scores": s_o, "classes": cls_o,
               "mask": torch.ones_like(s_o, dtype=torch.bool)}
    return humans, objects


def _at_least_one(cands):
    """Append one masked-out entry to candidate dicts with K = 0, so that matching always has a column to take."""
    if cands["scores"].shape[1] > 0:
        return cands
    return {k: torch.cat([v, v.new_zeros(v.shape[:1] + (1,) + v.shape[2:])], dim=1) for k, v in cands.items()}


def _apm_at_points(pred, ys, xs, verb):
    """APM offsets (B, K, 2) at the points (ys, xs) (B, K): the channel pair of each point's verb (B, K) for per-verb
    APM (B, 2V, H, W), the only pair for the shared regressor (B, 2, H, W)."""
    vals = _gather_points(pred, ys, xs)  # (B, K, 2V or 2)
    if vals.shape[-1] == 2:
        return vals
    vals = vals.view(vals.shape[0], vals.shape[1], -1, 2)
    return torch.gather(vals, 2, verb[..., None, None].expand(-1, -1, 1, 2)).squeeze(2)


def _allowed_objects(objects, verb, valid_verb_object):
    """(B, Ki, Ko) bool: object candidates eligible for each interaction point (not padding; with
    ``valid_verb_object`` (V, C), of a class valid for the point's verb)."""
    cls_o = objects["classes"]
    allowed = objects["mask"].unsqueeze(1).expand(-1, verb.shape[1], -1)
    if valid_verb_object is not None:
        # classes outside the (V, C) table (never produced by the heads) are not valid for any verb
        c = valid_verb_object.shape[1]
        in_table = (cls_o >= 0) & (cls_o < c)
        valid_cls = valid_verb_object.to(verb.device)[verb.unsqueeze(-1), cls_o.clamp(0, c - 1).unsqueeze(1)]
        allowed = allowed & valid_cls & in_table.unsqueeze(1)
    return allowed


def _take(t, order):
    """``t`` (B, K, ...) reordered along dim 1 by ``order`` (B, K)."""
    idx = order.view(order.shape + (1,) * (t.dim() - 2)).expand(order.shape + t.shape[2:])
    return torch.gather(t, 1, idx)


def decode_hoi(obj_heatmap, obj_wh, obj_offset, interaction_heatmap, apm_subject, apm_object, actpoint_offsets,
               actpoint_weights, *, person_class_id=0, topk_interactions=100, topk_humans=100, topk_objects=100,
               valid_verb_object=None, match_rule="eq8", dedup=False, humans=None, objects=None):
    """Decode HOI triplets from sigmoid heatmaps and regressions (Sec. 3.4).

    Args:
        obj_heatmap (Tensor): (B, C, H, W) object-center scores in [0, 1] (after sigmoid).
        obj_wh, obj_offset (Tensor): (B, 2, H, W) box size and center offset, feature-map pixels.
        interaction_heatmap (Tensor): (B, V, H, W) final gaze step's scores in [0, 1].
        apm_subject, apm_object (Tensor): (B, 2V or 2, H, W) interaction point - subject/object center, (x, y).
        actpoint_offsets (Tensor): (B, 2n, H, W); actpoint_weights (B, n, H, W) (n may be 0).
        person_class_id (int): channel of human points.
        topk_interactions, topk_humans, topk_objects (int): K of Sec. 3.4.
        valid_verb_object (Tensor or None): (V, C) bool; objects of classes invalid for the verb are not matched.
        match_rule (str): ``"eq8"`` (paper Eq. 8, ``match_points``) or ``"score_over_offset_area"``
            (``match_points_authors``); the earlier name ``"authors"`` is accepted with a deprecation warning.
        dedup (bool): mark repeated (subject, object, verb) triplets invalid, keeping the highest-scoring one (the
            authors' decode.py). The authors' output then lists triplets by (subject, object, verb) index
            (``np.unique``'s order); ours stay in decreasing score order, which the evaluators rank by anyway.
        humans, objects (dict or None): human / object candidates replacing GGNet's own (``head_candidates``), e.g.
            an external detector's boxes (the paper's GGNet-double-dagger setting, Table 5); the layout of
            ``head_candidates``' output (``centers`` are where Eq. 8 looks for them, e.g. float box centers;
            ``objects`` includes the humans when persons may be objects, as the heads' candidates do). Entries with
            ``mask`` False are padding and never matched; an image with no candidate gets only invalid triplets.
            ``topk_humans`` / ``topk_objects`` do not apply to them.

    Returns:
        dict of batched tensors, feature-map pixels:
          ``human_boxes`` (B, Kh, 4), ``human_scores`` (B, Kh); ``object_boxes`` (B, Ko, 4), ``object_scores``,
          ``object_classes`` (B, Ko); ``hoi_scores`` (B, Ki) = interaction x human x object score, ``verb_classes``,
          ``subject_index`` (into humans), ``object_index`` (into objects), ``interaction_points`` (B, Ki, 2),
          ``actpoints`` (B, Ki, n, 2), ``actpoint_weights`` (B, Ki, n), ``valid`` (B, Ki) bool (False when no
          object class is valid for the verb, no candidate, or a removed duplicate); ``human_mask`` (B, Kh),
          ``object_mask`` (B, Ko) bool (False for padding). Triplets are in decreasing ``hoi_scores`` order (ties
          keep the interaction-point ranking).

    Raises:
        ValueError: an unknown ``match_rule``.
    """
    match_rule = resolve_choice("MODEL.GGNET.TEST.MATCH_RULE", match_rule, "match_rule")
    match = match_points if match_rule == MATCH_EQ8 else match_points_authors
    s_i, verb, ys_i, xs_i = topk_peaks(heatmap_peaks(interaction_heatmap), topk_interactions)
    if humans is None or objects is None:
        own_h, own_o = head_candidates(obj_heatmap, obj_wh, obj_offset, person_class_id=person_class_id,
                                       topk_humans=topk_humans, topk_objects=topk_objects)
        humans = own_h if humans is None else humans
        objects = own_o if objects is None else objects
    humans, objects = _at_least_one(humans), _at_least_one(objects)
    s_h, s_o, cls_o = humans["scores"], objects["scores"], objects["classes"]

    point = torch.stack([xs_i, ys_i], dim=-1).to(obj_wh.dtype)
    # Eq. 8: subject/object expected at point - APM offset, matched to the candidates' centers.
    k_i = verb.shape[1]
    sub_allowed = humans["mask"].unsqueeze(1).expand(-1, k_i, -1)
    sub_idx, sub_found = match(point - _apm_at_points(apm_subject, ys_i, xs_i, verb), humans["centers"], s_h,
                               sub_allowed)
    allowed = _allowed_objects(objects, verb, valid_verb_object)
    obj_idx, found = match(point - _apm_at_points(apm_object, ys_i, xs_i, verb), objects["centers"], s_o, allowed)
    found = found & sub_found

    scores = s_i * torch.gather(s_h, 1, sub_idx) * torch.gather(s_o, 1, obj_idx) * found.to(s_i.dtype)
    scores, order = scores.sort(dim=1, descending=True, stable=True)
    actpoints, act_w = decode_actpoints(actpoint_offsets, actpoint_weights, ys_i, xs_i)
    valid = _take(found, order)
    if dedup:
        valid = valid & ~duplicate_triplets(_take(sub_idx, order), _take(obj_idx, order), _take(verb, order),
                                            s_o.shape[1], interaction_heatmap.shape[1])
    return {
        "human_boxes": humans["boxes"], "human_scores": s_h, "human_mask": humans["mask"],
        "object_boxes": objects["boxes"], "object_scores": s_o, "object_classes": cls_o,
        "object_mask": objects["mask"],
        "hoi_scores": scores, "verb_classes": _take(verb, order), "subject_index": _take(sub_idx, order),
        "object_index": _take(obj_idx, order), "interaction_points": _take(point, order),
        "actpoints": _take(actpoints, order), "actpoint_weights": _take(act_w, order), "valid": valid,
    }
