"""Issue 24 item 3: the fast target drawing (ggnet_d2/data/targets.py) equals a slow, straightforward reference on
random scenes: every Gaussian evaluated pixel by pixel from its formula and max-pasted, the HNA rule applied pixel by
pixel (positives win, else minus the largest negative), no array tricks."""
import math

import numpy as np
import pytest

from ggnet_d2.data.targets import build_ggnet_targets, gaussian_radius, hard_negative_verbs

EPS64 = np.finfo(np.float64).eps


def _paste(heat, cx, cy, radius, factor, sign=1.0):
    """Max-paste (sign 1) a peak-1 Gaussian, pixel by pixel: exp(-(dx^2 + dy^2) / (2 sigma^2)), sigma = (2r+1)/factor,
    values below float64 eps (of the peak 1) dropped, stored as float32."""
    h, w = heat.shape
    sigma = (2 * radius + 1) / float(factor)
    for y in range(max(0, cy - radius), min(h, cy + radius + 1)):
        for x in range(max(0, cx - radius), min(w, cx + radius + 1)):
            d2 = (x - cx) ** 2 + (y - cy) ** 2
            value = np.exp(np.float64(-d2) / (2 * sigma * sigma))
            value = np.float32(0.0 if value < EPS64 else value)
            if value > heat[y, x]:
                heat[y, x] = value


def _hna(pos, neg):
    out = np.zeros_like(pos)
    for index in np.ndindex(*pos.shape):
        out[index] = pos[index] if pos[index] > 0 else -neg[index]
    return out


def reference_targets(boxes, classes, hois, C, V, Ho, Wo, valid, max_objects, max_hois, min_overlap, hna_radius,
                      gaze_factors):
    t = {"obj_heatmap": np.zeros((C, Ho, Wo), np.float32), "obj_wh": np.zeros((max_objects, 2), np.float32),
         "obj_offset": np.zeros((max_objects, 2), np.float32), "obj_index": np.zeros(max_objects, np.int64),
         "obj_mask": np.zeros(max_objects, np.float32), "interaction_heatmap": np.zeros((V, Ho, Wo), np.float32),
         "interaction_index": np.zeros(max_hois, np.int64), "interaction_verb": np.zeros(max_hois, np.int64),
         "interaction_mask": np.zeros(max_hois, np.float32),
         "apm_subject_offset": np.zeros((max_hois, 2 * V), np.float32),
         "apm_object_offset": np.zeros((max_hois, 2 * V), np.float32), "apm_mask": np.zeros((max_hois, 2 * V), np.float32)}
    centers = {}
    for k in range(min(len(boxes), max_objects)):
        x1, y1, x2, y2 = (np.float32(v) for v in boxes[k])
        x1, x2 = (np.float32(min(max(v, 0), Wo - 1)) for v in (x1, x2))
        y1, y2 = (np.float32(min(max(v, 0), Ho - 1)) for v in (y1, y2))
        w, h = x2 - x1, y2 - y1
        if w <= 0 or h <= 0:
            continue
        cx, cy = (x1 + x2) / np.float32(2), (y1 + y2) / np.float32(2)
        ix, iy = int(cx), int(cy)
        radius = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w), min_overlap)))
        _paste(t["obj_heatmap"][classes[k]], ix, iy, radius, 6.0)
        t["obj_wh"][k] = w, h
        t["obj_offset"][k] = float(cx) - ix, float(cy) - iy
        t["obj_index"][k] = iy * Wo + ix
        t["obj_mask"][k] = 1
        centers[k] = (ix, iy)
    positives, pairs = [], {}
    n = 0
    for s, o, v in hois:
        if n >= max_hois or s not in centers or o not in centers:
            continue
        (sx, sy), (ox, oy) = centers[s], centers[o]
        px, py = int((sx + ox) / 2), int((sy + oy) / 2)
        radius = max(0, int(gaussian_radius(abs(sy - oy), abs(sx - ox), min_overlap)))
        _paste(t["interaction_heatmap"][v], px, py, radius, 6.0)
        positives.append((v, px, py, radius))
        t["interaction_index"][n] = py * Wo + px
        t["interaction_verb"][n] = v
        t["interaction_mask"][n] = 1
        t["apm_subject_offset"][n, 2 * v:2 * v + 2] = px - sx, py - sy
        t["apm_object_offset"][n, 2 * v:2 * v + 2] = px - ox, py - oy
        t["apm_mask"][n, 2 * v:2 * v + 2] = 1
        pairs.setdefault((s, o), ([], (px, py)))[0].append(v)
        n += 1
    negatives = [(v, point) for (s, o), (verbs, point) in pairs.items()
                 for v in (hard_negative_verbs(verbs, classes[o], valid) if valid is not None else [])]

    def hna_map(pos_factor, neg_factor):
        pos, neg = np.zeros((V, Ho, Wo), np.float32), np.zeros((V, Ho, Wo), np.float32)
        for v, px, py, radius in positives:
            _paste(pos[v], px, py, radius, pos_factor)
        for v, (px, py) in negatives:
            _paste(neg[v], px, py, hna_radius, neg_factor)
        return _hna(pos, neg)

    t["hna_map"] = hna_map(6.0, 6.0)
    if gaze_factors is not None:
        t["gaze_hna_map"] = hna_map(*gaze_factors)
    return t


