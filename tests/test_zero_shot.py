"""Zero-shot splits and training sets (issue 23 items 3-4)."""
import logging
from collections import Counter

import numpy as np
import pytest

from ggnet_d2.data.datasets.constants import HICO_RARE_HOI_IDS
from ggnet_d2.data.datasets.hico_det import hico_official_hoi_classes
from ggnet_d2.data.zero_shot import (ZERO_SHOT_SPLITS, check_zero_shot_restriction, remove_unseen_hois,
                                     unseen_hoi_ids)
from shared_data import SHARED

HICO = SHARED / "hico_det" / "instances_test2015.json"
HOIS = hico_official_hoi_classes()


@pytest.mark.parametrize("split,size", [("rare_first", 120), ("non_rare_first", 120), ("unseen_object", 100),
                                        ("unseen_verb", 84), ("unseen_action_eoid", 100), ("rare_first_eoid", 138)])
def test_split_sizes_and_disjoint_seen(split, size):
    unseen = unseen_hoi_ids(split)
    assert len(unseen) == len(set(ZERO_SHOT_SPLITS[split])) == size  # no repeated id
    seen = sorted(set(range(600)) - set(unseen))
    assert len(seen) == 600 - size and not set(seen) & set(unseen)


def test_splits_have_their_published_structure():
    rare = set(HICO_RARE_HOI_IDS)
    assert set(unseen_hoi_ids("rare_first")) <= rare  # RF-UC: 120 of the 138 rare classes
    assert not set(unseen_hoi_ids("non_rare_first")) & rare  # NF-UC: non-rare classes only
    for split, kind, n_groups in (("unseen_object", 1, 12), ("unseen_verb", 0, 20), ("unseen_action_eoid", 0, 22)):
        ids = unseen_hoi_ids(split)
        groups = {HOIS[i][kind] for i in ids}
        assert len(groups) == n_groups
        # every class of those objects / verbs is unseen
        assert sorted(i for i, h in enumerate(HOIS) if h[kind] in groups) == ids
    verbs = {HOIS[i][0] for i in unseen_hoi_ids("unseen_verb")}
    # the 20 unseen verbs (0-based) listed in the comment under GEN-VLKT's hico_unseen_index
    assert sorted(verbs) == sorted([41, 100, 99, 91, 34, 42, 97, 84, 26, 106, 38, 56, 92, 79, 19, 76, 80, 2, 114, 62])


def test_split_errors():
    with pytest.raises(ValueError, match="ZERO_SHOT_SPLIT must be one of"):
        unseen_hoi_ids("nope")
    with pytest.raises(ValueError, match="ZERO_SHOT_UNSEEN"):
        unseen_hoi_ids("custom")
    with pytest.raises(ValueError, match="0..6"):
        unseen_hoi_ids("rare_first", num_hoi_classes=7)
    assert unseen_hoi_ids("custom", [5, 2, 5], 7) == [2, 5]


def _image():
    # boxes: 0 person, 1 person, 2 dog (cat 16), 3 cup (cat 41); HOIs as (subject, object, verb)
    anns = [{"bbox": [0, 0, 1, 1], "category_id": c} for c in (0, 0, 16, 41)]
    hois = [{"subject_id": 0, "object_id": 2, "verb_id": 5, "hoi_id": -1},   # unseen (5, 16)
            {"subject_id": 0, "object_id": 2, "verb_id": 6, "hoi_id": -1},   # seen, same pair
            {"subject_id": 1, "object_id": 3, "verb_id": 5, "hoi_id": -1}]   # seen (5, 41)
    return {"file_name": "a.jpg", "image_id": 1, "annotations": anns, "hoi_annotations": hois}


