"""V-COCO official protocol on hand-built ground truth in the official file layout (both scenarios)."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from ggnet_d2.evaluation import (VCOCOEvaluator, VCOCOGroundTruth, vcoco_agent_eval, vcoco_role_eval,
                                 vcoco_verb_mapping)

NAN5 = [np.nan] * 5


@pytest.fixture()
def gt(tmp_path):
    # Image 1: person 101 hits with bat 102 (no "obj" role), person 103 runs, person 104 is not in V-COCO (ignored).
    # Image 2: person 201 hits without any role object.
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 200},
                       {"id": 2, "file_name": "b.jpg", "width": 200, "height": 200}],
            "categories": [{"id": 1, "name": "person"}, {"id": 39, "name": "baseball bat"}],
            "annotations": [
                {"id": 101, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
                {"id": 102, "image_id": 1, "category_id": 39, "bbox": [20, 20, 10, 10], "area": 100, "iscrowd": 0},
                {"id": 103, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "area": 100, "iscrowd": 0},
                {"id": 104, "image_id": 1, "category_id": 1, "bbox": [100, 100, 10, 10], "area": 100, "iscrowd": 0},
                {"id": 201, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    vcoco = [{"action_name": "hit", "role_name": ["agent", "instr", "obj"], "ann_id": [101, 103, 201],
              "image_id": [1, 1, 2], "label": [1, 0, 1],
              "role_object_id": [101, 103, 201, 102, 0, 0, 0, 0, 0]},
             {"action_name": "run", "role_name": ["agent"], "ann_id": [101, 103, 201], "image_id": [1, 1, 2],
              "label": [0, 1, 0], "role_object_id": [101, 103, 201]}]
    for name, data in (("coco.json", coco), ("vcoco_test.json", vcoco)):
        (tmp_path / name).write_text(json.dumps(data))
    (tmp_path / "vcoco_test.ids").write_text("1\n2\n")
    return VCOCOGroundTruth(str(tmp_path / "vcoco_test.json"), str(tmp_path / "coco.json"),
                            str(tmp_path / "vcoco_test.ids"))


def official_detections():
    return [
        {"image_id": 1, "person_box": [0, 0, 9, 9], "hit_agent": 0.9, "hit_instr": [20, 20, 29, 29, 0.9],
         "hit_obj": [0, 0, 0, 0, 0.9], "run_agent": 0.8},
        {"image_id": 1, "person_box": [100, 100, 109, 109], "hit_agent": 0.8, "hit_instr": [20, 20, 29, 29, 0.8],
         "hit_obj": NAN5, "run_agent": np.nan},  # matches the unannotated person 104: skipped
        {"image_id": 2, "person_box": [0, 0, 9, 9], "hit_agent": 0.7, "hit_instr": [30, 30, 40, 40, 0.7],
         "hit_obj": [5, 5, 9, 9, 0.7], "run_agent": np.nan},
        {"image_id": 1, "person_box": [50, 50, 59, 59], "hit_agent": 0.5, "hit_instr": [20, 20, 29, 29, 0.5],
         "hit_obj": NAN5, "run_agent": 0.6},
    ]


def test_ground_truth_layout(gt):
    assert gt.actions == ["hit", "run"]
    img1 = gt.images[0]
    np.testing.assert_array_equal(img1["boxes"][0], [0, 0, 9, 9])  # (x, y, w, h) -> inclusive x2 = x + w - 1
    assert img1["gt_actions"].tolist() == [[1, 0], [-1, -1], [0, 1], [-1, -1]]
    assert img1["gt_role_id"][0, 0].tolist() == [1, -1]


def test_agent_and_role_ap_hand_values(gt):
    dets = official_detections()
    agent_ap, agent_map = vcoco_agent_eval(gt, dets)
    # hit: 0.9 TP, 0.7 TP, 0.5 FP (person 103 does not hit) -> 1.0; run: 0.8 FP (101), 0.6 TP -> 0.5.
    np.testing.assert_allclose(agent_ap, [1.0, 0.5])
    assert agent_map == pytest.approx(0.75)
    role1, mean1 = vcoco_role_eval(gt, dets, scenario=1)
    role2, mean2 = vcoco_role_eval(gt, dets, scenario=2)
    # instr: 0.9 TP; 0.7 predicts a box where 201 has no instrument (S1: FP, S2: TP); 0.5 FP (103 does not hit).
    # obj: 0.9 empty box where 101 has no object (TP both); 0.7 a box where 201 has none (S1: FP, S2: TP).
    np.testing.assert_allclose(role1[0], [0.5, 0.5])
    np.testing.assert_allclose(role2[0], [1.0, 1.0])
    assert np.all(np.isnan(role1[1]))
    assert (mean1, mean2) == (pytest.approx(0.5), pytest.approx(1.0))
    with pytest.raises(ValueError, match="scenario"):
        vcoco_role_eval(gt, dets, scenario=3)


def _entry(name, image_id, boxes, triplets):
    return {"file_name": name, "image_id": image_id,
            "predictions": [{"bbox": b, "category_id": c} for b, c in boxes],
            "hoi_prediction": [{"subject_id": s, "object_id": o, "category_id": v, "score": sc}
                               for s, o, v, sc in triplets]}


def test_evaluator_converts_triplets_to_the_same_numbers(gt, tmp_path):
    meta = SimpleNamespace(verb_classes=["hit_instr", "hit_obj", "run"],
                           verb_dataset_id_to_contiguous_id={1: 0, 2: 1, 3: 2},
                           thing_dataset_id_to_contiguous_id={1: 0, 39: 1})
    p101, bat, p103, p104 = [0, 0, 9, 9], [20, 20, 29, 29], [50, 50, 59, 59], [100, 100, 109, 109]
    entries = [
        # object_id == subject_id means "no role object" -> all-zero role box.
        _entry("a.jpg", 1, [(p101, 1), (bat, 39), (p103, 1), (p104, 1)],
               [(0, 1, 1, 0.9), (0, 0, 2, 0.9), (0, 0, 3, 0.8), (0, 1, 1, 0.3), (3, 1, 1, 0.8),
                (2, 1, 1, 0.5), (2, 2, 3, 0.6)]),
        _entry("b.jpg", 2, [(p101, 1), ([30, 30, 40, 40], 39), ([5, 5, 9, 9], 39)],
               [(0, 1, 1, 0.7), (0, 2, 2, 0.7)]),
    ]
    ev = VCOCOEvaluator(metadata=meta, ground_truth=gt, distributed=False, output_dir=str(tmp_path))
    res = ev.evaluate_predictions(entries)["vcoco"]
    assert res == {"AP_agent": pytest.approx(75.0), "AP_role_scenario_1": pytest.approx(50.0),
                   "AP_role_scenario_2": pytest.approx(100.0)}
    assert (tmp_path / "vcoco_ap.json").exists()


def test_verb_mapping_is_explicit(gt):
    assert vcoco_verb_mapping(["hit_instr", "hit_obj", "run"], gt.actions, gt.roles) == [
        ("hit", "instr"), ("hit", "obj"), ("run", "agent")]
    for bad in (["hit"], ["run_obj"], ["hit_agent"], ["eat_obj"]):
        with pytest.raises(ValueError, match="verb class"):
            vcoco_verb_mapping(bad, gt.actions, gt.roles)
