"""GGNet's dense training targets at output stride 4 (pure numpy; shapes and content in docs/interfaces.md).

Object targets follow CenterNet (Zhou et al. 2019, "Objects as Points"): Gaussian peaks at integer box centers whose
radius comes from the box size with a minimum IoU overlap of 0.7, plus width/height, sub-pixel offset, flat index and
mask. Interaction points follow PPDM (Liao et al. 2020): the integer midpoint of the subject's and object's integer
centers, radius from the same formula applied to (|dx|, |dy|). GGNet (Zhong et al. 2021) adds the hard-negative map M
(Sec. 3.3) and per-verb APM offsets (Sec. 3.2). All coordinates here are feature-map pixels.
"""
import math

import numpy as np

from ..config_choices import CHOICES

__all__ = ["gaussian_radius", "gaussian_2d", "draw_gaussian", "hard_negative_verbs", "hna_target_map",
           "hna_target_map_per_hoi_in_order", "build_ggnet_targets", "TRAINING_TARGET_KEYS", "HARD_NEGATIVE_RULES"]

# INPUT.GGNET.HARD_NEGATIVE_RULE values. "per_pair": per human-object pair, every verb labelled for the pair excluded,
# negatives of all pairs merged and positives winning (hard_negative_verbs + hna_target_map). "per_hoi_in_order": the
# GGNet authors' hico.py __getitem__ -- per HOI in annotation order, only that HOI's verb excluded, a negative skipped
# when the maximum of its square is not 0 (hna_target_map_per_hoi_in_order).
HARD_NEGATIVE_RULES = CHOICES["INPUT.GGNET.HARD_NEGATIVE_RULE"]  # the one table: config_choices.py

# The targets GGNet's losses read (Eq. 4-7; ggnet_d2/modeling/meta_arch/ggnet.py GGNet.losses), the only ones the
# mapper ships: interaction_heatmap is the positive part of hna_map (the loss reads hna_map, also without HNA), and
# interaction_verb / interaction_mask are implied by apm_mask (the HOI's verb's channel pair). gaze_hna_map exists
# only with the authors' sharp gaze target (LOSS.GAZE_TARGET "sharp").
TRAINING_TARGET_KEYS = ("obj_heatmap", "obj_wh", "obj_offset", "obj_index", "obj_mask", "hna_map", "gaze_hna_map",
                        "interaction_index", "apm_subject_offset", "apm_object_offset", "apm_mask")


