"""Full / Seen / Unseen mAP of a zero-shot split (issue 23 item 3) on planted predictions, values by hand."""
from types import SimpleNamespace

import pytest

from ggnet_d2.evaluation import HICODetEvaluator, HOIEvaluator
from ggnet_d2.metrics import seen_unseen_subsets

# 4 HOI classes: (verb, object) = (0, 1), (1, 1), (0, 2), (1, 2); object 0 is the person.
META = SimpleNamespace(name="toy_zs", hoi_classes=[(0, 1), (1, 1), (0, 2), (1, 2)],
                       thing_classes=["person", "ball", "cup"], verb_classes=["hold", "kick"],
                       thing_dataset_id_to_contiguous_id={1: 0, 2: 1, 3: 2},
                       verb_dataset_id_to_contiguous_id={1: 0, 2: 1},
                       rare_hoi_ids=[3], non_rare_hoi_ids=[0, 1, 2])
FILE_IDS = {0: (1, 2), 1: (2, 2), 2: (1, 3), 3: (2, 3)}  # class -> (file verb, file object)
SUB, OBJ, FAR = [0, 0, 9, 9], [20, 0, 29, 9], [60, 60, 69, 69]


def entry(name, dets):
    preds, hois = [], []
    for hoi, obj, score in dets:
        verb, cat = FILE_IDS[hoi]
        preds += [{"bbox": SUB, "category_id": 1}, {"bbox": obj, "category_id": cat}]
        hois.append({"subject_id": len(preds) - 2, "object_id": len(preds) - 1, "category_id": verb, "score": score})
    return {"file_name": name, "predictions": preds, "hoi_prediction": hois}


GT = {"a.jpg": [(0, SUB, OBJ), (1, SUB, OBJ), (3, SUB, OBJ)], "b.jpg": [(3, SUB, OBJ)]}
ENTRIES = [entry("a.jpg", [(0, OBJ, 0.9),          # class 0: one hit -> AP 1
                           (1, FAR, 0.8), (1, OBJ, 0.7),  # class 1: miss then hit -> precision 1/2 at recall 1: AP 1/2
                           (3, OBJ, 0.6)]),        # class 3: 1 of 2 found, precision 1 -> 6 of 11 points: AP 6/11
           entry("b.jpg", [])]                     # class 2: no ground truth (HICO-DET: AP 0; generic: left out)


@pytest.mark.parametrize("cls", [HICODetEvaluator, HOIEvaluator])
def test_seen_unseen_full_by_hand(cls):
    ev = cls(ground_truth=GT, metadata=META, distributed=False, unseen_hoi_ids=[1, 3])
    res = ev.evaluate_predictions(ENTRIES)["hoi"]
    ap = {0: 1.0, 1: 0.5, 3: 6 / 11, 2: 0.0}
    if cls is HICODetEvaluator:
        full, seen = (ap[0] + ap[1] + ap[2] + ap[3]) / 4, (ap[0] + ap[2]) / 2
    else:
        full, seen = (ap[0] + ap[1] + ap[3]) / 3, ap[0]
    unseen = (ap[1] + ap[3]) / 2
    for mode in ("default", "known_object"):  # every planted detection's object is in its image
        assert res[f"mAP_{mode}_full"] == pytest.approx(100 * full)
        assert res[f"mAP_{mode}_seen"] == pytest.approx(100 * seen)
        assert res[f"mAP_{mode}_unseen"] == pytest.approx(100 * unseen)
    assert res["mean_recall_default_unseen"] == pytest.approx(100 * (1 + 0.5) / 2)


