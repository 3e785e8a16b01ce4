"""V-COCO with all 26 actions in the official file layouts (vcoco_test.json, COCO instances, vcoco_test.ids), scored
from prediction entries by the evaluator built on the built-in metadata (29 verbs); APs worked out by hand."""
import json
import uuid

import numpy as np
import pytest
from detectron2.data import MetadataCatalog

from ggnet_d2.data.datasets.builtin import register_all_builtin_hoi
from ggnet_d2.data.datasets.constants import VCOCO_ACTIONS
from ggnet_d2.evaluation import VCOCOEvaluator

ACTIONS = [a for a, _ in VCOCO_ACTIONS]
# image 1: P1 (11) rides bike 13 and stands; P2 (12) holds cup 14 and walks.
# image 2: P3 (21) stands, kicks and hits ball 23 (no instrument), holds something unseen (no role object);
#          P4 (22) is not annotated in V-COCO (ignored by the official evaluation).
BOXES = {11: [0, 0, 20, 40], 12: [50, 0, 20, 40], 13: [0, 30, 20, 20], 14: [60, 10, 5, 5],
         21: [0, 0, 20, 40], 22: [100, 0, 20, 40], 23: [20, 30, 10, 10]}
PERSONS = [11, 12, 21]  # V-COCO's annotated agents, the same list in every action record
POSITIVE = {  # (action, agent) -> role objects (0 = none)
    ("ride", 11): [13], ("stand", 11): [], ("hold", 12): [14], ("walk", 12): [],
    ("stand", 21): [], ("kick", 21): [23], ("hit", 21): [0, 23], ("hold", 21): [0],
}


@pytest.fixture()
def vcoco_name(tmp_path):
    root = tmp_path / "v-coco"
    (root / "data" / "vcoco").mkdir(parents=True)
    (root / "data" / "splits").mkdir(parents=True)
    image_of = {11: 1, 12: 1, 13: 1, 14: 1, 21: 2, 22: 2, 23: 2}
    cats = {11: 1, 12: 1, 21: 1, 22: 1, 13: 2, 14: 47, 23: 37}
    coco = {"images": [{"id": 1, "file_name": "COCO_val2014_000000000001.jpg", "width": 200, "height": 100},
                       {"id": 2, "file_name": "COCO_val2014_000000000002.jpg", "width": 200, "height": 100}],
            "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "bicycle"}, {"id": 37, "name": "sports ball"},
                           {"id": 47, "name": "cup"}],
            "annotations": [{"id": a, "image_id": image_of[a], "category_id": cats[a], "bbox": b,
                             "area": b[2] * b[3], "iscrowd": 0} for a, b in BOXES.items()]}
    vcoco = []
    for action, roles in VCOCO_ACTIONS:
        labels = [1 if (action, p) in POSITIVE else 0 for p in PERSONS]
        role_ids = [PERSONS]  # role-major: agents, then each role's objects
        for r in range(len(roles)):
            role_ids.append([POSITIVE.get((action, p), [0] * len(roles))[r] if (action, p) in POSITIVE else 0
                             for p in PERSONS])
        vcoco.append({"action_name": action, "role_name": ["agent", *roles], "ann_id": PERSONS,
                      "image_id": [image_of[p] for p in PERSONS], "label": labels,
                      "role_object_id": [x for block in role_ids for x in block]})
    (root / "data" / "vcoco" / "vcoco_test.json").write_text(json.dumps(vcoco))
    (root / "data" / "splits" / "vcoco_test.ids").write_text("1\n2\n")
    (root / "data" / "instances_vcoco_all_2014.json").write_text(json.dumps(coco))
    prefix = f"t{uuid.uuid4().hex[:6]}_"
    register_all_builtin_hoi(str(tmp_path), prefix)
    return prefix + "vcoco_test"


def xyxy(ann):
    x, y, w, h = BOXES[ann]
    return [x, y, x + w - 1, y + h - 1]


def entries(with_agent_scores=True):
    """PPDM verb ids: ride_instr 5, hold_obj 25, walk 3, kick_obj 7, hit_instr 19, hit_obj 20; COCO object ids."""
    a = ACTIONS.index
    e1 = {"file_name": "COCO_val2014_000000000001.jpg", "image_id": 1,
          "predictions": [{"bbox": xyxy(11), "category_id": 1}, {"bbox": xyxy(12), "category_id": 1},
                          {"bbox": xyxy(13), "category_id": 2}, {"bbox": xyxy(14), "category_id": 47}],
          "hoi_prediction": [{"subject_id": 0, "object_id": 2, "category_id": 5, "score": 0.9},
                             {"subject_id": 1, "object_id": 3, "category_id": 25, "score": 0.8},
                             {"subject_id": 1, "object_id": 1, "category_id": 3, "score": 0.7}],
          "agent_prediction": [{"subject_id": 0, "category_id": a("stand"), "score": 0.9},
                               {"subject_id": 1, "category_id": a("stand"), "score": 0.6},
                               {"subject_id": 0, "category_id": a("ride"), "score": 0.95},
                               {"subject_id": 1, "category_id": a("walk"), "score": 0.4}]}
    e2 = {"file_name": "COCO_val2014_000000000002.jpg", "image_id": 2,
          "predictions": [{"bbox": xyxy(21), "category_id": 1}, {"bbox": xyxy(23), "category_id": 37},
                          {"bbox": xyxy(22), "category_id": 1}],
          "hoi_prediction": [{"subject_id": 0, "object_id": 1, "category_id": 7, "score": 0.85},
                             {"subject_id": 0, "object_id": 0, "category_id": 25, "score": 0.5},  # hold, no object
                             {"subject_id": 0, "object_id": 1, "category_id": 20, "score": 0.6},
                             {"subject_id": 0, "object_id": 1, "category_id": 19, "score": 0.55},  # no instr in GT
                             {"subject_id": 2, "object_id": 1, "category_id": 7, "score": 0.95}],  # P4: ignored
          "agent_prediction": [{"subject_id": 0, "category_id": a("stand"), "score": 0.8},
                               {"subject_id": 0, "category_id": a("kick"), "score": 0.7},
                               {"subject_id": 0, "category_id": a("hold"), "score": 0.3},
                               {"subject_id": 2, "category_id": a("stand"), "score": 0.99}]}
    if not with_agent_scores:
        del e1["agent_prediction"], e2["agent_prediction"]
    return [e1, e2]


