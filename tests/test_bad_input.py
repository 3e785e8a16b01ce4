"""Issue 12, item 4: each class of bad input (one small file each) is a counted skip under "skip" and an error naming
the file and the record under "error"; boxes just past the border are clipped; the mapper and the demo name (or skip)
images they cannot decode."""
import json
import logging
import math

import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import build_detection_test_loader
from PIL import Image

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import BadRecordError, BadRecordPolicy, HOIDatasetMapper, load_hico_det_instances, load_hoi_json

SKIP = BadRecordPolicy("skip", box_clip_tolerance=0.0)
ERROR = BadRecordPolicy("error", box_clip_tolerance=0.0)
META = {"thing_dataset_id_to_contiguous_id": {1: 0, 2: 1}, "verb_dataset_id_to_contiguous_id": {1: 0}}


def _record(name="a.png", box=(20, 5, 38, 25), **changes):
    rec = {"file_name": name, "annotations": [{"bbox": [1, 2, 11, 22], "category_id": 1},
                                              {"bbox": list(box), "category_id": 2}],
           "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 1}]}
    rec.update(changes)
    return rec


def _files(tmp_path, bad):
    """A good image record, then ``bad``; images 40x30 (width x height)."""
    for name in ("a.png", "b.png"):
        Image.new("RGB", (40, 30)).save(tmp_path / name)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps([_record(), bad], allow_nan=True))
    return str(path)


def _with_box(**k):
    return lambda rec: rec["annotations"][1].update(**k)


BAD = [
    # (id, record edit, reason, message fragment)
    ("nan_coordinate", _with_box(bbox=[20, 5, math.nan, 25]), "non_finite_value", r"annotation #1: bbox .* is not finite"),
    ("inf_coordinate", _with_box(bbox=[20, -math.inf, 38, 25]), "non_finite_value", r"annotation #1: .*-inf.* not finite"),
    ("text_coordinate", _with_box(bbox=[20, 5, "a", 25]), "malformed_record", r"annotation #1: .*'a' is not a number"),
    ("null_coordinate", _with_box(bbox=[20, None, 38, 25]), "malformed_record", r"annotation #1: .*None is not a number"),
    ("null_bbox", _with_box(bbox=None), "malformed_record", r"annotation #1: bbox None is not \[x1, y1, x2, y2\]"),
    ("null_annotations", lambda rec: rec.update(annotations=None), "malformed_record", r"'annotations' is None"),
    ("null_hois", lambda rec: rec.update(hoi_annotation=None), "malformed_record", r"'hoi_annotation' is None"),
    ("null_category", _with_box(category_id=None), "unknown_category", r"annotation #1: unknown object category_id"),
    ("text_size", lambda rec: rec.update(height="x", width=40), "malformed_record", r"height 'x' is not a number"),
    ("hoi_not_object", lambda rec: rec.update(hoi_annotation=[7]), "malformed_record", r"hoi #0: 7 is not an object"),
    ("empty_image_file", lambda rec: rec.update(file_name="empty.png"), "unreadable_image", r"empty.png is empty"),
    ("box_outside", _with_box(bbox=[20, 5, 43, 25]), "box_outside_image", r"box \[20, 5, 43, 25\] outside the 40x30"),
    ("size_mismatch", lambda rec: rec.update(height=20, width=30), "size_mismatch",
     r"record size 30x20 differs from the image file's 40x30"),
]


@pytest.mark.parametrize("edit,reason,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_record_is_counted_or_named(tmp_path, caplog, edit, reason, message):
    bad = _record("b.png")
    edit(bad)
    (tmp_path / "empty.png").write_bytes(b"")
    path = _files(tmp_path, bad)
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.datasets.bad_records"):
        dicts = load_hoi_json(path, str(tmp_path), metadata=META, policy=SKIP)
    assert [d["file_name"].rsplit("/", 1)[-1] for d in dicts] == ["a.png"]
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(lines) == 1 and f"skipped 1 of 2 images with bad records ({reason}: 1)" in lines[0]
    with pytest.raises(BadRecordError, match=message) as info:
        load_hoi_json(path, str(tmp_path), metadata=META, policy=ERROR)
    assert str(info.value).startswith(f"{path}: image #1 (")


def test_malformed_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"file_name": "a.png", "annotations": [}]')
    for policy in (SKIP, ERROR):
        with pytest.raises(BadRecordError, match=r"broken.json: not valid JSON \(.*line 1 column"):
            load_hoi_json(str(path), str(tmp_path), policy=policy)


def test_box_within_tolerance_is_clipped_not_dropped(tmp_path, caplog):
    path = _files(tmp_path, _record("b.png", box=(-1.5, 5, 41, 31)))
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.datasets.bad_records"):
        dicts = load_hoi_json(path, str(tmp_path), metadata=META, policy=ERROR.with_(box_clip_tolerance=2))
    assert len(dicts) == 2 and dicts[1]["annotations"][1]["bbox"] == [0.0, 5.0, 40.0, 30.0]
    assert any("clipped 1 boxes" in r.getMessage() for r in caplog.records)
    with pytest.raises(BadRecordError, match=r"by 1.5 px; DATASETS.HOI.BOX_CLIP_TOLERANCE 1"):
        load_hoi_json(path, str(tmp_path), metadata=META, policy=ERROR.with_(box_clip_tolerance=1))


