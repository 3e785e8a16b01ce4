"""Exact-value tests of GGNet's dense targets (ggnet_d2/data/targets.py) on hand-built examples."""
import math

import numpy as np
import pytest

from ggnet_d2.data.targets import build_ggnet_targets, draw_gaussian, gaussian_2d, gaussian_radius, hard_negative_verbs


def test_gaussian_radius_hand_values():
    # 10x10 box, overlap 0.7: the third case wins, (-14*2 + sqrt(28^2 + 4*2.8*30)) / 2 = (-28 + sqrt(1120)) / 2.
    assert gaussian_radius(10, 10) == pytest.approx((-28 + math.sqrt(1120)) / 2)
    assert int(gaussian_radius(10, 10)) == 2
    assert int(gaussian_radius(6, 4)) == 1  # (-14 + sqrt(276.64)) / 2 = 1.316
    assert int(gaussian_radius(3, 3)) == 0
    assert gaussian_radius(0, 5) == 0.0  # interaction on a vertical/horizontal line: radius 0


def test_gaussian_2d_and_draw_values():
    g = gaussian_2d(1)  # sigma = 3 / 6
    assert g.shape == (3, 3)
    assert g[1, 1] == 1.0
    assert g[1, 0] == pytest.approx(math.exp(-2))
    assert g[0, 0] == pytest.approx(math.exp(-4))
    hm = np.zeros((4, 5), np.float32)
    draw_gaussian(hm, (0, 3), 1)  # corner: cut at the border
    assert hm[3, 0] == 1.0 and hm[2, 1] == pytest.approx(math.exp(-4)) and hm[3, 1] == pytest.approx(math.exp(-2))
    assert np.count_nonzero(hm) == 4
    draw_gaussian(hm, (0, 3), 0)  # max-paste keeps larger values
    assert hm[3, 0] == 1.0 and np.count_nonzero(hm) == 4


def test_hard_negative_verbs():
    valid = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 1]], dtype=bool)  # (V=4, C=3)
    assert hard_negative_verbs([1], 2, valid) == [0, 3]
    assert hard_negative_verbs([0, 3], 0, valid) == []


def _example(valid=None, hois=((0, 1, 1),), hna_radius=3, max_hois=64):
    boxes = np.array([[2, 2, 6, 8], [9, 3, 11.5, 6], [3, 2, 7, 8]], np.float32)  # feature-map pixels
    classes = np.array([0, 2, 0])
    return build_ggnet_targets(boxes, classes, list(hois), 3, 4, (16, 16), valid, max_objects=5, max_hois=max_hois,
                               hna_radius=hna_radius)


def test_object_targets_exact():
    t = _example()
    assert t["obj_heatmap"].shape == (3, 16, 16) and t["obj_wh"].shape == (5, 2)
    # person: center (4, 5), radius 1
    hm = t["obj_heatmap"][0]
    assert hm[5, 4] == 1.0 and hm[5, 3] == pytest.approx(math.exp(-2)) and hm[4, 3] == pytest.approx(math.exp(-4))
    # object class 2: center (10.25, 4.5) -> integer (10, 4), radius 0: a single pixel
    assert t["obj_heatmap"][2][4, 10] == 1.0 and np.count_nonzero(t["obj_heatmap"][2]) == 1
    assert t["obj_heatmap"][1].max() == 0
    np.testing.assert_allclose(t["obj_wh"][:3], [[4, 6], [2.5, 3], [4, 6]])
    np.testing.assert_allclose(t["obj_offset"][:3], [[0, 0], [0.25, 0.5], [0, 0]])
    assert t["obj_index"][:3].tolist() == [5 * 16 + 4, 4 * 16 + 10, 5 * 16 + 5]
    assert t["obj_mask"].tolist() == [1, 1, 1, 0, 0]


def test_interaction_and_apm_targets_exact():
    t = _example()
    # midpoint of integer centers (4, 5) and (10, 4) = (7, 4.5) -> (7, 4); |dx| = 6, |dy| = 1 -> radius 0
    ih = t["interaction_heatmap"]
    assert ih[1, 4, 7] == 1.0 and np.count_nonzero(ih) == 1
    assert t["interaction_index"][0] == 4 * 16 + 7 and t["interaction_verb"][0] == 1
    assert t["interaction_mask"][:2].tolist() == [1, 0]
    # APM: verb 1 owns channels [2, 3]
    assert t["apm_subject_offset"][0].tolist() == [0, 0, 3, -1, 0, 0, 0, 0]
    assert t["apm_object_offset"][0].tolist() == [0, 0, -3, 0, 0, 0, 0, 0]
    assert t["apm_mask"][0].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    assert not t["apm_mask"][1:].any()
    # without a correspondence, M equals the positive heatmap
    np.testing.assert_array_equal(t["hna_map"], ih)


def test_hna_negatives_placed_and_overridden_by_positives():
    valid = np.zeros((4, 3), bool)
    valid[[0, 1, 3], 2] = True  # verbs 0, 1, 3 are valid with object class 2; verb 2 is not
    # pair A (0, 1) labelled verb 1; pair B (2, 1) labelled verb 0; both interaction points are (7, 4)
    t = _example(valid, hois=((0, 1, 1), (2, 1, 0)))
    m = t["hna_map"]
    near = -math.exp(-1 / (2 * (7 / 6) ** 2))  # radius 3: sigma = 7 / 6, one pixel from the peak
    # channel 3: hard negative of both pairs, peak exactly -1 at (7, 4)
    assert m[3, 4, 7] == -1.0 and m[3, 4, 8] == pytest.approx(near) and m[3, 4, 4] == pytest.approx(
        -math.exp(-9 / (2 * (7 / 6) ** 2)))
    assert m[3, 4, 11] == 0.0  # outside the radius
    # channels 0 and 1: each pair's positive wins at the shared point; its neighbours carry the other's negative
    assert m[0, 4, 7] == 1.0 and m[1, 4, 7] == 1.0
    assert m[0, 4, 8] == pytest.approx(near) and m[1, 5, 7] == pytest.approx(near)
    assert not m[2].any()  # verb 2 is not valid with the object: no negative
    assert m.min() == -1.0 and m.max() == 1.0


def test_limits_and_vanishing_boxes():
    boxes = np.array([[2, 2, 6, 8], [20, 20, 30, 30], [9, 3, 12, 6]], np.float32)  # box 1 outside a 16x16 map
    t = build_ggnet_targets(boxes, [0, 1, 1], [(0, 1, 0), (0, 2, 1), (0, 2, 2)], 2, 3, (16, 16), max_objects=4,
                            max_hois=1)
    assert t["obj_mask"].tolist() == [1, 0, 1, 0]
    assert t["interaction_mask"].tolist() == [1] and t["interaction_verb"].tolist() == [1]  # HOI on box 1 dropped
    with pytest.raises(ValueError, match="outside the 3 boxes"):
        build_ggnet_targets(boxes, [0, 1, 1], [(0, 3, 0)], 2, 3, (16, 16))
    with pytest.raises(ValueError, match="object category"):
        build_ggnet_targets(boxes, [0, 1, 5], [], 2, 3, (16, 16))
