"""External human/object candidates (GGNet-double-dagger): planted interaction heatmaps and APM offsets matched to
given boxes, by hand-computed expectations."""
import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.external import candidates_from_detections
from ggnet_d2.modeling.postprocess import decode_hoi
from test_modeling_helpers import tiny_cfg

H = W = 16
C, V = 4, 2  # person = 0; class 3 never peaks in the heads' heatmap


def _interactions(b=1):
    """Verb 1 at (5, 4) (0.9): subject expected at (3, 4), object at (8, 4); verb 0 at (12, 6) (0.5): subject at
    (12, 10), object at (12, 3). The heads' object heatmap is empty: every candidate must come from outside."""
    inter = torch.zeros(b, V, H, W)
    sub = torch.zeros(b, 2 * V, H, W)
    ob = torch.zeros(b, 2 * V, H, W)
    inter[:, 1, 4, 5] = 0.9
    sub[:, 2:4, 4, 5] = torch.tensor([2.0, 0.0])
    ob[:, 2:4, 4, 5] = torch.tensor([-3.0, 0.0])
    inter[:, 0, 6, 12] = 0.5
    sub[:, 0:2, 6, 12] = torch.tensor([0.0, -4.0])
    ob[:, 0:2, 6, 12] = torch.tensor([0.0, 3.0])
    zeros = torch.zeros(b, 2, H, W)
    return torch.zeros(b, C, H, W), zeros, zeros, inter, sub, ob, torch.zeros(b, 0, H, W), torch.zeros(b, 0, H, W)


def _decode(humans, objects, valid=None, **kw):
    return decode_hoi(*_interactions(humans["scores"].shape[0]), person_class_id=0, topk_interactions=2,
                      valid_verb_object=valid, humans=humans, objects=objects, **kw)


# feature-map boxes (XYXY) of one image: three persons and two objects
PERSONS = [([2.0, 2.0, 4.0, 6.0], 0.8),  # center (3, 4)
           ([11.5, 9.5, 13.0, 11.0], 0.6),  # center (12.25, 10.25): float centers, not rounded
           ([0.0, 12.0, 2.0, 16.0], 0.95)]  # center (1, 14): high score, far from both
OBJECTS = [([7.5, 3.0, 8.5, 5.0], 3, 0.7),  # center (8, 4), class 3 (absent from the heads)
           ([11.0, 2.0, 13.0, 4.0], 1, 0.4)]  # center (12, 3), class 1


def _detections(persons=PERSONS, objects=OBJECTS):
    boxes = [b for b, _ in persons] + [b for b, _, _ in objects]
    return {"boxes": torch.tensor(boxes).reshape(-1, 4),
            "scores": torch.tensor([s for _, s in persons] + [s for _, _, s in objects]),
            "classes": torch.tensor([0] * len(persons) + [c for _, c, _ in objects], dtype=torch.long)}


def test_external_boxes_give_the_expected_triplets():
    humans, objects = candidates_from_detections([_detections()], person_class_id=0, topk=10)
    # humans sorted by score: (1, 14) 0.95, (3, 4) 0.8, (12.25, 10.25) 0.6
    torch.testing.assert_close(humans["centers"][0], torch.tensor([[1.0, 14.0], [3.0, 4.0], [12.25, 10.25]]))
    d = _decode(humans, objects)
    assert d["valid"][0].tolist() == [True, True]
    assert d["verb_classes"][0].tolist() == [1, 0]
    assert d["subject_index"][0].tolist() == [1, 2]
    ob = d["object_boxes"][0][d["object_index"][0]]
    torch.testing.assert_close(ob, torch.tensor([[7.5, 3.0, 8.5, 5.0], [11.0, 2.0, 13.0, 4.0]]))
    assert d["object_classes"][0][d["object_index"][0]].tolist() == [3, 1]
    torch.testing.assert_close(d["hoi_scores"][0], torch.tensor([0.9 * 0.8 * 0.7, 0.5 * 0.6 * 0.4]))


def test_padding_is_never_matched_and_an_empty_image_gives_invalid_triplets():
    # image 0 has one person and one object; image 1 (the detector returned nothing) only padding
    dets = [_detections(PERSONS[:1], OBJECTS[:1]), _detections([], [])]
    humans, objects = candidates_from_detections(dets, person_class_id=0, topk=10)
    assert humans["mask"].tolist() == [[True], [False]] and objects["mask"].tolist() == [[True, True], [False, False]]
    # a padding slot placed exactly where verb 0 expects its subject, with score 1, must still be ignored
    humans["centers"][0] = torch.tensor([[3.0, 4.0]])
    humans = {k: torch.cat([v, v[:, :1]], 1) for k, v in humans.items()}
    humans["centers"][0, 1] = torch.tensor([12.0, 10.0])
    humans["scores"][0, 1] = 1.0
    humans["mask"][0, 1] = False
    d = _decode(humans, objects)
    assert d["subject_index"][0].tolist() == [0, 0]
    assert d["valid"][1].tolist() == [False, False] and (d["hoi_scores"][1] == 0).all()


