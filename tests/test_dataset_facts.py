"""Issue 12, item 1: a model builds from its config alone (no dataset file), the correspondence travels in
checkpoints, and the person class of the metadata is enforced."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model
from PIL import Image

from ggnet_d2.data import register_hoi_json
from ggnet_d2.data.datasets.builtin import hoiw_demo_correspondence
from ggnet_d2.data.datasets.hico_det import hico_official_correspondence
from ggnet_d2.engine import setup_cfg
from ggnet_d2.modeling import GGNetCheckpointer
from ggnet_d2.engine.dataset_facts import add_dataset_facts, adopt_dataset_facts

from test_modeling_helpers import tiny_cfg

REPO = Path(__file__).resolve().parents[1]
DLA_TINY = ["MODEL.DLA.CHANNELS", "[4, 8, 8, 16, 16, 32]", "MODEL.GGNET.HEAD_CONV", "8",
            "MODEL.GGNET.NUM_ACTPOINTS", "9", "INPUT.GGNET.TEST_SIZE", "64", "MODEL.DEVICE", "cpu"]


def _shared_data():
    """../shared/data next to the repository (CI), else $GGNET_D2_SHARED, else /work/shared/data; None if absent."""
    for candidate in (REPO.parent / "shared" / "data", os.environ.get("GGNET_D2_SHARED"), "/work/shared/data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _run(args, tmp_path, timeout=300):
    empty = tmp_path / "no_datasets"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ, DETECTRON2_DATASETS=str(empty), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def test_demo_runs_without_dataset_files(tmp_path):
    """The README's demo command with only a checkpoint: no HICO-DET file exists under DETECTRON2_DATASETS."""
    cfg = setup_cfg(str(REPO / "configs/GGNet_DLA34_HICO.yaml"), DLA_TINY + ["MODEL.WEIGHTS", ""])
    GGNetCheckpointer(build_model(cfg), save_dir=str(tmp_path)).save("model_final")
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (48, 64, 3), np.uint8)).save(tmp_path / "x.jpg")
    log = _run(["demo/demo.py", "--config-file", "configs/GGNet_DLA34_HICO.yaml", "--input", str(tmp_path / "x.jpg"),
                "--output", str(tmp_path / "out"), "--confidence-threshold", "0",
                "--opts", *DLA_TINY, "MODEL.WEIGHTS", str(tmp_path / "model_final.pth")], tmp_path)
    entry = json.loads((tmp_path / "out" / "x.json").read_text())
    assert entry["file_name"] == "x.jpg" and isinstance(entry["hoi_prediction"], list)
    assert "HOI triplets in" in log and "FileNotFoundError" not in log


def test_convert_weights_runs_without_dataset_files(tmp_path):
    from test_modeling_convert import _reference_state

    model = build_model(setup_cfg(str(REPO / "configs/GGNet_DLA34_HICO.yaml"), DLA_TINY))
    # the authors' names without the interaction heatmap and APM heads, plus one tensor no source has
    ref = {k: v for k, v in _reference_state(model, hourglass=False).items()
           if not k.startswith(("module.hm_rel", "module.sub_offset", "module.obj_offset"))}
    ref["module.junk.weight"] = torch.zeros(1)
    torch.save({"state_dict": ref}, tmp_path / "ref.pth")
    log = _run(["tools/convert_weights.py", "--config-file", "configs/GGNet_DLA34_HICO.yaml", "--allow-partial",
                "--input", str(tmp_path / "ref.pth"), "--output", str(tmp_path / "out.pth"), *DLA_TINY], tmp_path)
    assert "recognised source:" in log
    assert "unmapped reference tensors: 1" in log and "junk.weight" in log
    out = torch.load(tmp_path / "out.pth", weights_only=False)["model"]
    assert torch.equal(out["heads.0.object.hm.2.bias"], ref["module.hm.2.bias"])


def test_model_complexity_runs_without_dataset_files(tmp_path):
    log = _run(["tools/model_complexity.py", "--size", "64", "--backbones", "resnet18"], tmp_path)
    assert "resnet18: params" in log


def test_builtin_correspondences_are_static_and_used_by_the_model():
    cfg = tiny_cfg("resnet")
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 80, 117
    cfg.DATASETS.TEST = ("hico_det_test",)
    model = build_model(add_dataset_facts(cfg))  # the annotation files are not on this machine: nothing may be read
    assert model.valid_verb_object_source == "metadata:hico_det_test"
    assert model.valid_verb_object.sum() == 600
    assert torch.equal(model.valid_verb_object, torch.from_numpy(hico_official_correspondence()))
    assert "valid_verb_object" not in MetadataCatalog.get("hoiw_demo").pending_keys()
    assert hoiw_demo_correspondence().sum() == 10


def test_hoiw_demo_pairs_match_the_file():
    shared = _shared_data()
    if shared is None or not (shared / "hoiw_demo" / "annotations.json").is_file():
        pytest.skip("HOI-W demo sample absent")
    raw = json.loads((shared / "hoiw_demo" / "annotations.json").read_text())
    valid = np.zeros((10, 11), bool)
    for r in raw:
        for h in r["hoi_annotation"]:
            obj = r["annotations"][int(h["object_id"])]
            valid[int(h["category_id"]) - 1, int(obj["category_id"]) - 1] = True
    np.testing.assert_array_equal(valid, hoiw_demo_correspondence())