def test_known_object_differs_from_default_on_unseen():
    """A false positive of class 3 (object cup) in an image without a cup counts in Default, not in Known-Object."""
    gt = dict(GT, **{"c.jpg": [(0, SUB, OBJ)]})  # ball only
    entries = ENTRIES[:1] + [entry("b.jpg", []), entry("c.jpg", [(0, OBJ, 0.95), (3, OBJ, 0.99)])]
    res = HOIEvaluator(ground_truth=gt, metadata=META, distributed=False,
                       unseen_hoi_ids=[1, 3]).evaluate_predictions(entries)["hoi"]
    # class 3, Default: scores 0.99 (FP, c), 0.6 (TP, a); 2 positives: recall [0, .5], precision [0, .5] -> 6 points
    # of 0.5 = 3/11. Known-Object: c.jpg has no cup, the FP is ignored: AP 6/11 as before.
    assert res["mAP_default_unseen"] == pytest.approx(100 * (0.5 + 3 / 11) / 2)
    assert res["mAP_known_object_unseen"] == pytest.approx(100 * (0.5 + 6 / 11) / 2)


def test_subsets_checked():
    s = seen_unseen_subsets([3, 1, 1], 5)
    assert s["seen"].tolist() == [0, 2, 4] and s["unseen"].tolist() == [1, 3]
    with pytest.raises(ValueError, match="0..4"):
        seen_unseen_subsets([5], 5)


def test_build_hoi_evaluator_adds_the_split(tiny_synth_test):
    from detectron2.config import get_cfg

    from ggnet_d2 import add_ggnet_config
    from ggnet_d2.evaluation import build_hoi_evaluator

    cfg = add_ggnet_config(get_cfg())
    assert "unseen" not in build_hoi_evaluator(cfg, tiny_synth_test)._scorer.subsets
    cfg.DATASETS.HOI.ZERO_SHOT_SPLIT, cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN = "custom", [1, 4]
    subsets = build_hoi_evaluator(cfg, tiny_synth_test)._scorer.subsets
    assert subsets["unseen"].tolist() == [1, 4] and subsets["seen"].tolist() == [0, 2, 3, 5, 6]
    cfg.DATASETS.HOI.ZERO_SHOT_SPLIT = "rare_first"  # a HICO-DET split on a 7-class dataset
    with pytest.raises(ValueError, match="0..6"):
        build_hoi_evaluator(cfg, tiny_synth_test)


@pytest.mark.slow
def test_offline_cli_seen_unseen_on_real_hico(tmp_path):
    """tools/evaluate_hoi.py --zero-shot-split on the real HICO-DET test annotations: the ground truth of the seen
    classes as predictions scores Seen 100, Unseen 0 and Full 480/600 = 80 (HICO-DET counts a class without
    detections as AP 0)."""
    import json

    from shared_data import SHARED

    hico = SHARED / "hico_det" / "instances_test2015.json"
    if not hico.is_file():
        pytest.skip(f"{hico} not present")
    from ggnet_d2.data import load_hico_det_instances
    from ggnet_d2.data.zero_shot import remove_unseen_hois, unseen_hoi_ids
    from ggnet_d2.formats.ids import invert_id_map

    dicts, meta = load_hico_det_instances(str(hico))
    unseen = unseen_hoi_ids("rare_first")
    seen_only, _ = remove_unseen_hois(dicts, {tuple(meta["hoi_classes"][i]) for i in unseen}, "label")
    things = invert_id_map(meta["thing_dataset_id_to_contiguous_id"], "things")
    verbs = invert_id_map(meta["verb_dataset_id_to_contiguous_id"], "verbs")
    entries = [{"file_name": d["file_name"],
                "predictions": [{"bbox": list(a["bbox"]), "category_id": things[a["category_id"]]}
                                for a in d["annotations"]],
                "hoi_prediction": [{"subject_id": h["subject_id"], "object_id": h["object_id"],
                                    "category_id": verbs[h["verb_id"]], "score": 1.0} for h in d["hoi_annotations"]]}
               for d in seen_only]
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps(entries))
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "evaluate_hoi", Path(__file__).resolve().parents[1] / "tools" / "evaluate_hoi.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    res = cli.main(["--predictions", str(pred), "--ground-truth", str(hico), "--zero-shot-split", "rare_first"])["hoi"]
    assert res["mAP_default_seen"] == pytest.approx(100.0) and res["mAP_default_unseen"] == 0.0
    assert res["mAP_default_full"] == pytest.approx(80.0)
    assert res["mAP_known_object_unseen"] == 0.0 and res["mAP_known_object_seen"] == pytest.approx(100.0)