def _hico_file(tmp_path, box_o):
    d = {"annotation": [{"boxes_h": [[1, 1, 10, 10]], "boxes_o": [box_o], "hoi": [0], "object": [4], "verb": [4]}],
         "filenames": ["HICO_test2015_00000001.jpg"], "size": [[40, 30]], "empty": [], "objects": [], "verbs": [],
         "correspondence": [], "rare": [], "non_rare": []}
    from ggnet_d2.data.datasets.constants import HICO_OBJECTS_COCO_ORDER, HICO_VERBS
    d["objects"] = sorted(HICO_OBJECTS_COCO_ORDER)
    d["verbs"] = list(HICO_VERBS)
    d["correspondence"] = [[0, 4, 4]]  # HOI 0 = (object #4 of "objects", verb #4), as this file defines it
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(d, allow_nan=True))
    return str(path)


@pytest.mark.parametrize("box,reason", [([2, 2, math.nan, 9], "non_finite_value"), (None, "malformed_record"),
                                         ([2, 2, "a", 9], "malformed_record")])
def test_hico_instances_bad_box(tmp_path, box, reason):
    path = _hico_file(tmp_path, box)
    dicts, _ = load_hico_det_instances(path, policy=SKIP)
    assert dicts == []
    with pytest.raises(BadRecordError, match=r"instances.json: image #0 \(HICO_test2015_00000001.jpg\) hoi #0"):
        load_hico_det_instances(path, policy=ERROR)
    good, _ = load_hico_det_instances(_hico_file(tmp_path, [2, 2, 9, 9]), policy=ERROR)
    # the file's one-based .mat pixel indices, shifted into the zero-based frame of the dataset dicts
    assert len(good) == 1 and good[0]["annotations"][1]["bbox"] == [1.0, 1.0, 8.0, 8.0]


def _truncated(path):
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (30, 40, 3), np.uint8)).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _mapper_cfg(policy):
    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.HOI.BAD_RECORD_POLICY = policy
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 2, 1
    cfg.INPUT.GGNET.INPUT_SIZE = cfg.INPUT.GGNET.TEST_SIZE = 32
    cfg.DATALOADER.NUM_WORKERS = 1
    return cfg


def test_mapper_names_an_image_it_cannot_decode(tmp_path, caplog):
    _truncated(tmp_path / "t.jpg")
    d = {"file_name": str(tmp_path / "t.jpg"), "image_id": 7, "height": 30, "width": 40, "annotations": [],
         "hoi_annotations": []}
    for is_train in (True, False):
        with pytest.raises(BadRecordError, match=r"t.jpg \(image_id 7\): the image cannot be decoded .*truncated"):
            HOIDatasetMapper(_mapper_cfg("error"), is_train=is_train)(d)
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.dataset_mapper"):
        assert HOIDatasetMapper(_mapper_cfg("skip"), is_train=True)(d) is None
    assert any("t.jpg (image_id 7)" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    Image.new("RGB", (40, 30)).save(tmp_path / "ok.png")
    wrong = dict(d, file_name=str(tmp_path / "ok.png"), height=31)
    with pytest.raises(BadRecordError, match=r"ok.png \(image_id 7\): size mismatch"):
        HOIDatasetMapper(_mapper_cfg("error"), is_train=False)(wrong)


def test_dataloader_worker_error_names_the_file(tmp_path):
    _truncated(tmp_path / "t.jpg")
    dicts = [{"file_name": str(tmp_path / "t.jpg"), "image_id": 3, "height": 30, "width": 40}]
    cfg = _mapper_cfg("error")
    loader = build_detection_test_loader(dicts, mapper=HOIDatasetMapper(cfg, is_train=False), num_workers=1)
    with pytest.raises(BadRecordError, match=r"t.jpg \(image_id 3\): the image cannot be decoded"):
        next(iter(loader))


def test_demo_skips_an_unreadable_image_and_continues(tmp_path):
    import importlib.util
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("ggnet_demo_bad_input", repo / "demo" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    _truncated(tmp_path / "1_bad.jpg")
    (tmp_path / "2_empty.png").write_bytes(b"")
    Image.fromarray(np.random.RandomState(1).randint(0, 255, (30, 40, 3), np.uint8)).save(tmp_path / "3_good.png")
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.DEVICE, cfg.MODEL.WEIGHTS = "cpu", ""
    cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL = True  # random weights: only the input handling is under test
    cfg.MODEL.BACKBONE.NAME = "build_resnet_deconv_backbone"
    cfg.MODEL.RESNET_DECONV.DECONV_CHANNELS = [16, 16, 16]
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS, cfg.MODEL.GGNET.HEAD_CONV = 4, 7, 8
    cfg.INPUT.GGNET.TEST_SIZE = 64
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ("synth_hoi_test",)
    (tmp_path / "tiny.yaml").write_text(cfg.dump())
    torch.manual_seed(0)
    demo.main(["--config-file", str(tmp_path / "tiny.yaml"), "--input", str(tmp_path),
               "--output", str(tmp_path / "out"), "--confidence-threshold", "0"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["3_good.json", "3_good.png", "predictions.json"]