def test_pair_removal_drops_the_pair_and_its_boxes():
    kept, stats = remove_unseen_hois([_image()], {(5, 16)}, "pair")
    d = kept[0]
    assert [a["category_id"] for a in d["annotations"]] == [0, 41]  # person 0 and the dog went with the pair
    assert d["hoi_annotations"] == [{"subject_id": 0, "object_id": 1, "verb_id": 5, "hoi_id": -1}]
    assert stats == dict(images=1, images_kept=1, hois=3, hois_removed=2, boxes_removed=2)
    assert len(_image()["hoi_annotations"]) == 3  # input untouched
    # an image whose every pair carries an unseen class goes
    kept, stats = remove_unseen_hois([_image()], {(5, 16), (5, 41)}, "pair")
    assert kept == [] and stats["images_kept"] == 0


def test_label_removal_keeps_images_and_boxes():
    kept, stats = remove_unseen_hois([_image()], {(5, 16), (5, 41)}, "label")
    d = kept[0]
    assert len(d["annotations"]) == 4
    assert d["hoi_annotations"] == [{"subject_id": 0, "object_id": 2, "verb_id": 6, "hoi_id": -1}]
    assert stats["hois_removed"] == 2 and stats["images_kept"] == 1
    with pytest.raises(ValueError, match="ZERO_SHOT_REMOVAL"):
        remove_unseen_hois([_image()], set(), "drop")


@pytest.fixture(scope="module")
def hico_test():
    if not HICO.is_file():
        pytest.skip(f"{HICO} not present")
    from ggnet_d2.data import load_hico_det_instances

    return load_hico_det_instances(str(HICO), "/images")


@pytest.mark.parametrize("split", ["rare_first", "non_rare_first", "unseen_object", "unseen_verb",
                                   "unseen_action_eoid"])
@pytest.mark.parametrize("removal", ["pair", "label"])
def test_zero_shot_set_on_real_hico_has_no_unseen_hoi(hico_test, split, removal):
    dicts, meta = hico_test
    unseen = unseen_hoi_ids(split)
    pairs = {tuple(meta["hoi_classes"][i]) for i in unseen}
    before = Counter(h["hoi_id"] for d in dicts for h in d["hoi_annotations"])
    kept, stats = remove_unseen_hois(dicts, pairs, removal)
    after = Counter(h["hoi_id"] for d in kept for h in d["hoi_annotations"])
    assert not set(after) & set(unseen)
    assert sum(before[i] for i in unseen) > 0  # the test split has instances of the unseen classes to remove
    for d in kept:  # indices still valid, each HOI's class is its (verb, object) pair
        for h in d["hoi_annotations"]:
            assert meta["hoi_classes"][h["hoi_id"]] == (h["verb_id"],
                                                        d["annotations"][h["object_id"]]["category_id"])
    if removal == "label":
        assert stats["images_kept"] == len(dicts)
        assert all(after[i] == before[i] for i in before if i not in unseen)  # seen annotations all kept
    else:
        assert stats["images_kept"] < len(dicts)
        assert all(after[i] <= before[i] for i in before)


def test_restriction_check(caplog):
    valid = np.zeros((3, 4), dtype=bool)
    valid[0, 1] = valid[2, 3] = True
    with caplog.at_level(logging.INFO):
        check_zero_shot_restriction(valid, "metadata:x", {(2, 3)}, "custom")
    assert "not from the training annotations" in caplog.text
    with pytest.raises(ValueError, match="excludes 1 unseen"):
        check_zero_shot_restriction(valid, "metadata:train", {(1, 1), (0, 1)}, "custom")
    with caplog.at_level(logging.INFO):
        check_zero_shot_restriction(None, "unknown", {(1, 1)}, "custom")
    assert "no verb-object restriction" in caplog.text


