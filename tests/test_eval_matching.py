"""Vectorised matcher and AP formulas against hand-worked values and a direct loop over VOCevaldet_bboxpair.m."""
import numpy as np
import pytest

from ggnet_d2.evaluation.hoi_matching import (ap_11_point, ap_all_point, inclusive_iou, match_hoi_detections,
                                              per_class_ap)


def _loop_reference(det_group, scores, dsub, dobj, gt_group, gsub, gobj, thr=0.5):
    """Plain transcription of the MATLAB loop, for cross-checking."""
    tp = np.zeros(len(scores), bool)
    taken = np.zeros(len(gt_group), bool)
    for d in np.argsort(-scores, kind="stable"):
        best, jbest = -np.inf, -1
        for j in np.flatnonzero(gt_group == det_group[d]):
            ov = min(inclusive_iou(dsub[d:d + 1], gsub[j:j + 1])[0], inclusive_iou(dobj[d:d + 1], gobj[j:j + 1])[0])
            if ov > best:
                best, jbest = ov, j
        if best >= thr and not taken[jbest]:
            taken[jbest] = tp[d] = True
    return tp


def test_inclusive_iou_exact_values():
    a = np.array([[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]], float)
    b = np.array([[0, 0, 4, 9], [0, 0, 9, 9], [10, 0, 19, 9], [9, 9, 18, 18]], float)
    # 50/100; identical; touching edges do not overlap; a single shared pixel counts 1/199.
    np.testing.assert_allclose(inclusive_iou(a, b), [0.5, 1.0, 0.0, 1 / 199])


def test_ap_11_point_hand_values():
    assert ap_11_point([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]) == pytest.approx(28 / 33)
    assert ap_11_point([], []) == 0.0
    # recall exactly 0.3 reaches the threshold 0.3 (exact tenths): 4 thresholds at precision 1.
    assert ap_11_point([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]) == pytest.approx(4 / 11)


def test_ap_all_point_hand_values():
    assert ap_all_point([0.5, 1.0, 1.0], [1.0, 1.0, 2 / 3]) == pytest.approx(1.0)
    assert ap_all_point([0.0, 1.0], [0.0, 0.5]) == pytest.approx(0.5)
    assert ap_all_point([0.5, 0.5], [1.0, 0.5]) == pytest.approx(0.5)


def test_matcher_equals_loop_on_random_data():
    rng = np.random.default_rng(0)
    g, d = 60, 400
    gt_group = rng.integers(0, 15, g)
    base = rng.uniform(0, 50, (g, 2))
    gsub = np.concatenate([base, base + rng.uniform(5, 30, (g, 2))], 1)
    gobj = gsub + rng.uniform(-5, 5, (g, 4))
    pick = rng.integers(0, g, d)
    dsub = gsub[pick] + rng.normal(0, 3, (d, 4))
    dobj = gobj[pick] + rng.normal(0, 3, (d, 4))
    det_group = np.where(rng.random(d) < 0.8, gt_group[pick], rng.integers(0, 20, d))
    scores = np.round(rng.random(d), 1)  # many ties: exercises the stable order
    tp, matched = match_hoi_detections(det_group, scores, dsub, dobj, gt_group, gsub, gobj)
    np.testing.assert_array_equal(tp, _loop_reference(det_group, scores, dsub, dobj, gt_group, gsub, gobj))
    assert 0 < tp.sum() < d
    assert len(set(matched[tp].tolist())) == tp.sum() and np.all(matched[~tp] == -1)


def test_matcher_rejects_nan_scores():
    with pytest.raises(ValueError, match="finite"):
        match_hoi_detections([0], [np.nan], [[0, 0, 1, 1]], [[0, 0, 1, 1]], [0], [[0, 0, 1, 1]], [[0, 0, 1, 1]])


def test_per_class_ap_empty_class_policies():
    ap, rec = per_class_ap([0, 0], [0.9, 0.8], [True, False], [1, 0, 2], empty_class="zero")
    np.testing.assert_allclose(ap, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(rec, [1.0, 0.0, 0.0])
    ap, rec = per_class_ap([0, 0], [0.9, 0.8], [True, False], [1, 0, 2], empty_class="nan")
    assert ap[0] == 1.0 and np.isnan(ap[1]) and ap[2] == 0.0
