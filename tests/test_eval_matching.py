"""Vectorised matcher and AP formulas against hand-worked values and a direct loop over VOCevaldet_bboxpair.m."""
import numpy as np
import pytest

from ggnet_d2.metrics.hoi_matching import (EXACT_TENTHS, RECALL_THRESHOLDS_11, ap_11_point, ap_all_point,
                                           inclusive_iou, match_hoi_detections, per_class_ap)


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
    # recall 0.3 (the double nearest 3/10) stays below MATLAB's fourth threshold 0.1 * 3 = 0.30000000000000004:
    # only t = 0, 0.1, 0.2 reach precision 1 -> 3/11 (exact tenths would give 4/11).
    assert ap_11_point([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]) == pytest.approx(3 / 11)
    assert ap_11_point([0.1, 0.2, 0.3], [1.0, 1.0, 1.0], EXACT_TENTHS) == pytest.approx(4 / 11)


def test_matlab_colon_thresholds():
    # MATLAB's 0:0.1:1 (colonop.m): n = round(1 / 0.1) = 10 intervals; elements 0..5 are 0 + k * 0.1, elements
    # 6..10 are 1 - (10 - k) * 0.1, the middle one (0 + 1) / 2 -- written out by hand, double for double.
    by_hand = [0.0, 1 * 0.1, 2 * 0.1, 3 * 0.1, 4 * 0.1, (0 + 1) / 2, 1 - 4 * 0.1, 1 - 3 * 0.1, 1 - 2 * 0.1,
               1 - 1 * 0.1, 1.0]
    t = RECALL_THRESHOLDS_11
    assert t.shape == (11,) and t.tolist() == by_hand
    assert [v.hex() for v in t.tolist()] == [
        "0x0.0p+0", "0x1.999999999999ap-4", "0x1.999999999999ap-3", "0x1.3333333333334p-2", "0x1.999999999999ap-2",
        "0x1.0000000000000p-1", "0x1.3333333333333p-1", "0x1.6666666666666p-1", "0x1.999999999999ap-1",
        "0x1.ccccccccccccdp-1", "0x1.0000000000000p+0"]
    assert t[3] == 0.30000000000000004 and t[3] != 0.3   # from the start: 0.1 + 0.1 + 0.1 rounding
    assert t[6] == 0.6 and t[7] == 0.7  # from the end: exact tenths
    assert [i for i in range(11) if t[i] != i / 10] == [3]
    # np.arange (the Python ports) differs at 0.3, 0.6 and 0.7
    arange = np.arange(0, 1.1, 0.1)
    assert [i for i in range(11) if arange[i] != t[i]] == [6, 7]
    assert [i for i in range(11) if arange[i] != i / 10] == [3, 6, 7]
    with pytest.raises(ValueError):
        t[0] = 1.0  # a read-only constant


def test_ap_recall_exactly_03_and_06_matlab_arithmetic():
    # 10 positives; ranked detections TP TP TP FP TP TP TP: recall 0.1 0.2 0.3 0.3 0.4 0.5 0.6 (k/10 as doubles),
    # precision 1 1 1 3/4 4/5 5/6 6/7.
    tp = np.array([1, 1, 1, 0, 1, 1, 1])
    rec = np.cumsum(tp) / 10.0
    prec = np.cumsum(tp) / np.arange(1, 8)
    assert rec[2] == 0.3 and rec[6] == 0.6
    # MATLAB: t = 0, 0.1, 0.2 -> 1; t = 0.30000000000000004 > rec 0.3 -> best precision at recall >= 0.4 is 6/7;
    # t = 0.4, 0.5 -> 6/7; t = 0.6 (= 1 - 4 * 0.1 = 0.6) reached by rec 0.6 -> 6/7; t = 0.7 .. 1 -> 0.
    # AP = (3 * 1 + 4 * 6/7) / 11 = 45/77.
    assert ap_11_point(rec, prec) == pytest.approx(45 / 77, rel=1e-15)
    # exact tenths: t = 0.3 reached by rec 0.3 (precision 1) -> (4 + 3 * 6/7) / 11 = 46/77.
    assert ap_11_point(rec, prec, EXACT_TENTHS) == pytest.approx(46 / 77, rel=1e-15)
    # np.arange thresholds (PPDM's voc_ap): 0.30000000000000004 like MATLAB, but 0.6000000000000001 > 0.6 is not
    # reached -> (3 + 3 * 6/7) / 11 = 39/77.
    assert ap_11_point(rec, prec, np.arange(0, 1.1, 0.1)) == pytest.approx(39 / 77, rel=1e-15)
    # the sum runs in MATLAB's order, ap = ap + p/11, bit for bit
    expected = 0.0
    for p in [1, 1, 1, 6 / 7, 6 / 7, 6 / 7, 6 / 7, 0, 0, 0, 0]:
        expected = expected + p / 11
    assert ap_11_point(rec, prec) == expected


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
    # eleven times p/11 with p = 1 added up as MATLAB does is 1.0000000000000002, not 1
    assert ap[0] == pytest.approx(1.0, abs=1e-15) and np.isnan(ap[1]) and ap[2] == 0.0
