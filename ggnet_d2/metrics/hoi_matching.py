"""Vectorised true/false-positive matching of HOI detections and the AP formulas of the HOI benchmarks.

Semantics follow the HICO-DET authors' MATLAB evaluation (Chao et al., WACV 2018; ywchao/ho-rcnn
``evaluation/VOCevaldet_bboxpair.m`` called from ``eval_one.m``):

* a detection is a (subject box, object box, score) of one HOI class in one image;
* detections are processed in descending score; ties keep their input order (MATLAB's ``sort`` is stable), and
  eval_one.m concatenates a class's detections image by image in test-image order, so equal scores rank by test-image
  order, then by their order within the image;
* a detection's overlap with a ground-truth pair of the same class and image is
  ``min(IoU(subject boxes), IoU(object boxes))``, IoU with the inclusive-pixel convention (width = x2 - x1 + 1);
* it takes the pair with the largest overlap (the first such pair on ties); it is a true positive when that overlap is
  >= 0.5 and the pair was not taken by a higher-ranked detection, otherwise a false positive -- also when its image
  has no ground-truth pair of that class at all.

Because a ground-truth pair belongs to one (class, image) group, the greedy matching of a group never depends on other
groups, which is what lets everything below run as array operations over all detections at once.
"""
import numpy as np

__all__ = [
    "RECALL_THRESHOLDS_11",
    "EXACT_TENTHS",
    "inclusive_iou",
    "match_hoi_detections",
    "ap_11_point",
    "ap_all_point",
    "per_class_ap",
    "ranking",
]


# The recall thresholds of the official 11-point AP, ``for t = 0:0.1:1`` in VOCevaldet_bboxpair.m, written out as the
# doubles MATLAB's colon operator gives: it computes the first half of the vector from the start (base + k * step)
# and the second half from the end (limit - k * step), the middle as (base + limit) / 2 (MathWorks' published
# ``colonop.m``; C. Moler, "How does the colon operator work?"). So the fourth value is 3 * 0.1 =
# 0.30000000000000004 (a class whose recall reaches exactly 0.3 does not count its precision there), while 0.6 and
# 0.7 are 1 - 4 * 0.1 and 1 - 3 * 0.1, the nearest doubles of the tenths; ``np.arange(0, 1.1, 0.1)`` of the Python
# ports differs at 0.6 and 0.7 (0.6000000000000001, 0.7000000000000001). tests/test_eval_matching.py checks each
# value by hand.
RECALL_THRESHOLDS_11 = np.array([0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
RECALL_THRESHOLDS_11.flags.writeable = False
# k / 10 rounded once: what an exact-arithmetic reading of the protocol gives (for comparisons only).
EXACT_TENTHS = np.arange(11) / 10.0


def inclusive_iou(boxes_a, boxes_b):
    """Element-wise IoU of two box arrays with the inclusive-pixel convention of the official evaluations.

    Args:
        boxes_a, boxes_b (np.ndarray): (N, 4) or (4,) XYXY absolute pixel boxes (any common pixel frame; broadcast
            against each other); a box covers the pixels x1..x2 and y1..y2 inclusive, so its width is x2 - x1 + 1
            (VOCevaldet_bboxpair.m, vsrl_eval.py ``get_overlap``). Computed in float32 when both are float32 (as
            vsrl_eval.py does on its float32 boxes), else in float64.

    Returns:
        np.ndarray: (N,) IoU; 0 where the boxes do not intersect.
    """
    a, b = np.asarray(boxes_a), np.asarray(boxes_b)
    dtype = np.float32 if a.dtype == np.float32 and b.dtype == np.float32 else np.float64
    a, b = a.astype(dtype, copy=False).reshape(-1, 4), b.astype(dtype, copy=False).reshape(-1, 4)
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]) + 1.0
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]) + 1.0
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0).astype(dtype, copy=False)
    area_a = (a[:, 2] - a[:, 0] + 1.0) * (a[:, 3] - a[:, 1] + 1.0)
    area_b = (b[:, 2] - b[:, 0] + 1.0) * (b[:, 3] - b[:, 1] + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area_a + area_b - inter)
    return np.where(inter > 0, iou, 0.0).astype(dtype, copy=False)