def gaussian_radius(height, width, min_overlap=0.7):
    """CenterNet's Gaussian radius for a box of ``height`` x ``width`` (feature-map pixels).

    The smallest of the three corner-shift radii that keep IoU >= ``min_overlap`` (CornerNet's derivation), computed
    exactly as CenterNet/PPDM's ``gaussian_radius`` (including its ``(b + sqrt(b^2 - 4ac)) / 2`` form) so targets
    match the released models.

    Returns:
        float (callers take ``max(0, int(r))``).
    """
    h, w, o = float(height), float(width), float(min_overlap)
    b1, c1 = h + w, w * h * (1 - o) / (1 + o)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2, c2 = 2 * (h + w), (1 - o) * w * h
    r2 = (b2 + math.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3, b3, c3 = 4 * o, -2 * o * (h + w), (o - 1) * w * h
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def gaussian_2d(radius, sigma_factor=6.0):
    """(2r+1, 2r+1) float32 Gaussian with sigma = (2r+1)/sigma_factor and value 1 at the center; tiny tails set to 0.

    CenterNet's ``draw_umich_gaussian`` uses sigma_factor 6; the GGNet authors' sharper gaze map uses 8 (positives)
    and 2 (hard negatives) (their hico.py, ``factor=``).
    """
    d = 2 * radius + 1
    sigma = d / float(sigma_factor)
    # np.arange, not np.ogrid: the same integer grids (so the same values), without ogrid's slice parsing, which
    # was most of this function's time (up to ~30 hard-negative draws per HICO-DET image)
    x = np.arange(-radius, radius + 1).reshape(1, -1)
    y = x.reshape(-1, 1)
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g.astype(np.float32)


def draw_gaussian(heatmap, center, radius, sigma_factor=6.0):
    """Max-paste a peak-1 Gaussian of ``radius`` (sigma (2r+1)/sigma_factor) at integer ``center`` (x, y) into
    ``heatmap`` (H, W), in place.

    Parts outside the map are cut off. Returns ``heatmap``.
    """
    radius = int(radius)
    x, y = int(center[0]), int(center[1])
    h, w = heatmap.shape
    g = gaussian_2d(radius, sigma_factor)
    left, right = min(x, radius), min(w - x, radius + 1)
    top, bottom = min(y, radius), min(h - y, radius + 1)
    if left + right <= 0 or top + bottom <= 0:
        return heatmap
    region = heatmap[y - top:y + bottom, x - left:x + right]
    patch = g[radius - top:radius + bottom, radius - left:radius + right]
    np.maximum(region, patch, out=region)
    return heatmap


def hard_negative_verbs(labelled_verbs, object_class, valid_verb_object):
    """HNA (Sec. 3.3): verbs valid with ``object_class`` that are not labelled for this human-object pair.

    Args:
        labelled_verbs (Iterable[int]): verbs annotated for the pair.
        object_class (int): contiguous object category.
        valid_verb_object (np.ndarray bool (V, C)).

    Returns:
        list[int], ascending.
    """
    labelled = set(int(v) for v in labelled_verbs)
    return [int(v) for v in np.flatnonzero(valid_verb_object[:, object_class]) if int(v) not in labelled]


def hna_target_map(positives, hard_negatives, num_verbs, output_size, hna_radius, sigma_factor=6.0,
                   negative_sigma_factor=6.0):
    """An HNA target map M (V, Ho, Wo) in [-1, 1] from listed positives and hard negatives (feature-map pixels).

    Positive Gaussians (peak 1, radius r, sigma (2r+1)/sigma_factor) and hard-negative Gaussians (peak -1, radius
    ``hna_radius``, sigma (2 hna_radius + 1)/negative_sigma_factor) are max-pasted per verb channel; a pixel inside
    any positive Gaussian keeps its positive value (the rule of ``hna_map``). With factors 8 and 2 this is the
    authors' ``hm_rel_hard`` (hico.py: positives ``factor=8``, negatives radius 3 ``factor=2``, i.e. sigma 3.5)
    for the same negatives, except that the authors skip a whole negative Gaussian whose square already holds a
    positive value when it is drawn (an order-dependent rule), where this map keeps its pixels outside the
    positives; ``hna_target_map_per_hoi_in_order`` is their rule.

    Args:
        positives (Iterable[(verb, (x, y), radius)]): integer points.
        hard_negatives (Iterable[(verb, (x, y))]): integer points.
        num_verbs (int), output_size ((Ho, Wo)), hna_radius (int), sigma_factor, negative_sigma_factor (float).

    Returns:
        np.ndarray float32 (V, Ho, Wo).
    """
    pos = np.zeros((num_verbs, *output_size), np.float32)
    neg = np.zeros(pos.shape, np.float32)  # np.zeros, not zeros_like: calloc'd pages stay untouched off the windows
    for v, point, radius in positives:
        draw_gaussian(pos[v], point, radius, sigma_factor)
    for v, point in hard_negatives:
        draw_gaussian(neg[v], point, hna_radius, negative_sigma_factor)
    return _positives_win(pos, neg)


def _positives_win(pos, neg):
    """``where(pos > 0, pos, -neg)`` for (V, H, W) maps, computed in ``pos`` (returned) and only on the verb channels
    that hold a negative: elsewhere it is ``pos`` already. Why: at HICO-DET's 117 verbs x 128 x 128 the full pass was
    most of the target time, while an image has negatives on a few channels. Background pixels are +0.0 there where
    the full pass gave -0.0 (equal values; the HNA loss reads M through ``eq`` and ``1 - M``)."""
    channels = np.flatnonzero(neg.reshape(len(neg), -1).any(1))
    if channels.size:
        p = pos[channels]
        pos[channels] = np.where(p > 0, p, -neg[channels])
    return pos


def _draw_negative_where_empty(heatmap, center, radius, sigma_factor):
    """The authors' ``draw_umich_gaussian_for_neg``: min-paste a -1-peaked Gaussian at integer ``center`` into
    ``heatmap`` (H, W) in place, unless the maximum over its (border-cut) square is not 0: skipped where the square
    holds a positive value, or no zero at all; merged (min) with earlier negatives otherwise."""
    x, y = int(center[0]), int(center[1])
    h, w = heatmap.shape
    left, right = min(x, radius), min(w - x, radius + 1)
    top, bottom = min(y, radius), min(h - y, radius + 1)
    region = heatmap[y - top:y + bottom, x - left:x + right]
    if min(region.shape) <= 0 or region.max() != 0:
        return
    g = gaussian_2d(radius, sigma_factor)
    np.minimum(region, -g[radius - top:radius + bottom, radius - left:radius + right], out=region)


def hna_target_map_per_hoi_in_order(hois, valid_verb_object, num_verbs, output_size, hna_radius, sigma_factor=6.0,
                                    negative_sigma_factor=6.0):
    """An HNA target map M (V, Ho, Wo) in [-1, 1] by the GGNet authors' rule (src/lib/datasets/dataset/hico.py
    ``__getitem__``, the ``hard_negative`` branch), feature-map pixels.

    HOIs are taken in annotation order. For each, its positive Gaussian (peak 1, radius r, sigma (2r+1)/sigma_factor)
    is max-pasted into its verb's channel; then, for every other verb valid with its object class -- only the HOI's
    own verb is excluded, so another verb labelled for the same pair counts as a negative of this HOI --, a
    -1-peaked Gaussian (radius ``hna_radius``, sigma (2 hna_radius + 1)/negative_sigma_factor) is min-pasted at the
    interaction point unless the maximum over its square is not 0 -- their test, which skips it where an earlier
    positive touches the square (or the square is negative throughout) but merges it with earlier negatives. A
    later positive overwrites negatives inside its square (max). Factors (6, 6) give their ``hm_rel``, (8, 2) their
    ``hm_rel_hard``.

    Args:
        hois (Iterable[(verb, (x, y), radius, object_class)]): integer interaction points, in annotation order.
        valid_verb_object (np.ndarray bool (V, C)).
        num_verbs (int), output_size ((Ho, Wo)), hna_radius (int), sigma_factor, negative_sigma_factor (float).

    Returns:
        np.ndarray float32 (V, Ho, Wo).
    """
    m = np.zeros((num_verbs, *output_size), np.float32)
    for v, point, radius, object_class in hois:
        draw_gaussian(m[v], point, radius, sigma_factor)
        for other in np.flatnonzero(valid_verb_object[:, object_class]):
            if other != v:
                _draw_negative_where_empty(m[other], point, int(hna_radius), negative_sigma_factor)
    return m


def _center(box):
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float32)