def test_all_26_actions_scored_with_hand_values(vcoco_name, tmp_path):
    meta = MetadataCatalog.get(vcoco_name)
    assert len(meta.verb_classes) == 29
    ev = VCOCOEvaluator(vcoco_name, str(tmp_path / "out"), distributed=False)
    assert ev._gt.actions == ACTIONS and [r[1:] for r in ev._gt.roles] == [list(r) for _, r in VCOCO_ACTIONS]
    res = ev.evaluate_predictions(entries())["vcoco"]
    per = json.loads((tmp_path / "out" / "vcoco_ap.json").read_text())["per_class"]
    agent = per["agent"]
    # stand: P4 0.99 matches an unannotated person (skipped), P1 0.9 TP, P3 0.8 TP, P2 0.6 FP -> AP 1
    # ride: P1 0.95 TP -> 1; walk: P2 0.4 TP -> 1 (the walk triplet's 0.7 is no agent score when agent_prediction
    # is given); kick: P3 0.7 TP -> 1; hold: 2 positives, only P3 0.3 listed -> recall 1/2 -> AP 0.5;
    # hit: no agent score -> 0; the 20 actions without positives: NaN
    assert {k: agent[k] for k in ("stand", "ride", "walk", "kick", "hold", "hit")} == pytest.approx(
        {"stand": 100.0, "ride": 100.0, "walk": 100.0, "kick": 100.0, "hold": 50.0, "hit": 0.0})
    assert sum(v is None for v in agent.values()) == 20
    # official agent mean: nansum / 26 actions
    assert res["AP_agent"] == pytest.approx(100 * 4.5 / 26)
    s1, s2 = per["role_scenario_1"], per["role_scenario_2"]
    # hold_obj: P2 cup 0.8 TP; P3 0.5 with the object = itself -> empty role box where the ground truth has none:
    # TP in both scenarios -> 1. hit_instr: P3 0.55 predicts a box where P3 has no instrument: S1 FP (AP 0),
    # S2 TP (AP 1). ride_instr, kick_obj (P4's 0.95 skipped), hit_obj: 1.
    for key in ("ride_instr", "hold_obj", "kick_obj", "hit_obj"):
        assert s1[key] == pytest.approx(100.0) and s2[key] == pytest.approx(100.0), key
    assert s1["hit_instr"] == 0.0 and s2["hit_instr"] == pytest.approx(100.0)
    assert s1["eat_obj"] is None  # no positives
    assert res["AP_role_scenario_1"] == pytest.approx(100 * 4 / 5)
    assert res["AP_role_scenario_2"] == pytest.approx(100.0)


def test_without_agent_records_agent_scores_come_from_triplets(vcoco_name, tmp_path):
    ev = VCOCOEvaluator(vcoco_name, str(tmp_path / "out"), distributed=False)
    ev.evaluate_predictions(entries(with_agent_scores=False))
    agent = json.loads((tmp_path / "out" / "vcoco_ap.json").read_text())["per_class"]["agent"]
    # hold: P2 0.8 (hold_obj) TP, P3 0.5 TP -> 1; walk: the walk triplet 0.7 -> 1; stand: never predicted -> 0;
    # hit: P3's best hit triplet 0.6 -> TP -> 1
    assert {k: agent[k] for k in ("hold", "walk", "stand", "hit")} == pytest.approx(
        {"hold": 100.0, "walk": 100.0, "stand": 0.0, "hit": 100.0})


def test_vcoco_prediction_checks(vcoco_name):
    ev = VCOCOEvaluator(vcoco_name, distributed=False)
    with pytest.raises(ValueError, match=r"1 of the 2 images of the split have no prediction entry \(first: "
                                         r"COCO_val2014_000000000002.jpg\)"):
        ev.evaluate_predictions(entries()[:1])
    res = VCOCOEvaluator(vcoco_name, distributed=False, allow_missing_images=True).evaluate_predictions(entries()[:1])
    assert np.isfinite(res["vcoco"]["AP_agent"])
    bad = entries()
    bad[0]["agent_prediction"][0]["category_id"] = 26
    with pytest.raises(ValueError, match=r"agent_prediction\[0\] category_id 26 is not an action index 0..25"):
        ev.evaluate_predictions(bad)
    bad = entries()
    bad[1]["hoi_predictions"] = bad[1].pop("hoi_prediction")
    with pytest.raises(ValueError, match=r"entry 1 .*unknown key\(s\) \['hoi_predictions'\]"):
        ev.evaluate_predictions(bad)
