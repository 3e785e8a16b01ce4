"""Property-based checks (hypothesis) of the dense targets and the HOI evaluation on random scenes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ggnet_d2.data.targets import build_ggnet_targets
from ggnet_d2.metrics.hoi_triplet_eval import evaluate_hoi_triplets

H = W = 24
C, V = 3, 4


@st.composite
def scenes(draw):
    n = draw(st.integers(1, 6))
    boxes = []
    for _ in range(n):
        x1 = draw(st.floats(0, W - 3, allow_nan=False))
        y1 = draw(st.floats(0, H - 3, allow_nan=False))
        boxes.append([x1, y1, x1 + draw(st.floats(1.5, W)), y1 + draw(st.floats(1.5, H))])
    classes = draw(st.lists(st.integers(0, C - 1), min_size=n, max_size=n))
    hois = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, V - 1)),
                         max_size=8, unique=True))
    valid = np.array(draw(st.lists(st.booleans(), min_size=V * C, max_size=V * C))).reshape(V, C)
    return np.array(boxes, np.float32), np.array(classes), hois, valid


@settings(max_examples=60, deadline=None)
@given(scenes())
def test_targets_invariants(scene):
    boxes, classes, hois, valid = scene
    t = build_ggnet_targets(boxes, classes, hois, C, V, (H, W), valid_verb_object=valid)
    assert t["obj_heatmap"].min() >= 0 and t["obj_heatmap"].max() <= 1
    for k in np.flatnonzero(t["obj_mask"]):  # every object's integer center is a peak of exactly 1
        y, x = divmod(int(t["obj_index"][k]), W)
        assert t["obj_heatmap"][classes[k], y, x] == 1.0
    ih, m = t["interaction_heatmap"], t["hna_map"]
    assert m.min() >= -1 and m.max() <= 1
    assert np.array_equal(m[ih > 0], ih[ih > 0]) and (m[ih == 0] <= 0).all()  # positives win
    centers = {int(k): divmod(int(t["obj_index"][k]), W) for k in np.flatnonzero(t["obj_mask"])}
    rows = np.flatnonzero(t["interaction_mask"])
    kept = [h for h in hois if h[0] in centers and h[1] in centers]
    assert len(rows) == len(kept)
    for row, (s, o, v) in zip(rows, kept):
        y, x = divmod(int(t["interaction_index"][row]), W)
        assert ih[v, y, x] == 1.0 and t["interaction_verb"][row] == v
        mask = t["apm_mask"][row]
        assert mask.sum() == 2 and mask[2 * v] == mask[2 * v + 1] == 1
        # APM: interaction point minus offset gives back the integer subject / object centers
        for key, idx in (("apm_subject_offset", s), ("apm_object_offset", o)):
            dx, dy = t[key][row, 2 * v:2 * v + 2]
            assert (y - dy, x - dx) == centers[idx]


@st.composite
def hoi_ground_truth(draw):
    num_images = draw(st.integers(1, 5))
    gt = {}
    for i in range(num_images):
        pairs = []
        for _ in range(draw(st.integers(0, 4))):
            x, y = draw(st.integers(0, 200)), draw(st.integers(0, 200))
            sub = [x, y, x + draw(st.integers(5, 80)), y + draw(st.integers(5, 80))]
            ox, oy = draw(st.integers(0, 200)), draw(st.integers(0, 200))
            obj = [ox, oy, ox + draw(st.integers(5, 80)), oy + draw(st.integers(5, 80))]
            pair = (draw(st.integers(0, 3)), sub, obj)
            # Exact duplicate pairs are left out: under the official protocol the second detection of a duplicate
            # takes the same (first) best pair, finds it taken and counts as a false positive.
            if pair not in pairs:
                pairs.append(pair)
        gt[f"img{i}"] = pairs
    return gt


def _as_detections(gt, extra=None):
    dets = {}
    for key, pairs in gt.items():
        rows = list(pairs) + ([extra] if extra and extra[0] == key else [])
        rows = [r[1:] if len(r) == 4 else r for r in rows]
        dets[key] = {"hoi_classes": np.array([r[0] for r in rows], np.int64),
                     "subject_boxes": np.array([r[1] for r in rows], np.float64).reshape(-1, 4),
                     "object_boxes": np.array([r[2] for r in rows], np.float64).reshape(-1, 4),
                     "scores": np.array([0.9 - 0.01 * j for j in range(len(rows))], np.float64)}
        if extra and extra[0] == key:
            dets[key]["scores"][-1] = 0.01  # the false positive ranks last
    return dets


@settings(max_examples=60, deadline=None)
@given(hoi_ground_truth(), st.integers(0, 3))
def test_ground_truth_as_detections_is_perfect_and_a_late_false_positive_changes_nothing(gt, fp_class):
    hoi_objects = np.array([0, 1, 1, 2])
    res = evaluate_hoi_triplets(gt, _as_detections(gt), hoi_objects)
    has_gt = res["num_positives"] > 0
    ap, recall = res["default"]
    assert np.allclose(ap[has_gt], 1.0) and np.allclose(recall[has_gt], 1.0)
    # a lowest-scored false positive (boxes far from every ground truth) can't lower 11-point AP at full recall
    key = next(iter(gt))
    extra = (key, fp_class, [1000, 1000, 1010, 1010], [1020, 1020, 1030, 1030])
    res_fp = evaluate_hoi_triplets(gt, _as_detections(gt, extra), hoi_objects)
    assert np.allclose(res_fp["default"][0][has_gt], 1.0)