def build_ggnet_targets(boxes, classes, hois, num_classes, num_verbs, output_size, valid_verb_object=None,
                        max_objects=128, max_hois=64, min_overlap=0.7, hna_radius=3, gaze_sigma_factors=None,
                        hard_negative_rule="per_pair"):
    """All GGNet training targets of one image.

    Args:
        boxes (np.ndarray (N, 4)): XYXY boxes in feature-map pixels (input pixels / stride); clipped to the map here.
        classes (np.ndarray (N,)): contiguous object categories 0..C-1.
        hois (Sequence[(subject_index, object_index, verb_id)]): indices into ``boxes``.
        num_classes, num_verbs (int): C and V.
        output_size (tuple[int, int]): (Ho, Wo).
        valid_verb_object (np.ndarray bool (V, C) | None): correspondence for hard negatives; None = no negatives.
        max_objects, max_hois (int): K_o, K_h; boxes / HOIs beyond them are dropped (CenterNet / PPDM caps).
        min_overlap (float): Gaussian radius overlap (CenterNet 0.7).
        hna_radius (int): radius of the -1-peaked hard-negative Gaussians (feature-map pixels).
        gaze_sigma_factors ((float, float) | None): also build ``gaze_hna_map`` (V, Ho, Wo), the authors' sharper
            gaze-step target: ``hna_target_map`` of the same positives and hard negatives with these sigma factors
            (positives, negatives); (8, 2) in the authors' hico.py.
        hard_negative_rule (str): one of ``HARD_NEGATIVE_RULES``: "per_pair" (``hard_negative_verbs`` per
            human-object pair, ``hna_target_map``'s merge) or "per_hoi_in_order" (the authors',
            ``hna_target_map_per_hoi_in_order``); both for hna_map and gaze_hna_map.

    Returns:
        dict[str, np.ndarray] with the keys and shapes of docs/interfaces.md: obj_heatmap (C, Ho, Wo), obj_wh (K_o, 2),
        obj_offset (K_o, 2), obj_index (K_o,) int64, obj_mask (K_o,), interaction_heatmap (V, Ho, Wo),
        hna_map (V, Ho, Wo) in [-1, 1], interaction_index / interaction_verb (K_h,) int64, interaction_mask (K_h,),
        apm_subject_offset / apm_object_offset / apm_mask (K_h, 2V). Float arrays are float32. The mapper ships only
        ``TRAINING_TARGET_KEYS``; interaction_heatmap, interaction_verb and interaction_mask stay here for checks.
        A box that vanishes after clipping (zero width or height) gets no target, and HOIs using it are dropped
        (PPDM would still draw them at the clipped border).

    Raises:
        ValueError: if a HOI index is outside ``boxes``, a class/verb id is out of range, or the rule is unknown.
    """
    if hard_negative_rule not in HARD_NEGATIVE_RULES:
        raise ValueError(f"hard_negative_rule must be one of {HARD_NEGATIVE_RULES}, got {hard_negative_rule!r}")
    Ho, Wo = int(output_size[0]), int(output_size[1])
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ValueError(f"object category outside 0..{num_classes - 1}: {classes.tolist()}")
    t = _empty_targets(num_classes, num_verbs, Ho, Wo, max_objects, max_hois)
    centers_int = _draw_objects(t, boxes, classes, max_objects, min_overlap)
    drawn, pairs = _draw_interactions(t, hois, len(boxes), classes, centers_int, num_verbs, max_hois, min_overlap)
    t.update(_hna_maps(drawn, pairs, classes, valid_verb_object, num_verbs, (Ho, Wo), hna_radius, gaze_sigma_factors,
                       hard_negative_rule))
    return t


