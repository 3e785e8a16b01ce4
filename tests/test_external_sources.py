"""External candidate sources: detection-file layouts and errors, class mapping, a tiny detectron2 detector inside
GGNet through ``train_net.py --eval-only``, and the ground-truth source against the same boxes given as a file."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import DatasetCatalog
from detectron2.data.detection_utils import read_image
from detectron2.engine import default_argument_parser
from detectron2.modeling import build_model

from ggnet_d2.formats.detections import load_detection_file
from ggnet_d2.data.external_detections import Detectron2DetectorInput
from ggnet_d2.engine import setup_cfg
from ggnet_d2.modeling.external import Detectron2Detector
from ggnet_d2.utils.external_detections import class_table_by_name, class_table_from_list

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = str(REPO / "configs" / "quickstart" / "GGNet_R18_synth.yaml")
DETECTOR = str(REPO / "configs" / "external" / "detectors" / "faster_rcnn_R_50_FPN_3x_COCO.yaml")
TINY_R18 = ["INPUT.GGNET.INPUT_SIZE", "64", "INPUT.GGNET.TEST_SIZE", "64", "SOLVER.IMS_PER_BATCH", "2",
            "DATALOADER.NUM_WORKERS", "0", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[32, 32, 32]",
            "MODEL.GGNET.HEAD_CONV", "16", "MODEL.DEVICE", "cpu"]
# detectron2's Faster R-CNN R50-FPN shrunk to ResNet-18, 16 FPN channels, 64-pixel test images, random weights
TINY_DETECTOR = str(["MODEL.RESNETS.DEPTH", "18", "MODEL.RESNETS.RES2_OUT_CHANNELS", "64", "MODEL.FPN.OUT_CHANNELS",
                     "16", "MODEL.ROI_BOX_HEAD.FC_DIM", "32", "INPUT.MIN_SIZE_TEST", "64", "INPUT.MAX_SIZE_TEST",
                     "128", "MODEL.ROI_HEADS.SCORE_THRESH_TEST", "0.0", "MODEL.RPN.POST_NMS_TOPK_TEST", "50"])
EXT = "MODEL.GGNET.EXTERNAL_DETECTIONS."


def _write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


def test_coco_results_layout(tmp_path):
    path = _write(tmp_path / "coco.json", [
        {"image_id": 7, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9},
        {"image_id": 7, "category_id": 3, "bbox": [0, 0, 5.5, 2], "score": 0.5},
        {"image_id": 8, "category_id": 2, "bbox": [1, 1, 1, 1], "score": 0.25}])
    index = load_detection_file(path)
    boxes, scores, cats = index.lookup(image_id=7)
    np.testing.assert_allclose(boxes, [[10, 20, 40, 60], [0, 0, 5.5, 2]])  # XYWH -> XYXY
    assert scores.tolist() == pytest.approx([0.9, 0.5]) and cats.tolist() == [1, 3]
    assert index.lookup(image_id=8)[2].tolist() == [2]
    assert index.lookup(image_id=9, file_name="/x/a.jpg") is None


def test_per_image_layout(tmp_path):
    path = _write(tmp_path / "per_image.json", {
        "images/a.jpg": [{"bbox": [1, 2, 3, 4], "score": 0.7, "category_id": 1}],
        "12": [{"bbox": [5, 5, 9, 9], "score": 1, "category_id": 4}, {"bbox": [0, 0, 1, 1], "score": 0.1,
                                                                       "category_id": 1}],
        "empty.png": []})
    index = load_detection_file(path)
    boxes, scores, cats = index.lookup(file_name="/data/other/a.jpg")  # matched by base name
    np.testing.assert_allclose(boxes, [[1, 2, 3, 4]])
    assert index.lookup(image_id=12)[2].tolist() == [4, 1]
    assert index.lookup(image_id=3, file_name="empty.png")[0].shape == (0, 4)


@pytest.mark.parametrize("data,message", [
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
      {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}], "entry 1: bbox must be a list of 4"),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 0.5}], "entry 0: bbox .* negative size"),
    ([{"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}], "entry 0: image_id must be"),
    ([{"image_id": 1, "category_id": 1.5, "bbox": [0, 0, 1, 1], "score": 0.5}], "entry 0: category_id must be"),
    ({"a.jpg": [{"bbox": [0, 0, 1, 1], "category_id": 1}]}, "image 'a.jpg', entry 0: missing key.*score"),
    ({"a.jpg": [{"bbox": [5, 0, 1, 1], "category_id": 1, "score": 1}]}, "image 'a.jpg', entry 0: .*x2 < x1"),
    ({"a.jpg": [{"bbox": [0, 0, 1, 1], "category_id": 1, "score": float("nan")}]},
     "entry 0: score must be a finite number"),
    ({"a.jpg": {"bbox": [0, 0, 1, 1]}}, "image 'a.jpg': expected a list"),
    (3, "expected a JSON list"),
])
def test_malformed_files_name_the_file_and_entry(tmp_path, data, message):
    path = _write(tmp_path / "bad.json", data)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as e:
        load_detection_file(path)
    assert str(path) in str(e.value)


def test_not_json_and_missing_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[{")
    with pytest.raises(ValueError, match="x.json: not valid JSON"):
        load_detection_file(str(bad))
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_detection_file(str(tmp_path / "nope.json"))


def test_class_tables():
    # COCO's names against HICO-DET's underscore spelling; classes the dataset lacks are dropped (-1)
    table = class_table_by_name(["person", "sports ball", "hair drier", "zebra"],
                                ["person", "hair_drier", "sports_ball"])
    assert table.tolist() == [0, 2, 1, -1]
    assert class_table_from_list([-1, 0, 3], 4, "x").tolist() == [-1, 0, 3]
    with pytest.raises(ValueError, match=r"CLASS_MAP.*\(2, 4\)"):
        class_table_from_list([0, 1, 4], 4, "x")


def _train_net():
    spec = importlib.util.spec_from_file_location("train_net", REPO / "train_net.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _random_ggnet_weights(tmp_path):
    """One random GGNet per test (written once, so that every run of the test scores the same model)."""
    path = tmp_path / "ggnet.pth"
    if not path.exists():
        torch.manual_seed(0)
        torch.save({"model": build_model(setup_cfg(QUICKSTART, TINY_R18 + ["DATASETS.TEST", "()"])).state_dict()},
                   path)
    return str(path)


def _eval_only(tmp_path, name, dataset, extra):
    args = default_argument_parser().parse_args(
        ["--config-file", QUICKSTART, "--eval-only", *TINY_R18, "DATASETS.TEST", f"('{dataset}',)",
         "MODEL.WEIGHTS", _random_ggnet_weights(tmp_path), "OUTPUT_DIR", str(tmp_path / name), *extra])
    results = _train_net().main(args)
    predictions = json.loads((tmp_path / name / "inference" / dataset / "predictions.json").read_text())
    return results, predictions


def test_detectron2_detector_runs_inside_ggnet_through_eval_only(tmp_path, tiny_synth_test):
    # random detector weights saved in detectron2's checkpoint layout, then loaded by DetectionCheckpointer
    # every COCO class onto one of the 4 synthetic classes (j % 4), so that random weights still give triplets
    det_opts = [EXT + "SOURCE", "detectron2", EXT + "CONFIG_FILE", DETECTOR, EXT + "DETECTOR_OPTS", TINY_DETECTOR,
                EXT + "CLASS_MAP", str([j % 4 for j in range(80)])]
    cfg = setup_cfg(QUICKSTART, TINY_R18 + det_opts + ["DATASETS.TEST", f"('{tiny_synth_test}',)"])
    weights = tmp_path / "detector.pth"
    torch.save({"model": Detectron2Detector(cfg).model.state_dict()}, weights)
    results, predictions = _eval_only(tmp_path, "det", tiny_synth_test, det_opts + [EXT + "WEIGHTS", str(weights)])
    assert set(results["hoi"]) >= {"mAP_default_full", "mAP_known_object_full"}
    assert len(predictions) == 4
    # independent path: the same detector (same weights file) on the original images; every reported box is one of
    # its detections, with its mapped class
    cfg = setup_cfg(QUICKSTART, TINY_R18 + det_opts + [EXT + "WEIGHTS", str(weights),
                                                      "DATASETS.TEST", f"('{tiny_synth_test}',)"])
    detector, detector_input = Detectron2Detector(cfg), Detectron2DetectorInput(cfg)

    def source(dataset_dicts):  # the detector on the original image file, read here
        return detector([{**d, **detector_input(d, read_image(d["file_name"], cfg.INPUT.FORMAT))}
                         for d in dataset_dicts])
    dicts = {Path(d["file_name"]).name: d for d in DatasetCatalog.get(tiny_synth_test)}
    n_boxes = 0
    for entry in predictions:
        det = source([dicts[entry["file_name"]]])[0]
        for p in entry["predictions"]:
            same = torch.isclose(det["boxes"], torch.tensor(p["bbox"]), atol=1e-3).all(1)
            assert same.any(), p
            assert p["category_id"] - 1 in det["classes"][same].tolist()  # file ids are contiguous + 1
            n_boxes += 1
    assert n_boxes > 0


def test_ground_truth_source_equals_the_same_boxes_as_a_coco_results_file(tmp_path, tiny_synth_test):
    dicts = DatasetCatalog.get(tiny_synth_test)
    rows = [{"image_id": d["image_id"], "category_id": a["category_id"] + 1,  # file ids are contiguous + 1
             "bbox": [a["bbox"][0], a["bbox"][1], a["bbox"][2] - a["bbox"][0], a["bbox"][3] - a["bbox"][1]],
             "score": 1.0} for d in dicts for a in d["annotations"]]
    path = _write(tmp_path / "gt_as_coco_results.json", rows)
    res_gt, pred_gt = _eval_only(tmp_path, "gt", tiny_synth_test, [EXT + "SOURCE", "ground_truth"])
    res_file, pred_file = _eval_only(tmp_path, "file", tiny_synth_test, [EXT + "SOURCE", "file", EXT + "FILE", path])
    assert res_gt["hoi"] == pytest.approx(res_file["hoi"], nan_ok=True)
    assert sum(len(e["hoi_prediction"]) for e in pred_gt) > 0
    for a, b in zip(pred_gt, pred_file):
        assert [p["category_id"] for p in a["predictions"]] == [p["category_id"] for p in b["predictions"]]
        np.testing.assert_allclose([p["bbox"] for p in a["predictions"]], [p["bbox"] for p in b["predictions"]],
                                   atol=1e-3)
    # every reported box is a ground-truth box
    gt_boxes = {Path(d["file_name"]).name: np.array([a["bbox"] for a in d["annotations"]]) for d in dicts}
    for entry in pred_gt:
        for p in entry["predictions"]:
            assert np.isclose(gt_boxes[entry["file_name"]], p["bbox"], atol=1e-3).all(1).any()


def test_unknown_source_and_missing_keys():
    with pytest.raises(KeyError):
        build_model(setup_cfg(QUICKSTART, TINY_R18 + [EXT + "SOURCE", "nonsense"]))
    with pytest.raises(ValueError, match="needs EXTERNAL_DETECTIONS.FILE"):
        build_model(setup_cfg(QUICKSTART, TINY_R18 + [EXT + "SOURCE", "file"]))
    with pytest.raises(ValueError, match="needs EXTERNAL_DETECTIONS.CONFIG_FILE"):
        build_model(setup_cfg(QUICKSTART, TINY_R18 + [EXT + "SOURCE", "detectron2"]))


def test_demo_draws_the_triplets_of_a_detection_file(tmp_path):
    import cv2
    from detectron2.config import get_cfg

    from ggnet_d2 import add_ggnet_config

    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8))
    person, ball = [10.0, 20.0, 50.0, 85.0], [70.0, 30.0, 90.0, 50.0]
    dets = _write(tmp_path / "dets.json", {"photo.png": [{"bbox": person, "score": 0.9, "category_id": 0},
                                                         {"bbox": ball, "score": 0.8, "category_id": 2}]})
    cfg = add_ggnet_config(get_cfg())
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.BACKBONE.NAME", "build_resnet_deconv_backbone",
                         "MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL", "True", "MODEL.RESNET_DECONV.DECONV_CHANNELS",
                         "[16, 16, 16]", "MODEL.GGNET.HEAD_CONV", "8", "MODEL.GGNET.NUM_CLASSES", "3",
                         "MODEL.GGNET.NUM_VERBS", "2", "MODEL.GGNET.NUM_ACTPOINTS", "9", "INPUT.GGNET.TEST_SIZE", "64",
                         "MODEL.GGNET.TEST.TOPK_INTERACTIONS", "4", "DATASETS.TEST", "()",
                         EXT + "SOURCE", "file", EXT + "FILE", dets, EXT + "CLASS_MAP", "[0, 1, 2]"])
    config = tmp_path / "tiny.yaml"
    config.write_text(cfg.dump())
    spec = importlib.util.spec_from_file_location("ggnet_demo_main", REPO / "demo" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.main(["--config-file", str(config), "--input", str(image), "--output", str(tmp_path / "out"),
               "--confidence-threshold", "0"])
    # the demo's entry is in the prediction-file format: boxes in "predictions", triplets index them
    entry = json.loads((tmp_path / "out" / "photo.json").read_text())
    boxes = [p["bbox"] for p in entry["predictions"]]
    triplets = [{"subject_box": boxes[h["subject_id"]], "object_box": boxes[h["object_id"]]}
                for h in entry["hoi_prediction"]]
    assert len(triplets) == 4
    for t in triplets:  # the only person is every subject; objects are the file's boxes (the person included)
        np.testing.assert_allclose(t["subject_box"], person, atol=1e-3)
        assert any(np.allclose(t["object_box"], b, atol=1e-3) for b in (person, ball))
    assert (tmp_path / "out" / "photo.png").is_file()
