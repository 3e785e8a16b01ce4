"""HICODetEvaluator / HOIEvaluator on hand-worked cases with known APs (values in percent)."""
from types import SimpleNamespace

import numpy as np
import pytest

from ggnet_d2.evaluation import HICODetEvaluator, HOIEvaluator

# HOI classes: 0 = (verb 0, object 1), 1 = (verb 1, object 1), 2 = (verb 0, object 2); object 0 is the person.
META = SimpleNamespace(name="toy", hoi_classes=[(0, 1), (1, 1), (0, 2)], thing_classes=["person", "ball", "cup"],
                       verb_classes=["hold", "kick"], thing_dataset_id_to_contiguous_id={1: 0, 2: 1, 3: 2},
                       verb_dataset_id_to_contiguous_id={1: 0, 2: 1}, rare_hoi_ids=[2], non_rare_hoi_ids=[0, 1])
HOI_FILE_IDS = {0: (1, 2), 1: (2, 2), 2: (1, 3)}  # HOI class -> (file verb id, file object id)
SUB, OBJ = [0, 0, 9, 9], [20, 0, 29, 9]


def entry(name, dets):
    """dets: list of (hoi_class, subject box, object box, score) -> a PPDM-style prediction entry."""
    preds, hois = [], []
    for hoi, sub, obj, score in dets:
        verb, obj_cat = HOI_FILE_IDS[hoi]
        preds += [{"bbox": list(sub), "category_id": 1}, {"bbox": list(obj), "category_id": obj_cat}]
        hois.append({"subject_id": len(preds) - 2, "object_id": len(preds) - 1, "category_id": verb, "score": score})
    return {"file_name": name, "predictions": preds, "hoi_prediction": hois}


def run(gt, entries, cls=HICODetEvaluator):
    return cls(ground_truth=gt, metadata=META, distributed=False).evaluate_predictions(entries)["hoi"]


def test_duplicate_detection():
    gt = {"a.jpg": [(0, SUB, OBJ)], "b.jpg": [(0, SUB, OBJ)]}
    res = run(gt, [entry("a.jpg", [(0, SUB, OBJ, 0.9), (0, SUB, OBJ, 0.8)]), entry("b.jpg", [(0, SUB, OBJ, 0.7)])])
    # tp = [1, 0, 1]: recall [.5, .5, 1], precision [1, .5, 2/3] -> 11-point AP 28/33; classes 1, 2 have AP 0.
    assert res["mAP_default_full"] == pytest.approx(100 * 28 / 33 / 3)
    assert res["mAP_default_non_rare"] == pytest.approx(100 * 28 / 33 / 2)
    assert res["mAP_default_rare"] == 0.0
    assert res["mean_recall_default_full"] == pytest.approx(100 / 3)


def test_best_pair_taken_is_false_positive_even_if_second_pair_is_free():
    g1_sub = [0, 2, 9, 11]  # IoU with SUB: 80 / 120 = 2/3
    gt = {"a.jpg": [(0, SUB, OBJ), (0, g1_sub, OBJ)]}
    # The 0.8 detection overlaps pair 0 fully (taken by the 0.9 one) and pair 1 by 2/3: the official code keeps
    # the best pair and calls it a false positive; the 0.7 one takes pair 1.
    res = run(gt, [entry("a.jpg", [(0, SUB, OBJ, 0.9), (0, SUB, OBJ, 0.8), (0, g1_sub, OBJ, 0.7)])])
    assert res["mAP_default_non_rare"] == pytest.approx(100 * 28 / 33 / 2)


def test_empty_class_counts_zero_for_hico_and_is_left_out_by_generic():
    gt = {"a.jpg": [(0, SUB, OBJ), (1, SUB, OBJ)]}  # class 1 has no detection, class 2 no ground truth
    entries = [entry("a.jpg", [(0, SUB, OBJ, 0.9)])]
    assert run(gt, entries)["mAP_default_full"] == pytest.approx(100 / 3)
    generic = run(gt, entries, HOIEvaluator)
    assert generic["mAP_default_full"] == pytest.approx(50.0)
    assert np.isnan(generic["mAP_default_rare"])


def test_detections_on_image_without_ground_truth_are_false_positives():
    gt = {"a.jpg": [(0, SUB, OBJ)], "empty.jpg": []}
    res = run(gt, [entry("empty.jpg", [(0, SUB, OBJ, 0.9)]), entry("a.jpg", [(0, SUB, OBJ, 0.8)])])
    # precision [0, .5] at recall [0, 1]: AP 0.5 (a port dropping empty images would report 1.0).
    assert res["mAP_default_non_rare"] == pytest.approx(100 * 0.5 / 2)