def _empty_targets(num_classes, num_verbs, Ho, Wo, max_objects, max_hois):
    """The zero-filled target arrays of ``build_ggnet_targets`` (all but the HNA maps)."""
    return {
        "obj_heatmap": np.zeros((num_classes, Ho, Wo), np.float32),
        "obj_wh": np.zeros((max_objects, 2), np.float32),
        "obj_offset": np.zeros((max_objects, 2), np.float32),
        "obj_index": np.zeros((max_objects,), np.int64),
        "obj_mask": np.zeros((max_objects,), np.float32),
        "interaction_heatmap": np.zeros((num_verbs, Ho, Wo), np.float32),
        "interaction_index": np.zeros((max_hois,), np.int64),
        "interaction_verb": np.zeros((max_hois,), np.int64),
        "interaction_mask": np.zeros((max_hois,), np.float32),
        "apm_subject_offset": np.zeros((max_hois, 2 * num_verbs), np.float32),
        "apm_object_offset": np.zeros((max_hois, 2 * num_verbs), np.float32),
        "apm_mask": np.zeros((max_hois, 2 * num_verbs), np.float32),
    }


def _draw_objects(t, boxes, classes, max_objects, min_overlap):
    """CenterNet's object targets into ``t``; returns {box index: integer center (x, y)} of the boxes drawn."""
    Ho, Wo = t["obj_heatmap"].shape[1:]
    centers_int = {}
    for k in range(min(len(boxes), max_objects)):
        b = boxes[k].copy()
        b[[0, 2]] = np.clip(b[[0, 2]], 0, Wo - 1)
        b[[1, 3]] = np.clip(b[[1, 3]], 0, Ho - 1)
        w, h = b[2] - b[0], b[3] - b[1]
        if w <= 0 or h <= 0:
            continue
        ct = _center(b)
        ct_int = ct.astype(np.int64)
        radius = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w), min_overlap)))
        draw_gaussian(t["obj_heatmap"][classes[k]], ct_int, radius)
        t["obj_wh"][k] = w, h
        t["obj_offset"][k] = ct - ct_int
        t["obj_index"][k] = ct_int[1] * Wo + ct_int[0]
        t["obj_mask"][k] = 1
        centers_int[k] = ct_int
    return centers_int


