"""INPUT.GGNET.HARD_NEGATIVE_RULE: the authors' per-HOI rule against a transcription of their hico.py / vcoco.py
``__getitem__`` hard-negative branch, on scenes with multi-verb human-object pairs; the per-pair rule unchanged.

The reference is written here from the behaviour of their code: HOIs in annotation order; each one max-pastes its
positive Gaussian (CenterNet's draw_umich_gaussian) into its verb's channel, then, for every verb valid with its
object class except its own, min-pastes a -1-peaked Gaussian of radius 3 (draw_umich_gaussian_for_neg) unless
the maximum over the square it covers is not 0 (a positive there, or no zero). hm_rel uses sigma (2r+1)/6 for both,
hm_rel_hard 8 and 2.
"""
import math

import numpy as np
import pytest
from detectron2.config import get_cfg

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import HOIDatasetMapper
from ggnet_d2.data.targets import build_ggnet_targets


def _gauss(r, factor):
    d = 2 * r + 1
    s = d / factor
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    g = np.exp(-(xx ** 2 + yy ** 2) / (2 * s * s))
    g[g < np.finfo(np.float64).eps * g.max()] = 0
    return g


def _window(shape, x, y, r):
    h, w = shape
    l, rt, t, b = min(x, r), min(w - x, r + 1), min(y, r), min(h - y, r + 1)
    return (slice(y - t, y + b), slice(x - l, x + rt)), (slice(r - t, r + b), slice(r - l, r + rt))


def _radius(h, w, o=0.7):  # CenterNet's gaussian_radius (three cases, the smallest)
    r1 = ((h + w) + math.sqrt((h + w) ** 2 - 4 * w * h * (1 - o) / (1 + o))) / 2
    r2 = (2 * (h + w) + math.sqrt((2 * (h + w)) ** 2 - 16 * (1 - o) * w * h)) / 2
    r3 = (-2 * o * (h + w) + math.sqrt((2 * o * (h + w)) ** 2 - 16 * o * (o - 1) * w * h)) / 2
    return min(r1, r2, r3)


def reference_maps(boxes, classes, hois, corr_object_verb, num_verbs, size, pos_factor, neg_factor, neg_radius=3):
    """(V, H, W) map of the authors' rule; ``corr_object_verb`` (C, V) like their obj_to_verb."""
    m = np.zeros((num_verbs, *size), np.float64)
    centers = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes]
    centers = [(int(cx), int(cy)) for cx, cy in centers]
    for s, o, v in hois:
        (sx, sy), (ox, oy) = centers[s], centers[o]
        x, y = int((sx + ox) / 2), int((sy + oy) / 2)
        r = max(0, int(_radius(math.ceil(abs(sx - ox)), math.ceil(abs(sy - oy)))))
        dst, src = _window(size, x, y, r)
        m[v][dst] = np.maximum(m[v][dst], _gauss(r, pos_factor)[src])
        for other in np.where(corr_object_verb[classes[o]] > 0)[0]:
            if other == v:
                continue
            dst, src = _window(size, x, y, neg_radius)
            if np.max(m[other][dst]) != 0:
                continue
            m[other][dst] = np.minimum(m[other][dst], -_gauss(neg_radius, neg_factor)[src])
    return m


