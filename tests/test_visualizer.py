"""HOIVisualizer draws triplets where they are, and hoi_instances_to_json exports them (issue 6, demo)."""
import json

import numpy as np
import pytest
import torch
from detectron2.data.catalog import Metadata
from detectron2.structures import Boxes, Instances

from ggnet_d2.utils.visualizer import HOIVisualizer, hoi_instances_to_json

H = W = 96
META = Metadata(name="_test_vis").set(thing_classes=["person", "ball", "bike"], verb_classes=["hold", "kick"])


def _hois(scores=(0.9,), with_points=True):
    m = len(scores)
    hoi = Instances((H, W))
    hoi.subject_boxes = Boxes(torch.tensor([[8.0, 8.0, 30.0, 60.0]] * m))
    hoi.object_boxes = Boxes(torch.tensor([[60.0, 30.0, 88.0, 56.0]] * m))
    hoi.subject_indices = torch.zeros(m, dtype=torch.int64)
    hoi.object_indices = torch.ones(m, dtype=torch.int64)
    hoi.object_classes = torch.full((m,), 1, dtype=torch.int64)
    hoi.verb_classes = torch.tensor([1] * m, dtype=torch.int64)
    hoi.scores = torch.tensor(scores, dtype=torch.float32)
    if with_points:
        hoi.interaction_points = torch.tensor([[46.0, 15.0]] * m)
        hoi.actpoints = torch.tensor([[[20.0, 85.0], [70.0, 85.0]]] * m)
        hoi.actpoint_weights = torch.tensor([[1.0, 0.0]] * m)
    return hoi


def _draw(hoi, **kw):
    img = np.full((H, W, 3), 128, dtype=np.uint8)
    out = HOIVisualizer(img, META).draw_hoi_predictions(hoi, **kw).get_image()
    assert out.shape == (H, W, 3)
    return img, out


def _changed(a, b, x, y, r=1):
    """Whether any pixel within r of (x, y) differs."""
    return bool(np.any(a[y - r:y + r + 1, x - r:x + r + 1] != b[y - r:y + r + 1, x - r:x + r + 1]))


def test_draws_boxes_and_line_where_expected_and_leaves_the_rest():
    img, out = _draw(_hois())
    assert _changed(img, out, 8, 34)  # subject box left edge
    assert _changed(img, out, 19, 60)  # subject box bottom edge
    assert _changed(img, out, 88, 43)  # object box right edge
    assert _changed(img, out, 33, 37)  # on the line between the centers (19, 34) and (74, 43)
    for x, y in [(3, 3), (92, 3), (45, 90), (92, 92)]:
        assert not _changed(img, out, x, y), (x, y)


def test_threshold_drops_triplets():
    img, out = _draw(_hois(scores=(0.2,)), threshold=0.5)
    assert np.array_equal(img, out)


def test_actpoints_coloured_by_weight_only_when_asked():
    img, plain = _draw(_hois())
    assert not _changed(img, plain, 20, 85) and not _changed(img, plain, 70, 85)
    _, out = _draw(_hois(), show_actpoints=True)
    hi, lo = out[85, 20].astype(int), out[85, 70].astype(int)  # RGB
    assert hi[0] > hi[2] + 50  # weight 1 -> red end of "jet"
    assert lo[2] > lo[0] + 50  # weight 0 -> blue end
    assert not _changed(img, plain, 46, 15) and _changed(plain, out, 46, 15)  # interaction point


def test_show_actpoints_without_points_is_an_error():
    with pytest.raises(ValueError, match="interaction_points"):
        _draw(_hois(with_points=False), show_actpoints=True)


def test_json_export():
    items = hoi_instances_to_json(_hois(scores=(0.9, 0.3)), META, threshold=0.5)
    assert len(items) == 1
    t = items[0]
    assert t["subject_box"] == [8.0, 8.0, 30.0, 60.0] and t["object_box"] == [60.0, 30.0, 88.0, 56.0]
    assert (t["verb"], t["verb_id"], t["object_class"], t["object_class_id"]) == ("kick", 1, "ball", 1)
    assert t["score"] == pytest.approx(0.9) and t["subject_index"] == 0 and t["object_index"] == 1
    assert t["interaction_point"] == [46.0, 15.0]
    assert t["actpoints"] == [[20.0, 85.0], [70.0, 85.0]] and t["actpoint_weights"] == [1.0, 0.0]
    assert json.loads(json.dumps(items)) == items
    assert hoi_instances_to_json(_hois(), None)[0]["verb"] == "1"  # no metadata: ids as names


def test_json_errors_name_the_problem():
    bad = _hois()
    bad.verb_classes = torch.tensor([5])
    with pytest.raises(ValueError, match="row 0: verb id 5"):
        hoi_instances_to_json(bad, META)
    empty = Instances((H, W))
    empty.scores = torch.zeros(0)
    with pytest.raises(ValueError, match="subject_boxes"):
        hoi_instances_to_json(empty, META)