def test_known_object_mode_keeps_only_images_with_the_object():
    gt = {"a.jpg": [(0, SUB, OBJ)], "b.jpg": [(2, SUB, OBJ)], "c.jpg": [(1, SUB, OBJ)]}
    dets = [entry("c.jpg", [(0, SUB, [40, 40, 49, 49], 0.95)]), entry("b.jpg", [(0, SUB, OBJ, 0.9)]),
            entry("a.jpg", [(0, SUB, OBJ, 0.8)])]
    res = run(gt, dets)
    # class 0: default ranks c (FP), b (FP), a (TP) -> AP 1/3; known-object drops b (no ball there) -> AP 1/2.
    assert res["mAP_default_full"] == pytest.approx(100 * (1 / 3) / 3)
    assert res["mAP_known_object_full"] == pytest.approx(100 * 0.5 / 3)


def test_score_ties_rank_by_test_image_order_whatever_the_entry_order():
    gt = {"a.jpg": [(0, SUB, OBJ)], "b.jpg": [(0, SUB, OBJ)]}
    wrong = [60, 60, 69, 69]
    # equal scores: the official code ranks a.jpg (first test image) before b.jpg although b's entry comes first:
    # TP (a) then FP (b): recall [.5, .5], precision [1, .5] -> t = 0 .. 0.5 at 1 -> AP 6/11
    # (b first would give precision [0, .5] -> 6 * .5 / 11 = 3/11).
    res = run(gt, [entry("b.jpg", [(0, SUB, wrong, 0.5)]), entry("a.jpg", [(0, SUB, OBJ, 0.5)])])
    assert res["mAP_default_non_rare"] == pytest.approx(100 * 6 / 11 / 2)
    # b.jpg is the first test image now: its FP ranks first -> 3/11
    res = run({"b.jpg": gt["b.jpg"], "a.jpg": gt["a.jpg"]},
              [entry("b.jpg", [(0, SUB, wrong, 0.5)]), entry("a.jpg", [(0, SUB, OBJ, 0.5)])])
    assert res["mAP_default_non_rare"] == pytest.approx(100 * 3 / 11 / 2)


def test_score_ties_within_an_image_keep_the_entry_order():
    gt = {"a.jpg": [(0, SUB, OBJ)]}
    wrong = [60, 60, 69, 69]
    # FP listed before the TP at the same score: precision [0, .5] at recall [0, 1] -> AP 0.5; reversed: 1.
    assert run(gt, [entry("a.jpg", [(0, SUB, wrong, 0.5), (0, SUB, OBJ, 0.5)])])["mAP_default_non_rare"] == \
        pytest.approx(100 * 0.5 / 2)
    assert run(gt, [entry("a.jpg", [(0, SUB, OBJ, 0.5), (0, SUB, wrong, 0.5)])])["mAP_default_non_rare"] == \
        pytest.approx(100 * 1.0 / 2)


@pytest.mark.parametrize("x2, expected", [(4, 100.0), (3, 0.0)])
def test_iou_exactly_half_with_inclusive_pixels(x2, expected):
    # [0,0,4,9] vs [0,0,9,9]: 50 / 100 = 0.5 inclusive (true positive); exclusive widths would give 36/81.
    gt = {"a.jpg": [(0, SUB, OBJ)]}
    res = run(gt, [entry("a.jpg", [(0, [0, 0, x2, 9], OBJ, 0.9)])])
    assert res["mAP_default_non_rare"] == pytest.approx(expected / 2)


def test_bad_records_raise_with_file_and_record():
    gt = {"a.jpg": [(0, SUB, OBJ)]}
    bad = entry("a.jpg", [(0, SUB, OBJ, 0.9)])
    bad["hoi_prediction"][0]["object_id"] = 7
    with pytest.raises(ValueError, match=r"a\.jpg.*hoi_prediction\[0\]"):
        run(gt, [bad])
    with pytest.raises(ValueError, match="not in the ground truth"):
        run(gt, [entry("zzz.jpg", [])])
    with pytest.raises(ValueError, match="two prediction entries"):
        run(gt, [entry("a.jpg", []), entry("a.jpg", [])])


def test_unscored_triplets_and_output_files(tmp_path):
    gt = {"a.jpg": [(0, SUB, OBJ)]}
    e = entry("a.jpg", [(0, SUB, OBJ, 0.9)])
    e["predictions"].append({"bbox": OBJ, "category_id": 3})
    e["hoi_prediction"].append({"subject_id": 0, "object_id": 2, "category_id": 2, "score": 0.99})  # kick cup: no class
    ev = HICODetEvaluator(ground_truth=gt, metadata=META, distributed=False, output_dir=str(tmp_path))
    ev._predictions = [e]
    res = ev.evaluate()["hoi"]
    assert res["mAP_default_non_rare"] == pytest.approx(50.0)
    assert (tmp_path / "predictions.json").exists() and (tmp_path / "per_hoi_ap.json").exists()