def _scene(seed, num_verbs=6, num_classes=3, size=(40, 48)):
    """Random boxes; every pair gets 1-3 verbs (multi-verb pairs), HOIs shuffled; verbs valid for each class."""
    rng = np.random.RandomState(seed)
    n = rng.randint(3, 6)
    xy = rng.uniform(2, [size[1] - 12, size[0] - 12], size=(n, 2))
    wh = rng.uniform(2, 10, size=(n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    classes = np.concatenate([[0], rng.randint(0, num_classes, n - 1)])
    valid = rng.rand(num_verbs, num_classes) < 0.6
    hois = []
    for o in range(1, n):
        verbs = rng.choice(np.flatnonzero(valid[:, classes[o]]) if valid[:, classes[o]].any() else [0],
                           size=rng.randint(1, 4))
        if o == 1:  # at least one pair with two verbs
            verbs = np.array([verbs[0], (verbs[0] + 1) % num_verbs])
        valid[verbs, classes[o]] = True
        hois += [(0, o, int(v)) for v in dict.fromkeys(verbs.tolist())]
    rng.shuffle(hois)
    return boxes, classes, hois, valid, size


@pytest.mark.parametrize("seed", range(8))
def test_per_hoi_rule_equals_the_authors(seed):
    boxes, classes, hois, valid, size = _scene(seed)
    assert len(hois) > len({(s, o) for s, o, _ in hois})  # multi-verb pairs present
    t = build_ggnet_targets(boxes, classes, hois, valid.shape[1], valid.shape[0], size, valid,
                            gaze_sigma_factors=(8.0, 2.0), hard_negative_rule="per_hoi_in_order")
    ref = reference_maps(boxes, classes, hois, valid.T, valid.shape[0], size, 6.0, 6.0)
    ref_hard = reference_maps(boxes, classes, hois, valid.T, valid.shape[0], size, 8.0, 2.0)
    assert (ref < 0).any()
    np.testing.assert_allclose(t["hna_map"], ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(t["gaze_hna_map"], ref_hard, rtol=0, atol=1e-6)


def test_the_rules_differ_on_a_multi_verb_pair_by_hand():
    # One pair, interaction point (10, 10), positive radius 0 (the centers share a row: dy = 0 -> radius 0);
    # verbs 0, 1, 2 valid, HOIs (verb 0) then (verb 1). Authors: HOI 0 draws +1 on channel 0 and radius-3
    # negatives on channels 1 and 2; HOI 1 max-pastes +1 on channel 1 (the 48 other negative pixels stay) and skips
    # its negatives (channel 0 and 2 squares are non-zero). Per pair: verbs 0 and 1 are labelled for the pair, so
    # only channel 2 gets a negative.
    boxes = np.array([[4, 8, 8, 12], [12, 8, 16, 12]], np.float32)  # centers (6, 10), (14, 10)
    classes = np.array([0, 1])
    valid = np.zeros((3, 2), bool)
    valid[:, 1] = True
    hois = [(0, 1, 0), (0, 1, 1)]
    args = (boxes, classes, hois, 2, 3, (20, 20), valid)
    ours = build_ggnet_targets(*args, hard_negative_rule="per_hoi_in_order")["hna_map"]
    pair = build_ggnet_targets(*args)["hna_map"]
    for m in (ours, pair):
        assert m[0, 10, 10] == 1 and m[1, 10, 10] == 1 and m[2, 10, 10] == -1
        assert np.count_nonzero(m[2] < 0) == 49 and np.count_nonzero(m[0]) == 1
    assert np.count_nonzero(ours[1] < 0) == 48 and np.count_nonzero(pair[1]) == 1
    # reverse annotation order: now channel 0 keeps the 48 negatives
    rev = build_ggnet_targets(boxes, classes, hois[::-1], 2, 3, (20, 20), valid,
                              hard_negative_rule="per_hoi_in_order")["hna_map"]
    assert np.count_nonzero(rev[0] < 0) == 48 and np.count_nonzero(rev[1]) == 1


def test_per_pair_rule_is_the_default_and_bad_names_fail():
    boxes, classes, hois, valid, size = _scene(3)
    a = build_ggnet_targets(boxes, classes, hois, 3, 6, size, valid)
    b = build_ggnet_targets(boxes, classes, hois, 3, 6, size, valid, hard_negative_rule="per_pair")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="hard_negative_rule"):
        build_ggnet_targets(boxes, classes, hois, 3, 6, size, valid, hard_negative_rule="authors")


def test_config_reaches_the_mapper():
    cfg = add_ggnet_config(get_cfg())
    assert cfg.INPUT.GGNET.HARD_NEGATIVE_RULE == "per_pair"
    cfg.INPUT.GGNET.HARD_NEGATIVE_RULE = "per_hoi_in_order"
    cfg.DATASETS.TRAIN = ()
    assert HOIDatasetMapper(cfg, is_train=True).hard_negative_rule == "per_hoi_in_order"