def test_no_candidates_at_all_does_not_crash():
    humans, objects = candidates_from_detections([_detections([], [])], person_class_id=0, topk=10)
    assert humans["scores"].shape == (1, 0)
    d = _decode(humans, objects)
    assert not d["valid"].any()


def test_valid_verb_object_and_classes_outside_the_table():
    humans, objects = candidates_from_detections([_detections()], person_class_id=0, topk=10)
    valid = torch.ones(V, C, dtype=torch.bool)
    valid[1, 3] = False  # verb 1 may not take class 3: its object becomes the next by distance / score
    d = _decode(humans, objects, valid)
    first = d["verb_classes"][0] == 1
    # objects by score: person (1, 14) .95, person (3, 4) .8, class 3 .7, person (12.25, 10.25) .6, class 1 .4;
    # costs to (8, 4) without class 3: 12.85, 6.25, -, 12.6, 10.3 -> the person at (3, 4)
    assert d["object_index"][0][first].tolist() == [1]
    assert d["object_classes"][0][d["object_index"][0][first]].tolist() == [0]
    objects["classes"][objects["classes"] == 1] = 7  # a class beyond NUM_CLASSES is valid for no verb
    valid[0] = False
    valid[0, 1] = True
    d = _decode(humans, objects, valid)
    second = d["verb_classes"][0] == 0
    assert not d["valid"][0][second].any()


def test_topk_and_score_threshold():
    humans, objects = candidates_from_detections([_detections()], person_class_id=0, topk=2, score_thresh=0.5)
    assert humans["scores"][0].tolist() == pytest.approx([0.95, 0.8])  # the 0.6 person is past the top 2
    assert objects["scores"][0].tolist() == pytest.approx([0.95, 0.8])  # persons are objects; 0.4 is thresholded
    assert objects["classes"][0].tolist() == [0, 0]


def test_meta_arch_maps_original_boxes_to_the_feature_map_and_back():
    model = build_model(tiny_cfg("resnet", NUM_CLASSES=C, NUM_VERBS=V, NUM_GAZE_STEPS=0,
                                 EXTERNAL_DETECTIONS={"SOURCE": "file"})).eval()
    # original 128x128 resized to the 64x64 input: feature = original / 2 / 4
    dets = _detections()
    dets["boxes"] = dets["boxes"] * 8
    obj, wh, reg, inter, sub, ob, ao, aw = _interactions(2)
    out = {"obj_heatmap": torch.full_like(obj, -30.0), "obj_wh": wh, "obj_offset": reg,
           "interaction_logits": [torch.logit(inter.clamp(1e-6, 1 - 1e-6))], "apm_subject": sub,
           "apm_object": ob, "actpoint_offsets": ao, "actpoint_weights": aw}
    # the mapper's field (original pixels), as a detection file or the ground truth gives it
    inputs = [{"height": 128, "width": 128, "external_detections": dets},
              {"height": 128, "width": 128, "external_detections": _detections([], [])}]
    res = model.inference(out, inputs, [(64, 64), (64, 64)])
    inst, hoi = res[0]["instances"], res[0]["hoi_instances"]
    assert len(inst) == 3 + 5  # 3 humans, 5 objects (persons included); no padding rows
    assert hoi.verb_classes.tolist()[:2] == [1, 0]
    torch.testing.assert_close(hoi.subject_boxes.tensor[:2], torch.tensor([[16.0, 16.0, 32.0, 48.0],
                                                                           [92.0, 76.0, 104.0, 88.0]]))
    torch.testing.assert_close(hoi.object_boxes.tensor[:2], torch.tensor([[60.0, 24.0, 68.0, 40.0],
                                                                          [88.0, 16.0, 104.0, 32.0]]))
    assert hoi.object_classes.tolist()[:2] == [3, 1]
    # the indices point at the reported rows of "instances"
    torch.testing.assert_close(inst.pred_boxes.tensor[hoi.subject_indices], hoi.subject_boxes.tensor)
    torch.testing.assert_close(inst.pred_boxes.tensor[hoi.object_indices], hoi.object_boxes.tensor)
    torch.testing.assert_close(hoi.scores[:2], torch.tensor([0.9 * 0.8 * 0.7, 0.5 * 0.6 * 0.4]))
    assert len(res[1]["instances"]) == 0 and len(res[1]["hoi_instances"]) == 0
