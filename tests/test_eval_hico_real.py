"""HICODetEvaluator on the real HICO-DET test ground truth (../shared/data), skipped when the data is absent."""
from types import SimpleNamespace

import pytest

from ggnet_d2.evaluation import HICODetEvaluator, ground_truth_from_dataset_dicts
from ggnet_d2.evaluation.prediction_format import invert_id_map
from shared_data import SHARED

HICO_TEST = SHARED / "hico_det" / "instances_test2015.json"


@pytest.fixture(scope="module")
def hico_test():
    if not HICO_TEST.exists():
        pytest.skip(f"{HICO_TEST} not available")
    from ggnet_d2.data import load_hico_det_instances
    return load_hico_det_instances(str(HICO_TEST))


def _gt_as_predictions(dicts, meta):
    things = invert_id_map(meta["thing_dataset_id_to_contiguous_id"], "things")
    verbs = invert_id_map(meta["verb_dataset_id_to_contiguous_id"], "verbs")
    return [{"file_name": d["file_name"],
             "predictions": [{"bbox": list(a["bbox"]), "category_id": things[a["category_id"]]}
                             for a in d["annotations"]],
             "hoi_prediction": [{"subject_id": h["subject_id"], "object_id": h["object_id"],
                                 "category_id": verbs[h["verb_id"]], "score": 1.0} for h in d["hoi_annotations"]]}
            for d in dicts]


@pytest.mark.slow
def test_ground_truth_as_predictions_scores_100(hico_test):
    dicts, meta = hico_test
    assert len(meta["hoi_classes"]) == 600 and len(meta["rare_hoi_ids"]) == 138
    gt = ground_truth_from_dataset_dicts(dicts)
    assert sum(map(len, gt.values())) > 30000  # the test split's ~33k pairs
    ev = HICODetEvaluator(ground_truth=gt, metadata=SimpleNamespace(name="hico", **meta), distributed=False)
    res = ev.evaluate_predictions(_gt_as_predictions(dicts, meta))["hoi"]
    for mode in ("default", "known_object"):
        for subset in ("full", "rare", "non_rare"):
            assert res[f"mAP_{mode}_{subset}"] == pytest.approx(100.0)
            assert res[f"mean_recall_{mode}_{subset}"] == pytest.approx(100.0)
