"""PPDM/GGNet JSON loading, bad-record policy and register_hoi_json (ggnet_d2/data/datasets)."""
import json
import logging
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import BoxMode
from PIL import Image

from ggnet_d2.data import BadRecordError, BadRecordPolicy, load_hoi_json, register_hoi_json

ERROR = BadRecordPolicy("error", box_clip_tolerance=0.0)
SKIP = BadRecordPolicy("skip", box_clip_tolerance=0.0)


def _good_records():
    return [
        {"file_name": "a.png", "annotations": [{"bbox": [1, 2, 11, 22], "category_id": "1"},
                                                {"bbox": [5, 5, 30, 20], "category_id": "7"}],
         "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 3},
                            {"subject_id": "0", "object_id": "1", "category_id": "5"}]},
        {"file_name": "b.png", "annotations": [{"bbox": [0, 0, 40, 30], "category_id": 1},
                                                {"bbox": [2, 2, 4, 4], "category_id": 4}],
         "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 3}]},
    ]


def _write(tmp_path, records, images=("a.png", "b.png")):
    for name in images:
        Image.new("RGB", (40, 30)).save(tmp_path / name)  # width 40, height 30
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(records))
    return str(path)


def test_load_derives_maps_sizes_and_hoi_ids(tmp_path):
    dicts = load_hoi_json(_write(tmp_path, _good_records()), str(tmp_path))
    assert [d["image_id"] for d in dicts] == [0, 1]
    a = dicts[0]
    assert a["file_name"] == str(tmp_path / "a.png") and (a["height"], a["width"]) == (30, 40)  # from the header
    # objects 1, 4, 7 -> 0, 1, 2; verbs 3, 5 -> 0, 1 (sorted dataset ids)
    assert a["annotations"][1] == {"bbox": [5.0, 5.0, 30.0, 20.0], "bbox_mode": BoxMode.XYXY_ABS, "category_id": 2}
    # hoi classes sorted by (object, verb): (0, 1), (0, 2), (1, 2)
    assert a["hoi_annotations"] == [{"subject_id": 0, "object_id": 1, "verb_id": 0, "hoi_id": 1},
                                    {"subject_id": 0, "object_id": 1, "verb_id": 1, "hoi_id": 2}]
    assert dicts[1]["hoi_annotations"][0]["hoi_id"] == 0


def test_given_metadata_maps_and_triplets(tmp_path):
    meta = {"thing_dataset_id_to_contiguous_id": {1: 0, 4: 1, 7: 2, 9: 3},
            "verb_dataset_id_to_contiguous_id": {5: 0, 3: 1}, "hoi_classes": [(1, 2)]}
    dicts = load_hoi_json(_write(tmp_path, _good_records()), str(tmp_path), metadata=meta)
    assert [h["verb_id"] for h in dicts[0]["hoi_annotations"]] == [1, 0]
    assert [h["hoi_id"] for h in dicts[0]["hoi_annotations"]] == [0, -1]  # (verb 0, object 2) is not a triplet class


BAD_CASES = [
    ("hoi_index_out_of_range", lambda r: r[0]["hoi_annotation"].append({"subject_id": 0, "object_id": 2,
                                                                         "category_id": 3}),
     r"image #0 \(a.png\) hoi #2: subject_id 0 / object_id 2 outside the 2 boxes"),
    ("degenerate_box", lambda r: r[1]["annotations"][1].update(bbox=[4, 2, 4, 9]),
     r"image #1 \(b.png\) annotation #1: degenerate box \[4, 2, 4, 9\]"),
    ("box_outside_image", lambda r: r[1]["annotations"][0].update(bbox=[0, 0, 41, 30]),
     r"image #1 \(b.png\) annotation #0: box \[0, 0, 41, 30\] outside the 40x30 image"),
    ("unknown_category", lambda r: r[0]["annotations"][0].update(category_id="99"),
     r"image #0 \(a.png\) annotation #0: unknown object category_id '99'"),
    ("unknown_verb", lambda r: r[1]["hoi_annotation"][0].update(category_id=42),
     r"image #1 \(b.png\) hoi #0: unknown verb category_id 42"),
    ("missing_image", lambda r: r[1].update(file_name="gone.png"),
     r"image #1 \(gone.png\): image file .*gone.png does not exist"),
]
META = {"thing_dataset_id_to_contiguous_id": {1: 0, 4: 1, 7: 2}, "verb_dataset_id_to_contiguous_id": {3: 0, 5: 1}}


