"""Built-in dataset registration (lazy) and the metadata it resolves from tiny files in the PPDM layout."""
import json
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from ggnet_d2.data.datasets.builtin import load_correspondence, register_all_builtin_hoi
from ggnet_d2.data.datasets.constants import (HICO_OBJECTS_COCO_ORDER, HICO_RARE_HOI_IDS, HICO_VERBS,
                                              VCOCO_PPDM_VERB_IDS)
from ggnet_d2.data.datasets.hico_det import hico_official_hoi_classes

NAMES = ("hico_det_train", "hico_det_test", "vcoco_trainval", "vcoco_test")


def test_builtins_registered_without_touching_disk():
    for name in NAMES:
        assert name in DatasetCatalog.list()
        meta = MetadataCatalog.get(name)
        assert "rare_hoi_ids" in meta.pending_keys(), name
        # HICO-DET's correspondence is its official 600 classes: static; V-COCO's comes with the data.
        assert ("valid_verb_object" in meta.pending_keys()) == name.startswith("vcoco"), name
    hico = MetadataCatalog.get("hico_det_test")
    assert hico.evaluator_type == "hico_det" and len(hico.verb_classes) == 117 and hico.thing_classes[0] == "person"
    assert hico.json_file.endswith("hico_20160224_det/annotations/test_hico.json")
    assert hico.image_root.endswith("hico_20160224_det/images/test2015")
    assert hico.thing_dataset_id_to_contiguous_id[90] == 79 and hico.verb_dataset_id_to_contiguous_id[117] == 116
    vcoco = MetadataCatalog.get("vcoco_test")
    assert vcoco.evaluator_type == "vcoco" and len(vcoco.verb_classes) == 29
    assert vcoco.vcoco_ann_file.endswith("vcoco_test.json") and vcoco.vcoco_ids_file.endswith("vcoco_test.ids")
    assert vcoco.coco_annotation_file.endswith("instances_vcoco_all_2014.json")


def _image(folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (50, 40)).save(folder / name)


@pytest.mark.parametrize("with_training_file", [True, False])
def test_hico_builtin_resolves_official_triplets_and_rare_split(tmp_path, with_training_file):
    ann = tmp_path / "hico_20160224_det" / "annotations"
    ann.mkdir(parents=True)
    ride = HICO_VERBS.index("ride") + 1
    rec = {"file_name": "t.jpg", "annotations": [{"bbox": [1, 1, 20, 30], "category_id": 1},
                                                  {"bbox": [5, 5, 40, 35], "category_id": 2}],  # COCO 2 = bicycle
           "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": ride}]}
    if with_training_file:  # a training file does not change HICO-DET's official rare split
        (ann / "trainval_hico.json").write_text(json.dumps([rec] * 10))
    (ann / "test_hico.json").write_text(json.dumps([dict(rec, file_name="u.jpg")]))
    _image(tmp_path / "hico_20160224_det" / "images" / "test2015", "u.jpg")
    prefix = f"t{uuid.uuid4().hex[:6]}_"
    register_all_builtin_hoi(str(tmp_path), prefix)
    meta = MetadataCatalog.get(prefix + "hico_det_test")
    hoi = hico_official_hoi_classes().index((ride - 1, HICO_OBJECTS_COCO_ORDER.index("bicycle")))
    assert meta.hoi_classes == hico_official_hoi_classes() and meta.valid_verb_object.sum() == 600
    assert meta.rare_hoi_ids == sorted(HICO_RARE_HOI_IDS) and len(meta.non_rare_hoi_ids) == 462
    assert meta.hico_split == "test" and meta.hico_image_labels_file.endswith("hico_20160224_det/anno.mat")
    d = DatasetCatalog.get(prefix + "hico_det_test")
    assert d[0]["hoi_annotations"] == [{"subject_id": 0, "object_id": 1, "verb_id": ride - 1, "hoi_id": hoi}]
    assert (d[0]["height"], d[0]["width"]) == (40, 50)


def test_vcoco_builtin_has_all_26_actions_and_expands_ppdm_corre(tmp_path):
    ann = tmp_path / "v-coco" / "annotations"
    ann.mkdir(parents=True)
    rec = {"file_name": "c.jpg", "annotations": [{"bbox": [1, 1, 20, 30], "category_id": 1},
                                                  {"bbox": [5, 5, 9, 9], "category_id": 47}],  # cup
           "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 25},  # hold_obj
                              {"subject_id": 0, "object_id": 0, "category_id": 3}]}  # walk: the agent with itself
    (ann / "trainval_vcoco.json").write_text(json.dumps([rec]))
    (ann / "test_vcoco.json").write_text(json.dumps([rec]))
    _image(tmp_path / "v-coco" / "images" / "val2014", "c.jpg")
    corre = np.zeros((80, 25), bool)  # PPDM's file: (C, V) over its 25 trained verbs, transposed on load
    corre[41, VCOCO_PPDM_VERB_IDS.index(25)] = corre[41, 0] = True
    np.save(ann / "corre_vcoco.npy", corre)
    prefix = f"t{uuid.uuid4().hex[:6]}_"
    register_all_builtin_hoi(str(tmp_path), prefix)
    meta = MetadataCatalog.get(prefix + "vcoco_test")
    assert len(meta.verb_classes) == 29 and meta.verb_classes[3] == "walk" and meta.verb_classes[25] == "hold_obj"
    assert meta.verb_dataset_id_to_contiguous_id == {i: i for i in range(29)}
    assert meta.valid_verb_object.shape == (29, 80) and meta.valid_verb_object[[0, 25], 41].all()
    assert meta.valid_verb_object[[3, 17, 22, 27], 0].all()  # agent-only actions: the person itself
    assert meta.hoi_classes == [(3, 0), (17, 0), (22, 0), (27, 0), (0, 41), (25, 41)]
    d = DatasetCatalog.get(prefix + "vcoco_test")
    assert d[0]["hoi_annotations"] == [{"subject_id": 0, "object_id": 1, "verb_id": 25, "hoi_id": 5},
                                       {"subject_id": 0, "object_id": 0, "verb_id": 3, "hoi_id": 0}]
    # the released models' space: PPDM's 25 trained verbs, agent-only actions left out
    meta25 = MetadataCatalog.get(prefix + "vcoco_test_ppdm25")
    hold = VCOCO_PPDM_VERB_IDS.index(25)
    assert len(meta25.verb_classes) == 25 and meta25.valid_verb_object.shape == (25, 80)
    assert meta25.hoi_classes == [(0, 41), (hold, 41)]
    d = DatasetCatalog.get(prefix + "vcoco_test_ppdm25")
    assert d[0]["hoi_annotations"] == [{"subject_id": 0, "object_id": 1, "verb_id": hold, "hoi_id": 1}]


def test_load_correspondence_rejects_wrong_shape(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"c.npy: correspondence of shape \(3, 3\), expected \(117, 80\)"):
        load_correspondence(str(tmp_path / "c.npy"), 117, 80)
