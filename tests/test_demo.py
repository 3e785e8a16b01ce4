"""demo/demo.py on a real HOI-W image with a randomly initialised tiny GGNet writes a drawing and a triplet JSON."""
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from detectron2.config import get_cfg
from detectron2.data import MetadataCatalog
from detectron2.modeling import META_ARCH_REGISTRY

from ggnet_d2 import add_ggnet_config
from shared_data import SHARED

REPO = Path(__file__).resolve().parents[1]
HOIW = SHARED / "hoiw_demo"
IMAGE = HOIW / "images" / "trainval_000000.png"
META_NAME = "_test_demo_hoiw_names"


def _demo_module():
    spec = importlib.util.spec_from_file_location("ggnet_demo_main", REPO / "demo" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_config(tmp_path):
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL = True  # a random model, on purpose
    cfg.MODEL.BACKBONE.NAME = "build_resnet_deconv_backbone"
    cfg.MODEL.RESNET_DECONV.DECONV_CHANNELS = [32, 32, 32]
    cfg.MODEL.GGNET.HEAD_CONV = 16
    cfg.MODEL.GGNET.NUM_CLASSES = 11
    cfg.MODEL.GGNET.NUM_VERBS = 10
    cfg.MODEL.GGNET.NUM_ACTPOINTS = 9
    cfg.MODEL.GGNET.TEST.TOPK_INTERACTIONS = 5
    cfg.INPUT.GGNET.TEST_SIZE = 128
    cfg.DATASETS.TRAIN = ()
    cfg.DATASETS.TEST = (META_NAME,)
    path = tmp_path / "tiny.yaml"
    path.write_text(cfg.dump())
    return path


@pytest.fixture
def names():
    meta = MetadataCatalog.get(META_NAME)
    if not hasattr(meta, "thing_classes"):
        meta.set(thing_classes=["person", "cellphone", "cigarette", "drink", "food", "bike", "motorbike", "horse",
                                "ball", "computer", "document"],
                 verb_classes=["smoke", "call", "play_cellphone", "eat", "drink", "ride", "hold", "kick", "read",
                               "play_computer"])
    return meta


def test_demo_writes_image_and_json_for_a_real_photo(tmp_path, names):
    if not IMAGE.is_file():
        pytest.skip(f"real HOI-W image absent: {IMAGE}")
    if "GGNet" not in META_ARCH_REGISTRY:
        pytest.skip("the GGNet meta-architecture is not registered yet")
    out = tmp_path / "out"
    pattern = str(HOIW / "images" / "trainval_00000[0].png")  # a glob matching the one image
    _demo_module().main(["--config-file", str(_tiny_config(tmp_path)), "--input", pattern, "--output", str(out), "--confidence-threshold", "0", "--show-actpoints",
                         "--opts", "MODEL.GGNET.HEAD_CONV", "8"])
    drawn = cv2.imread(str(out / IMAGE.name))
    original = cv2.imread(str(IMAGE))
    assert drawn is not None and drawn.shape == original.shape
    entry = json.loads((out / "trainval_000000.json").read_text())
    assert json.loads((out / "predictions.json").read_text()) == [entry]
    # the documented prediction format (docs/interfaces.md): nothing else, file name as a base name
    assert set(entry) == {"file_name", "predictions", "hoi_prediction"}
    assert entry["file_name"] == IMAGE.name
    triplets = entry["hoi_prediction"]
    assert len(triplets) == 5  # TOPK_INTERACTIONS: the JSON keeps every triplet
    assert [t["score"] for t in triplets] == sorted((t["score"] for t in triplets), reverse=True)
    h, w = original.shape[:2]
    boxes = entry["predictions"]
    for t in triplets:
        assert 0 <= t["category_id"] < len(names.verb_classes)
        assert boxes[t["subject_id"]]["category_id"] == 0  # person, ids of a metadata without an id map
        for box in (boxes[t["subject_id"]]["bbox"], boxes[t["object_id"]]["bbox"]):
            # boxes are ordered even for the near-empty ones a random model predicts (widths clamped at 0)
            assert 0 <= box[0] <= box[2] <= w, box
            assert 0 <= box[1] <= box[3] <= h, box
    assert not np.array_equal(drawn, original)  # something was drawn


def test_expand_inputs_files_dirs_globs(tmp_path):
    demo = _demo_module()
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert demo.expand_inputs([str(tmp_path)]) == [str(tmp_path / "a.jpg"), str(tmp_path / "b.png")]
    assert demo.expand_inputs([str(tmp_path / "*.png"), str(tmp_path / "a.jpg")]) == \
        [str(tmp_path / "b.png"), str(tmp_path / "a.jpg")]
    with pytest.raises(FileNotFoundError, match="nothing"):
        demo.expand_inputs([str(tmp_path / "nothing*.png")])
