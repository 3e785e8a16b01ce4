"""Real data from ../shared/data: HICO-DET test ground truth and the HOI-W demo (skipped when absent)."""
import json
import uuid
from collections import Counter

import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import HOIDatasetMapper, load_hico_det_instances, register_hoi_json
from ggnet_d2.data.datasets.builtin import hoiw_metadata
from ggnet_d2.data.datasets.hico_det import hico_official_hoi_classes
from ggnet_d2.data.transforms import ResizeLongestEdge
from shared_data import SHARED

HICO = SHARED / "hico_det" / "instances_test2015.json"
HOIW = SHARED / "hoiw_demo"


@pytest.fixture(scope="module")
def hico():
    if not HICO.is_file():
        pytest.skip(f"{HICO} not present")
    with open(HICO) as f:
        raw = json.load(f)
    return raw, *load_hico_det_instances(str(HICO), "/images")


def test_hico_det_test_loads_every_image(hico):
    raw, dicts, meta = hico
    assert len(dicts) == 9658
    assert len(meta["hoi_classes"]) == 600 and len(meta["rare_hoi_ids"]) == 138 and len(meta["non_rare_hoi_ids"]) == 462
    assert meta["evaluator_type"] == "hico_det" and meta["valid_verb_object"].shape == (117, 80)
    assert meta["valid_verb_object"].sum() == 600
    assert meta["thing_classes"][meta["person_class_id"]] == "person"
    empty = set(raw["empty"])
    assert all(not dicts[i]["annotations"] and not dicts[i]["hoi_annotations"] for i in empty)
    assert dicts[0]["file_name"] == "/images/HICO_test2015_00000001.jpg" and dicts[0]["image_id"] == 1


def test_hico_det_counts_per_hoi_class_match_file(hico):
    raw, dicts, meta = hico
    expected = Counter(h for a in raw["annotation"] for h in a["hoi"])
    got = Counter(h["hoi_id"] for d in dicts for h in d["hoi_annotations"])
    assert got == expected and sum(got.values()) == 33405
    # every HOI's (verb, object class) is its class's pair
    for d in dicts[:500]:
        for h in d["hoi_annotations"]:
            assert meta["hoi_classes"][h["hoi_id"]] == (h["verb_id"], d["annotations"][h["object_id"]]["category_id"])
            assert d["annotations"][h["subject_id"]]["category_id"] == meta["person_class_id"]


def test_hico_official_order_constant_matches_file(hico):
    raw, _, meta = hico
    assert hico_official_hoi_classes() == meta["hoi_classes"]
    names = [(raw["objects"][o], raw["verbs"][v]) for _, o, v in raw["correspondence"]]
    assert [(meta["thing_classes"][o], meta["verb_classes"][v]) for v, o in meta["hoi_classes"]] == names


@pytest.fixture(scope="module")
def hoiw_name():
    if not (HOIW / "annotations.json").is_file():
        pytest.skip(f"{HOIW} not present")
    name = f"hoiw_demo_{uuid.uuid4().hex[:6]}"
    register_hoi_json(name, str(HOIW / "annotations.json"), str(HOIW / "images"), metadata=hoiw_metadata())
    return name


def test_hoiw_registers_and_loads(hoiw_name):
    meta = MetadataCatalog.get(hoiw_name)
    assert len(meta.thing_classes) == 11 and len(meta.verb_classes) == 10 and meta.evaluator_type == "hoi"
    dicts = DatasetCatalog.get(hoiw_name)
    assert len(dicts) == 30 and sum(len(d["hoi_annotations"]) for d in dicts) == 79
    assert (dicts[0]["height"], dicts[0]["width"]) == (1080, 1920)
    # first record: person + drink (category "4" -> 3), verbs 5 (drink) and 7 (hold) -> 4 and 6
    assert [a["category_id"] for a in dicts[0]["annotations"]] == [0, 3]
    assert [h["verb_id"] for h in dicts[0]["hoi_annotations"]] == [4, 6]
    assert meta.valid_verb_object.shape == (10, 11) and meta.valid_verb_object[4, 3] and meta.valid_verb_object[6, 3]
    assert len(meta.hoi_classes) == int(meta.valid_verb_object.sum())


def test_hoiw_maps_to_targets(hoiw_name):
    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.TRAIN = (hoiw_name,)
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 11, 10
    cfg.INPUT.GGNET.INPUT_SIZE = 128
    mapper = HOIDatasetMapper(cfg, is_train=True)
    out = mapper(DatasetCatalog.get(hoiw_name)[0])
    t = out["ggnet_targets"]
    assert out["image"].shape == (3, 128, 128) and out["image"].dtype == torch.uint8
    assert t["obj_heatmap"].shape == (11, 32, 32) and t["hna_map"].shape == (10, 32, 32)
    assert t["apm_mask"].shape == (64, 20)
    # without random crop every HOI stays visible: verbs drink (4) and hold (6), peaks at their indices
    still = HOIDatasetMapper(cfg, is_train=True, augmentations=[ResizeLongestEdge(128)])
    t = still(DatasetCatalog.get(hoiw_name)[0])["ggnet_targets"]
    assert t["obj_heatmap"].shape == (11, 18, 32)
    rows = t["apm_mask"].any(dim=1).nonzero().flatten().tolist()
    verbs = [int(t["apm_mask"][k].nonzero()[0]) // 2 for k in rows]
    assert rows == [0, 1] and verbs == [4, 6]
    for k, v in zip(rows, verbs):
        assert t["hna_map"][v].flatten()[int(t["interaction_index"][k])] == 1.0
        assert t["apm_mask"][k].nonzero().flatten().tolist() == [2 * v, 2 * v + 1]
    # HNA: drink (object 3) is valid with verbs 4 and 6 only in this file, both labelled: M has no negatives
    assert t["hna_map"].min() == 0.0
