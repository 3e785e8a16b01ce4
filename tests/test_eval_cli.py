"""tools/evaluate_hoi.py scores a prediction file against a registered dataset via build_hoi_evaluator."""
import importlib.util
import json
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from test_eval_hico import META, OBJ, SUB, entry

TOOL = Path(__file__).resolve().parents[1] / "tools" / "evaluate_hoi.py"


def test_cli_on_registered_dataset(tmp_path):
    name = "ggnet_test_eval_cli_toy"
    if name not in DatasetCatalog.list():
        DatasetCatalog.register(name, lambda: [{
            "file_name": "/x/a.jpg", "image_id": 1, "height": 50, "width": 50,
            "annotations": [{"bbox": SUB, "bbox_mode": 0, "category_id": 0},
                            {"bbox": OBJ, "bbox_mode": 0, "category_id": 1}],
            "hoi_annotations": [{"subject_id": 0, "object_id": 1, "verb_id": 0, "hoi_id": 0}]}])
        MetadataCatalog.get(name).set(**{k: v for k, v in vars(META).items() if k != "name"},
                                      evaluator_type="hico_det")
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps([entry("a.jpg", [(0, SUB, OBJ, 0.9), (0, SUB, OBJ, 0.8)])]))
    spec = importlib.util.spec_from_file_location("evaluate_hoi", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    res = tool.main(["--predictions", str(preds), "--dataset", name, "--output-dir", str(tmp_path)])
    # class 0: TP then duplicate FP -> AP 1; class 1 (no ground truth, no detections) counts 0 under HICO-DET rules.
    assert res["hoi"]["mAP_default_non_rare"] == pytest.approx(50.0)
    assert (tmp_path / "per_hoi_ap.json").exists()