def test_zero_shot_train_dicts_from_config(tiny_synth_test):
    from detectron2.config import get_cfg

    from ggnet_d2 import add_ggnet_config
    from ggnet_d2.data.zero_shot import zero_shot_train_dicts

    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.TRAIN = (tiny_synth_test,)
    cfg.DATASETS.HOI.ZERO_SHOT_SPLIT = "custom"
    cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN = [0, 3]  # hold-ball, ride-bike
    cfg.DATASETS.HOI.ZERO_SHOT_REMOVAL = "label"
    from detectron2.data import DatasetCatalog

    full = DatasetCatalog.get(tiny_synth_test)
    dicts = zero_shot_train_dicts(cfg)
    verbs = Counter(h["verb_id"] for d in dicts for h in d["hoi_annotations"])
    assert verbs[0] == verbs[3] == 0 and len(dicts) == len(full)
    assert sum(verbs.values()) == sum(h["verb_id"] not in (0, 3) for d in full for h in d["hoi_annotations"])


def test_model_restriction_checked_before_testing(tiny_synth_test, caplog):
    """GGNetTrainer.test's check: a model whose restriction came from training data without the held-out class is
    refused; the dataset's full class list passes and is logged."""
    from types import SimpleNamespace

    import torch
    from detectron2.config import get_cfg

    from ggnet_d2 import add_ggnet_config
    from ggnet_d2.data.zero_shot import check_model_zero_shot_restriction

    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.HOI.ZERO_SHOT_SPLIT, cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN = "custom", [3]  # ride bike
    full = torch.zeros(7, 4, dtype=torch.bool)
    for v, o in [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3)]:
        full[v, o] = True
    from_training = full.clone()
    from_training[3, 2] = False
    model = SimpleNamespace(valid_verb_object=from_training, valid_verb_object_source="metadata:train",
                            match_valid_objects_only=True)
    with pytest.raises(ValueError, match=r"excludes 1 unseen .*\(3, 2\)"):
        check_model_zero_shot_restriction(model, cfg, tiny_synth_test)
    model.match_valid_objects_only = False  # restriction off: allowed, and said
    with caplog.at_level(logging.INFO):
        check_model_zero_shot_restriction(model, cfg, tiny_synth_test)
    assert "no verb-object restriction" in caplog.text
    model.valid_verb_object, model.match_valid_objects_only = full, True
    with caplog.at_level(logging.INFO):
        check_model_zero_shot_restriction(model, cfg, tiny_synth_test)
    assert "all 1 unseen classes admitted" in caplog.text


def test_training_hard_negatives_from_seen_classes_only(tiny_synth_test):
    import numpy as np
    from detectron2.config import get_cfg
    from detectron2.data import MetadataCatalog

    from ggnet_d2 import add_ggnet_config
    from ggnet_d2.data import HOIDatasetMapper
    from ggnet_d2.data.targets import build_ggnet_targets
    from ggnet_d2.data.zero_shot import zero_shot_mapper_overrides

    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.TRAIN = (tiny_synth_test,)
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 4, 7
    assert zero_shot_mapper_overrides(cfg) == {}
    cfg.DATASETS.HOI.ZERO_SHOT_SPLIT, cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN = "custom", [3]  # ride bike
    seen = zero_shot_mapper_overrides(cfg)["valid_verb_object"]
    full = np.asarray(MetadataCatalog.get(tiny_synth_test).valid_verb_object)
    assert full[3, 2] and not seen[3, 2] and (seen == full).sum() == full.size - 1
    mapper = HOIDatasetMapper(cfg, is_train=True, **zero_shot_mapper_overrides(cfg))
    assert np.array_equal(mapper.valid_verb_object, seen)
    # a person pushing a bike: with the full list "ride" is a hard negative (-1 peak) at the pair, with the seen one not
    boxes, classes, hois = np.array([[2, 2, 8, 20], [10, 8, 20, 20]], np.float32), [0, 2], [(0, 1, 4)]
    assert build_ggnet_targets(boxes, classes, hois, 4, 7, (24, 24), full)["hna_map"][3].min() == -1
    assert build_ggnet_targets(boxes, classes, hois, 4, 7, (24, 24), seen)["hna_map"][3].min() == 0