def match_hoi_detections(det_group, det_scores, det_subject, det_object, gt_group, gt_subject, gt_object,
                         iou_threshold=0.5):
    """Mark each detection true or false positive, all groups at once (VOCevaldet_bboxpair.m semantics).

    Args:
        det_group (np.ndarray): (D,) int64 key of the detection's (class, image) group, e.g. class * I + image.
        det_scores (np.ndarray): (D,) float scores; must be finite.
        det_subject, det_object (np.ndarray): (D, 4) XYXY pixel boxes.
        gt_group (np.ndarray): (G,) int64 group key of each ground-truth pair, same encoding.
        gt_subject, gt_object (np.ndarray): (G, 4) XYXY pixel boxes, same pixel frame as the detections.
        iou_threshold (float): minimum pair overlap of a true positive (0.5 in HICO-DET).

    Returns:
        tuple(np.ndarray, np.ndarray): ``tp`` (D,) bool in input order, and ``matched_gt`` (D,) int64 index of the
        ground-truth pair each true positive took (-1 for false positives).

    Raises:
        ValueError: on mismatched lengths or non-finite scores.
    """
    det_group = np.asarray(det_group, dtype=np.int64).reshape(-1)
    det_scores = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    gt_group = np.asarray(gt_group, dtype=np.int64).reshape(-1)
    det_subject = np.asarray(det_subject, dtype=np.float64).reshape(-1, 4)
    det_object = np.asarray(det_object, dtype=np.float64).reshape(-1, 4)
    gt_subject = np.asarray(gt_subject, dtype=np.float64).reshape(-1, 4)
    gt_object = np.asarray(gt_object, dtype=np.float64).reshape(-1, 4)
    num_det = det_group.shape[0]
    if not (det_scores.shape[0] == det_subject.shape[0] == det_object.shape[0] == num_det):
        raise ValueError("match_hoi_detections: detection arrays differ in length")
    if not (gt_subject.shape[0] == gt_object.shape[0] == gt_group.shape[0]):
        raise ValueError("match_hoi_detections: ground-truth arrays differ in length")
    if not np.all(np.isfinite(det_scores)):
        raise ValueError("match_hoi_detections: detection scores must be finite")
    tp = np.zeros(num_det, dtype=bool)
    matched = np.full(num_det, -1, dtype=np.int64)
    if num_det == 0 or gt_group.shape[0] == 0:
        return tp, matched

    gt_order = np.argsort(gt_group, kind="stable")
    sorted_gt_group = gt_group[gt_order]
    starts = np.searchsorted(sorted_gt_group, det_group, side="left")
    counts = np.searchsorted(sorted_gt_group, det_group, side="right") - starts

    # Every (detection, ground-truth pair of its group) combination, pairs in annotation order within a detection.
    pair_det = np.repeat(np.arange(num_det), counts)
    offsets = np.arange(pair_det.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_gt = gt_order[starts[pair_det] + offsets]
    overlap = np.minimum(inclusive_iou(det_subject[pair_det], gt_subject[pair_gt]),
                         inclusive_iou(det_object[pair_det], gt_object[pair_gt]))

    has_gt = counts > 0
    best = np.full(num_det, -np.inf)
    np.maximum.at(best, pair_det, overlap)
    # First pair reaching the maximum, as MATLAB's strict ``min_ov > ov_max`` update keeps the earliest one.
    at_max = overlap == best[pair_det]
    first_det, first_pos = np.unique(pair_det[at_max], return_index=True)
    best_gt = np.full(num_det, -1, dtype=np.int64)
    best_gt[first_det] = pair_gt[at_max][first_pos]

    candidate = has_gt & (best >= iou_threshold)
    # Processing rank: descending score, input order on ties.
    rank = np.empty(num_det, dtype=np.int64)
    rank[np.argsort(-det_scores, kind="stable")] = np.arange(num_det)
    cand_idx = np.flatnonzero(candidate)
    cand_idx = cand_idx[np.argsort(rank[cand_idx], kind="stable")]
    _, first = np.unique(best_gt[cand_idx], return_index=True)
    winners = cand_idx[first]
    tp[winners] = True
    matched[winners] = best_gt[winners]
    return tp, matched


def ap_11_point(recall, precision, thresholds=RECALL_THRESHOLDS_11):
    """11-point interpolated AP (HICO-DET, VOCevaldet_bboxpair.m): for each t of MATLAB's ``0:0.1:1``, the highest
    precision at recall >= t (0 when no point reaches t), each divided by 11 and added up in threshold order, as the
    MATLAB loop ``ap = ap + p/11`` does (so the result matches it to the last bit).

    Args:
        recall, precision (np.ndarray): (N,) cumulative curves in score order (recall non-decreasing).
        thresholds (np.ndarray): (11,) recall thresholds; default :data:`RECALL_THRESHOLDS_11` (MATLAB's values).

    Returns:
        float: AP in [0, 1]; 0 for an empty curve.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if recall.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, np.asarray(thresholds, dtype=np.float64), side="left")
    padded = np.append(envelope, 0.0)
    ap = 0.0
    for p in padded[idx]:
        ap += float(p) / 11.0
    return ap


def ap_all_point(recall, precision):
    """All-point interpolated AP (PASCAL VOC 2010+, V-COCO ``voc_ap``): area under the precision envelope.

    Args:
        recall, precision (np.ndarray): (N,) cumulative curves in score order.

    Returns:
        float: AP in [0, 1]; 0 for an empty curve.
    """
    mrec = np.concatenate(([0.0], np.asarray(recall, dtype=np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, dtype=np.float64), [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def ranking(det_class, det_scores):
    """Indices sorting detections by class, then descending score, ties in input order (stable sorts; the class key
    as int16 where it fits, which numpy sorts by radix).

    Returns:
        np.ndarray: (D,) int64 permutation.
    """
    det_class = np.asarray(det_class, dtype=np.int64)
    order = np.argsort(-np.asarray(det_scores, dtype=np.float64), kind="stable")
    key = det_class[order]
    if key.size and key.max() < np.iinfo(np.int16).max and key.min() >= 0:
        key = key.astype(np.int16)
    return order[np.argsort(key, kind="stable")]


def per_class_ap(det_class, det_scores, tp, num_positives, ap_fn=ap_11_point, empty_class="zero", order=None):
    """AP and final recall of every class from flagged detections.

    Detections of a class are ranked by descending score, ties in input order (so pass them in image order to match
    the MATLAB evaluation's stable sort).

    Args:
        det_class (np.ndarray): (D,) int class of each detection, in [0, K).
        det_scores (np.ndarray): (D,) float.
        tp (np.ndarray): (D,) bool from :func:`match_hoi_detections`.
        num_positives (np.ndarray): (K,) int ground-truth pairs per class.
        ap_fn (callable): :func:`ap_11_point` or :func:`ap_all_point`.
        empty_class (str): for classes without ground truth: "zero" (AP and recall 0, counted in means, as the MATLAB
            code's NaN recall yields) or "nan" (excluded from means with ``np.nanmean``).
        order (np.ndarray, optional): :func:`ranking` of these detections, when already computed.

    Returns:
        tuple(np.ndarray, np.ndarray): (K,) AP and (K,) recall at the last detection, both in [0, 1] (or NaN).

    Raises:
        ValueError: on an unknown ``empty_class`` or a class id outside [0, K).
    """
    if empty_class not in ("zero", "nan"):
        raise ValueError(f"per_class_ap: empty_class must be 'zero' or 'nan', got {empty_class!r}")
    det_class = np.asarray(det_class, dtype=np.int64)
    det_scores = np.asarray(det_scores, dtype=np.float64)
    tp = np.asarray(tp, dtype=bool)
    num_positives = np.asarray(num_positives, dtype=np.int64)
    num_classes = num_positives.shape[0]
    if det_class.size and (det_class.min() < 0 or det_class.max() >= num_classes):
        raise ValueError(f"per_class_ap: detection class outside [0, {num_classes})")
    if order is None:
        order = ranking(det_class, det_scores)
    cls_sorted = det_class[order]
    tp_sorted = tp[order]
    bounds = np.searchsorted(cls_sorted, np.arange(num_classes + 1))
    ap = np.zeros(num_classes)
    recall = np.zeros(num_classes)
    for c in range(num_classes):
        npos = num_positives[c]
        if npos == 0:
            if empty_class == "nan":
                ap[c] = recall[c] = np.nan
            continue
        seg = tp_sorted[bounds[c]:bounds[c + 1]]
        if seg.size == 0:
            continue
        ctp = np.cumsum(seg)
        rec = ctp / float(npos)
        prec = ctp / np.arange(1, seg.size + 1, dtype=np.float64)
        ap[c] = ap_fn(rec, prec)
        recall[c] = rec[-1]
    return ap, recall