def _draw_interactions(t, hois, num_boxes, classes, centers_int, num_verbs, max_hois, min_overlap):
    """Interaction-point and APM targets into ``t`` (PPDM: the midpoint of the integer centers).

    Returns:
        (list, dict): the drawn HOIs as (verb, point, radius, object class), in order; {(subject, object): (verbs,
        point)} of the human-object pairs.

    Raises:
        ValueError: a HOI index outside the boxes or a verb out of range.
    """
    Wo = t["interaction_heatmap"].shape[2]
    drawn, pairs = [], {}
    n = 0
    for s, o, v in hois:
        s, o, v = int(s), int(o), int(v)
        if not (0 <= s < num_boxes and 0 <= o < num_boxes):
            raise ValueError(f"HOI ({s}, {o}, verb {v}) points outside the {num_boxes} boxes")
        if not 0 <= v < num_verbs:
            raise ValueError(f"verb {v} outside 0..{num_verbs - 1}")
        if n >= max_hois or s not in centers_int or o not in centers_int:
            continue
        sub, obj = centers_int[s], centers_int[o]
        point = ((sub + obj) / 2).astype(np.int64)
        dx, dy = abs(int(sub[0] - obj[0])), abs(int(sub[1] - obj[1]))
        radius = max(0, int(gaussian_radius(dy, dx, min_overlap)))
        draw_gaussian(t["interaction_heatmap"][v], point, radius)
        drawn.append((v, point, radius, int(classes[o])))
        t["interaction_index"][n] = point[1] * Wo + point[0]
        t["interaction_verb"][n] = v
        t["interaction_mask"][n] = 1
        t["apm_subject_offset"][n, 2 * v:2 * v + 2] = point - sub
        t["apm_object_offset"][n, 2 * v:2 * v + 2] = point - obj
        t["apm_mask"][n, 2 * v:2 * v + 2] = 1
        pairs.setdefault((s, o), (set(), point))[0].add(v)
        n += 1
    return drawn, pairs


def _hna_maps(drawn, pairs, classes, valid_verb_object, num_verbs, size, hna_radius, gaze_sigma_factors, rule):
    """``hna_map`` (and ``gaze_hna_map`` with ``gaze_sigma_factors``) of the drawn HOIs under the hard-negative
    ``rule`` (``build_ggnet_targets``)."""
    Ho, Wo = size
    out = {}
    if valid_verb_object is not None and rule == "per_hoi_in_order":
        out["hna_map"] = hna_target_map_per_hoi_in_order(drawn, valid_verb_object, num_verbs, size, hna_radius)
        if gaze_sigma_factors is not None:
            out["gaze_hna_map"] = hna_target_map_per_hoi_in_order(drawn, valid_verb_object, num_verbs, size,
                                                                  hna_radius, *gaze_sigma_factors)
        return out
    negatives = np.zeros((num_verbs, Ho, Wo), np.float32)
    hard = []  # (verb, point): for gaze_hna_map
    if valid_verb_object is not None:
        for (s, o), (verbs, point) in pairs.items():
            for v in hard_negative_verbs(verbs, classes[o], valid_verb_object):
                draw_gaussian(negatives[v], point, hna_radius)
                hard.append((v, point))
    # Positives win: a pixel inside any positive Gaussian keeps its positive value. The positives are drawn again
    # (their windows only) into a fresh map rather than copying interaction_heatmap's 117 x Ho x Wo floats.
    hna = np.zeros((num_verbs, Ho, Wo), np.float32)
    for v, point, radius, _ in drawn:
        draw_gaussian(hna[v], point, radius)
    out["hna_map"] = _positives_win(hna, negatives)
    if gaze_sigma_factors is not None:
        out["gaze_hna_map"] = hna_target_map([d[:3] for d in drawn], hard, num_verbs, size, hna_radius,
                                             *gaze_sigma_factors)
    return out