def _custom(tmp_path, classes=None):
    """A 1-image custom dataset: person (file id 5) rides class 2; registered (nothing read)."""
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    rec = {"file_name": "a.png", "annotations": [{"bbox": [1, 2, 11, 22], "category_id": 5},
                                                  {"bbox": [5, 5, 30, 20], "category_id": 2}],
           "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 1}]}
    (tmp_path / "ann.json").write_text(json.dumps([rec]))
    name = f"custom_{uuid.uuid4().hex[:8]}"
    meta = {}
    if classes is not None:
        meta = {"thing_classes": classes, "thing_dataset_id_to_contiguous_id": {i + 1: i for i in range(5)}}
    register_hoi_json(name, str(tmp_path / "ann.json"), str(tmp_path), meta)
    return name


PERSON_AT_4 = ["cup", "bike", "dog", "car", "person"]


def test_person_class_id_disagreeing_with_metadata_is_an_error(tmp_path):
    cfg = tiny_cfg("resnet", NUM_CLASSES=5, NUM_VERBS=1)
    cfg.DATASETS.TRAIN = (_custom(tmp_path, PERSON_AT_4),)
    with pytest.raises(ValueError, match=r"PERSON_CLASS_ID is 0 but dataset .* 'person' at class 4"):
        build_model(add_dataset_facts(cfg))


def test_person_class_4_detects_humans_from_channel_4(tmp_path):
    cfg = tiny_cfg("resnet", NUM_CLASSES=5, NUM_VERBS=1, PERSON_CLASS_ID=4,
                   TEST={"TOPK_HUMANS": 1, "TOPK_OBJECTS": 1, "TOPK_INTERACTIONS": 1})
    cfg.DATASETS.TEST = (_custom(tmp_path, PERSON_AT_4),)
    model = build_model(add_dataset_facts(cfg)).eval()
    assert model.valid_verb_object_source == "unknown"  # the custom file was not opened to build the model
    image = torch.zeros(3, 64, 64)
    with torch.no_grad():
        feats = model.backbone(model.preprocess_image([{"image": image}]).tensor)
        out = model.heads[-1](feats[model.backbone._out_features[-1]])
    heat = torch.full_like(out["obj_heatmap"], -10.0)
    heat[0, 4, 3, 5] = 4.0  # channel 4 ("person") peak at (x=5, y=3)
    heat[0, 0, 10, 12] = 5.0  # the strongest peak, on channel 0: "cup" here (a human if channel 0 were read)
    out["obj_heatmap"] = heat
    out["obj_offset"] = torch.zeros_like(out["obj_offset"])
    out["obj_wh"] = torch.full_like(out["obj_wh"], 2.0)  # 2x2 feature pixels: 8x8 input pixels
    result = model.inference(out, [{"image": image, "height": 64, "width": 64}], [(64, 64)])[0]
    inst = result["instances"]
    assert inst.pred_classes.tolist() == [4, 0]  # the human row comes from channel 4, the object is the cup
    assert inst.scores[0].item() == pytest.approx(torch.sigmoid(torch.tensor(4.0)).item())
    assert inst.pred_boxes.tensor[0].tolist() == pytest.approx([16, 8, 24, 16])  # feature (5, 3) x stride 4


def test_checkpoint_carries_the_correspondence(tmp_path):
    cfg = tiny_cfg("resnet", NUM_CLASSES=5, NUM_VERBS=1, PERSON_CLASS_ID=4)
    cfg.DATASETS.TEST = (_custom(tmp_path, PERSON_AT_4),)
    trained = build_model(add_dataset_facts(cfg))
    name = cfg.DATASETS.TEST[0]
    DatasetCatalog.get(name)  # the data is read: the metadata now knows the correspondence
    adopt_dataset_facts(trained, name)
    expected = np.zeros((1, 5), bool)
    expected[0, 1] = True  # verb 1 with "bike" (file id 2), the only pair of the file
    assert trained.valid_verb_object_source == f"metadata:{name}"
    np.testing.assert_array_equal(trained.valid_verb_object.numpy(), expected)
    GGNetCheckpointer(trained, save_dir=str(tmp_path)).save("m")

    (tmp_path / "other").mkdir()
    cfg.DATASETS.TEST = (_custom(tmp_path / "other", PERSON_AT_4),)  # another, unread dataset
    fresh = build_model(add_dataset_facts(cfg))
    assert fresh.valid_verb_object.all()  # unknown: every pair allowed until something says otherwise
    GGNetCheckpointer(fresh).load(str(tmp_path / "m.pth"))
    assert fresh.valid_verb_object_source == "checkpoint"
    np.testing.assert_array_equal(fresh.valid_verb_object.numpy(), expected)


def test_config_correspondence_wins_over_checkpoint(tmp_path, caplog):
    cfg = tiny_cfg("resnet", NUM_CLASSES=4, NUM_VERBS=3)
    torch.save({"model": {"valid_verb_object": torch.ones(3, 4, dtype=torch.bool)}}, tmp_path / "all.pth")
    cfg.MODEL.GGNET.VALID_VERB_OBJECT = [[0, 1], [2, 3]]
    model = build_model(cfg)
    assert model.valid_verb_object_source == "config"
    assert model.valid_verb_object.nonzero().tolist() == [[0, 1], [2, 3]]
    GGNetCheckpointer(model).load(str(tmp_path / "all.pth"))
    assert model.valid_verb_object.nonzero().tolist() == [[0, 1], [2, 3]]
    cfg.MODEL.GGNET.VALID_VERB_OBJECT = [[3, 0]]
    with pytest.raises(ValueError, match=r"pair \[3, 0\] outside"):
        build_model(cfg)