def _random_scene(rng, C, V, Ho, Wo):
    n = int(rng.integers(0, 9))
    xy = rng.uniform(-4, [Wo + 4, Ho + 4], size=(n, 2))
    wh = rng.uniform(0.3, [Wo / 2, Ho / 2], size=(n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    classes = rng.integers(0, C, size=n)
    classes[: min(n, 2)] = 0  # some persons
    hois = [(int(rng.integers(0, n)), int(rng.integers(0, n)), int(rng.integers(0, V)))
            for _ in range(int(rng.integers(0, 12)) if n else 0)]
    return boxes, classes, hois


@pytest.mark.parametrize("gaze_factors", [None, (8.0, 2.0)], ids=["paper", "sharp_gaze"])
def test_targets_equal_the_pixel_by_pixel_reference_on_random_scenes(gaze_factors):
    rng = np.random.default_rng(2024)
    C, V, Ho, Wo = 4, 6, 20, 24
    for scene in range(60):
        valid = rng.random((V, C)) < 0.6 if scene % 4 else None
        boxes, classes, hois = _random_scene(rng, C, V, Ho, Wo)
        max_objects, max_hois = (6, 5) if scene % 3 == 0 else (16, 16)  # the caps are exercised too
        hna_radius = int(rng.integers(0, 4))
        got = build_ggnet_targets(boxes, classes, hois, C, V, (Ho, Wo), valid, max_objects, max_hois, 0.7, hna_radius,
                                  gaze_factors)
        want = reference_targets(boxes, classes, hois, C, V, Ho, Wo, valid, max_objects, max_hois, 0.7, hna_radius,
                                 gaze_factors)
        assert got.keys() == want.keys()
        for key in want:
            assert got[key].dtype == want[key].dtype and got[key].shape == want[key].shape, (scene, key)
            # exact: every float32 value equal (0.0 == -0.0: the HNA loss reads the map through eq and 1 - M)
            assert np.array_equal(got[key], want[key]), (scene, key)


def test_random_scenes_draw_positives_negatives_and_clipped_boxes():
    """The scenes above are not trivial: positives, hard negatives and boxes that vanish at the border occur."""
    rng = np.random.default_rng(2024)
    positives = negatives = dropped = 0
    for scene in range(60):
        valid = rng.random((6, 4)) < 0.6 if scene % 4 else None
        boxes, classes, hois = _random_scene(rng, 4, 6, 20, 24)
        t = build_ggnet_targets(boxes, classes, hois, 4, 6, (20, 24), valid, hna_radius=2)
        positives += int((t["hna_map"] == 1).sum())
        negatives += int((t["hna_map"] < 0).sum())
        dropped += len(boxes) - int(t["obj_mask"].sum())
    assert positives > 50 and negatives > 100 and dropped > 5