@pytest.mark.parametrize("reason,corrupt,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_record_error_names_file_and_record(tmp_path, reason, corrupt, message):
    records = _good_records()
    corrupt(records)
    path = _write(tmp_path, records)
    with pytest.raises(BadRecordError, match=message) as info:
        load_hoi_json(path, str(tmp_path), metadata=META, policy=ERROR)
    assert path in str(info.value)


@pytest.mark.parametrize("reason,corrupt,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_record_skip_counted_in_one_line(tmp_path, caplog, reason, corrupt, message):
    records = _good_records()
    corrupt(records)
    path = _write(tmp_path, records)
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.datasets.bad_records"):
        dicts = load_hoi_json(path, str(tmp_path), dataset_name=None, metadata=META, policy=SKIP)
    assert len(dicts) == 1
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(lines) == 1 and f"skipped 1 of 2 images with bad records ({reason}: 1)" in lines[0]


def test_missing_image_not_checked_when_disabled(tmp_path):
    records = _good_records()
    records[0]["height"], records[0]["width"] = 30, 40
    records[0]["file_name"] = "gone.png"
    path = _write(tmp_path, records)
    assert len(load_hoi_json(path, str(tmp_path), metadata=META, policy=SKIP.with_(check_image_files=False))) == 2


def test_configure_hoi_datasets_passes_cfg_policy_to_registered_loaders(tmp_path):
    from detectron2.config import get_cfg

    from ggnet_d2 import add_ggnet_config
    from ggnet_d2.data import configure_hoi_datasets
    from ggnet_d2.data.datasets.bad_records import registered_policy
    records = _good_records()
    records[1]["annotations"][1]["bbox"] = [4, 2, 4, 9]  # degenerate
    name = f"test_hoi_{uuid.uuid4().hex[:8]}"
    register_hoi_json(name, _write(tmp_path, records), str(tmp_path))
    assert len(DatasetCatalog.get(name)) == 1  # registered with the default policy: skip
    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.HOI.BAD_RECORD_POLICY = "error"
    cfg.DATASETS.HOI.CHECK_IMAGE_FILES = False
    assert configure_hoi_datasets(cfg, [name]) == BadRecordPolicy("error", False, 2.0)
    assert registered_policy(name) == BadRecordPolicy("error", False, 2.0)
    with pytest.raises(BadRecordError, match=r"image #1 \(b.png\) annotation #1: degenerate box"):
        DatasetCatalog.get(name)
    cfg.DATASETS.HOI.BAD_RECORD_POLICY = "ignore"
    with pytest.raises(ValueError, match="BAD_RECORD_POLICY"):
        configure_hoi_datasets(cfg)


def test_register_is_lazy_and_fills_every_key(tmp_path):
    name = f"test_hoi_{uuid.uuid4().hex[:8]}"
    path = str(tmp_path / "later.json")
    register_hoi_json(name, path, str(tmp_path), metadata={"verb_classes": ["ride", "hold"]})
    meta = MetadataCatalog.get(name)
    assert meta.evaluator_type == "hoi" and meta.verb_classes == ["ride", "hold"]
    assert "valid_verb_object" in meta.pending_keys()  # the file does not even exist yet: nothing was read
    _write(tmp_path, _good_records())
    (tmp_path / "ann.json").rename(path)
    assert meta.thing_classes == ["1", "4", "7"]
    np.testing.assert_array_equal(meta.valid_verb_object, [[False, True, True], [False, False, True]])
    assert meta.hoi_classes == [(0, 1), (0, 2), (1, 2)]
    assert meta.rare_hoi_ids == [0, 1, 2] and meta.non_rare_hoi_ids == []
    assert meta.thing_dataset_id_to_contiguous_id == {1: 0, 4: 1, 7: 2} and meta.person_class_id == 0
    assert len(DatasetCatalog.get(name)) == 2


def test_loading_logs_verb_histogram(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="ggnet_d2.data.datasets.hoi_json"):
        load_hoi_json(_write(tmp_path, _good_records()), str(tmp_path), dataset_name=None,
                      metadata={"verb_classes": ["ride", "hold"]})
    lines = [r.getMessage() for r in caplog.records if "per verb" in r.getMessage()]
    assert len(lines) == 1 and lines[0].endswith("3 HOIs in 2 images; per verb: ride: 2, hold: 1")
