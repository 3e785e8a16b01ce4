"""The compositional synthetic world and its zero-shot config (issue 23): verbs share objects, the held-out
combinations are absent from training and present at test, a verb's cue does not depend on its object, and a
verb-object restriction taken from the training data excludes exactly the held-out combinations (the tool that
evaluates under it predicts none of them). Fast: no training."""
import json
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog

from ggnet_d2.data.datasets import synthetic_compositional as sc
from ggnet_d2.data.datasets import synthetic_hoi as sh
from ggnet_d2.data.zero_shot import (annotated_verb_objects, check_zero_shot_restriction, unseen_hoi_ids,
                                     zero_shot_mapper_overrides, zero_shot_train_dicts, zero_shot_unseen_pairs)
from ggnet_d2.engine import setup_cfg

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "configs" / "zero_shot" / "GGNet_R18_synth_compositional_UC.yaml")
# Hand-written from the module docstring's table, contiguous ids: verbs hold 0, throw 1, kick 2, ride 3, push 4,
# carry 5, sit_on 6; objects ball 1, bike 2, box 3.
BALL, BIKE, BOX = 1, 2, 3
HOIS = [(0, BALL), (0, BOX), (1, BALL), (1, BOX), (2, BALL), (2, BOX), (3, BIKE), (4, BIKE), (4, BOX), (5, BALL),
        (5, BOX), (6, BALL), (6, BOX)]
HELD_OUT = {(0, BOX), (2, BOX), (5, BALL), (6, BALL)}  # hold box, kick box, carry ball, sit_on ball
TINY = ("INPUT.GGNET.INPUT_SIZE", "64", "INPUT.GGNET.TEST_SIZE", "64", "SOLVER.IMS_PER_BATCH", "2",
        "DATALOADER.NUM_WORKERS", "0", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
        "MODEL.GGNET.HEAD_CONV", "16", "MODEL.DEVICE", "cpu")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The default-size world (800 + 200 images), generated once for this module."""
    return sc.ensure_synthetic_compositional_hoi(tmp_path_factory.mktemp("cache"))


def _records(folder, split):
    return json.loads((folder / f"{split}.json").read_text())


def _pairs(records):
    """Counter of contiguous (verb, object) over every HOI of the records (file ids are 1-based)."""
    return Counter((h["category_id"] - 1, r["annotations"][h["object_id"]]["category_id"] - 1)
                   for r in records for h in r["hoi_annotation"])


def test_metadata_is_the_world_definition():
    m = sc.synthetic_compositional_metadata()
    assert m["hoi_classes"] == HOIS
    assert sorted(map(tuple, np.argwhere(m["valid_verb_object"]))) == sorted(HOIS)  # held-out ones included
    assert [HOIS[i] for i in sc.held_out_hoi_ids()] == sorted(HELD_OUT, key=HOIS.index) and \
        sc.held_out_hoi_ids() == [1, 5, 9, 11]
    assert m["rare_hoi_ids"] == [1, 5, 9, 11] and m["non_rare_hoi_ids"] == [0, 2, 3, 4, 6, 7, 8, 10, 12]
    # the quickstart's classes and verbs, so a model of one world has the shape of the other's
    q = sh.synthetic_hoi_metadata()
    assert m["thing_classes"] == q["thing_classes"] and m["verb_classes"] == q["verb_classes"]
    # every held-out verb is seen with another object, every held-out object with another verb
    seen = set(HOIS) - HELD_OUT
    for v, o in HELD_OUT:
        assert any(sv == v for sv, _ in seen) and any(so == o for _, so in seen)


def test_held_out_absent_from_training_present_at_test_and_verbs_shared(world):
    train, test = _pairs(_records(world, "train")), _pairs(_records(world, "test"))
    assert set(train) == set(HOIS) - HELD_OUT and min(train.values()) >= 50
    assert set(test) == set(HOIS) and min(test[p] for p in HELD_OUT) >= 10
    objects_of = defaultdict(set)
    for v, o in train:
        objects_of[v].add(o)
    assert {v for v, objs in objects_of.items() if len(objs) > 1} == {1, 4}  # throw and push, in training
    objects_of = defaultdict(set)
    for v, o in test:
        objects_of[v].add(o)
    assert {v for v, objs in objects_of.items() if len(objs) > 1} == {0, 1, 2, 4, 5, 6}  # all but ride


@pytest.mark.parametrize("verb", ["hold", "throw", "kick", "push", "carry", "sit_on"])
def test_verb_cue_does_not_depend_on_the_object(verb):
    """Same draws, two objects: the person (posture, scale, facing, colours) is the same figure, the object not."""
    objects = [o for v, o in sc.SYNTH_COMPOSITIONAL_HOIS if v == verb]
    for seed in range(10):
        groups = [sc._group((verb, o), np.random.default_rng(seed)) for o in objects]
        assert groups[0][0] == groups[1][0], (verb, seed)
        assert groups[0][1] != groups[1][1] and groups[0][2][1] == groups[1][2][1]


def _center(b):
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def test_layout_rules_hold_for_every_object(world):
    """The placement rules of the module's table, on the boxes of every test triplet, whatever the object."""
    checked = Counter()
    for r in _records(world, "test"):
        for h in r["hoi_annotation"]:
            s, o = r["annotations"][h["subject_id"]]["bbox"], r["annotations"][h["object_id"]]["bbox"]
            (sx, sy), (ox, oy) = _center(s), _center(o)
            v, where = h["category_id"] - 1, (r["file_name"], h)
            if v == 1:  # throw: object in the air above the head
                assert o[3] <= s[1] + 4, where
            elif v == 2:  # kick: object on the ground at the feet, beside the body
                assert abs(o[3] - s[3]) <= 3 and not (s[0] < ox < s[2]), where
            elif v == 0:  # hold: object at chest height, beside the body
                assert s[1] < oy < sy and not (s[0] < ox < s[2]), where
            elif v == 5:  # carry: object at chest height, feet below it
                assert s[1] < oy < sy and o[3] < s[3], where
            elif v == 6:  # sit_on: object under the hips down to the feet
                assert o[1] > sy - 4 and abs(o[3] - s[3]) <= 3, where
            elif v == 4:  # push: standing on the ground, the object ahead of the body
                assert abs(o[3] - s[3]) <= 3 and abs(ox - sx) >= 10, where
            checked[v, r["annotations"][h["object_id"]]["category_id"] - 1] += 1
    assert set(checked) == set(HOIS)


def _colour_fraction(image, bbox, bgr, tol=40):
    x1, y1, x2, y2 = bbox
    patch = image[y1:y2, x1:x2].astype(int)
    return float(np.mean(np.all(np.abs(patch - np.array(bgr)) <= tol, axis=-1)))


def test_annotations_match_the_pixels(world):
    for r in _records(world, "test")[:50]:
        image = cv2.imread(str(world / "images" / "test" / r["file_name"]))
        for a in r["annotations"]:
            colour = {BALL + 1: sh._BALL, BOX + 1: sh._BOX}.get(a["category_id"])
            if colour is not None:  # a filled circle fills pi/4 of its box; a box all of it but outline and hands
                assert _colour_fraction(image, a["bbox"], colour) > 0.6, (r["file_name"], a)


def test_seeded_and_apart_from_the_quickstart_world(tmp_path):
    a = sc.generate_synthetic_compositional_hoi(tmp_path / "a", num_train=5, num_test=3, seed=2)
    b = sc.generate_synthetic_compositional_hoi(tmp_path / "b", num_train=5, num_test=3, seed=2)
    for f in sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    path = sc.ensure_synthetic_compositional_hoi(tmp_path / "cache", num_train=4, num_test=2)
    assert path.name == "synth_hoi_compositional_v1_n4-2_s128_seed0" and sc.SYNTH_COMPOSITIONAL_VERSION != \
        sh.SYNTH_HOI_VERSION
    with pytest.raises(ValueError, match="not one of"):
        sc.render_compositional_scene(np.random.default_rng(0), hois=[("ride", "box")])


def test_config_holds_out_the_world_and_restrictions_come_from_the_full_list():
    cfg = setup_cfg(CONFIG, list(TINY))
    assert cfg.DATASETS.TRAIN == ("synth_hoi_compositional_train",) and cfg.MODEL.GGNET.VERB_CLASSIFIER == "conv"
    assert unseen_hoi_ids("custom", cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN, 13) == sc.held_out_hoi_ids()
    assert zero_shot_unseen_pairs(cfg, "synth_hoi_compositional_test") == HELD_OUT
    full_dicts = DatasetCatalog.get("synth_hoi_compositional_train")
    dicts = zero_shot_train_dicts(cfg)  # nothing to remove: the training split never draws a held-out pair
    assert sum(len(d["hoi_annotations"]) for d in dicts) == sum(len(d["hoi_annotations"]) for d in full_dicts)
    from_training = annotated_verb_objects(dicts, 7, 4)
    full = np.asarray(MetadataCatalog.get("synth_hoi_compositional_test").valid_verb_object)
    assert set(map(tuple, np.argwhere(full & ~from_training))) == HELD_OUT and not (from_training & ~full).any()
    with pytest.raises(ValueError, match="excludes 4 unseen"):
        check_zero_shot_restriction(from_training, "training annotations", HELD_OUT, "custom")
    check_zero_shot_restriction(full, "metadata", HELD_OUT, "custom")
    # the HNA hard negatives come from the seen classes: here exactly the training pairs
    assert np.array_equal(zero_shot_mapper_overrides(cfg)["valid_verb_object"], from_training)
    from detectron2.modeling import build_model

    model = build_model(cfg)
    assert model.valid_verb_object_source == "metadata:synth_hoi_compositional_test"
    assert np.array_equal(model.valid_verb_object.numpy(), full)


def test_annotated_verb_objects_by_hand():
    dicts = [{"annotations": [{"category_id": 0}, {"category_id": 3}, {"category_id": 1}],
              "hoi_annotations": [{"subject_id": 0, "object_id": 1, "verb_id": 5},
                                  {"subject_id": 0, "object_id": 2, "verb_id": 0}]},
             {"annotations": [{"category_id": 0}, {"category_id": 3}],
              "hoi_annotations": [{"subject_id": 0, "object_id": 1, "verb_id": 5}]}]
    valid = annotated_verb_objects(dicts, 7, 4)
    assert valid.shape == (7, 4) and sorted(map(tuple, np.argwhere(valid))) == [(0, 1), (5, 3)]
    with pytest.raises(ValueError, match="outside"):
        annotated_verb_objects(dicts, 5, 4)


def test_training_restriction_decodes_no_held_out_pair():
    """By hand: a hold interaction point between a person and a box (zero APM offsets) decodes as "hold box" under the
    world's full restriction, and never under the one taken from the training data."""
    from ggnet_d2.modeling.postprocess.decode import decode_hoi

    size = 16
    obj = torch.zeros(1, 4, size, size)
    obj[0, 0, 8, 4], obj[0, BOX, 8, 12] = 0.9, 0.8  # a person left of the point, a box right of it
    inter = torch.zeros(1, 7, size, size)
    inter[0, 0, 8, 8] = 0.7  # hold
    zeros2 = torch.zeros(1, 2, size, size)
    full = torch.as_tensor(sc.synthetic_compositional_metadata()["valid_verb_object"])
    from_training = full.clone()
    for v, o in HELD_OUT:
        from_training[v, o] = False

    def triplets(valid):
        d = decode_hoi(obj, zeros2, zeros2, inter, torch.zeros(1, 14, size, size), torch.zeros(1, 14, size, size),
                       torch.zeros(1, 0, size, size), torch.zeros(1, 0, size, size), topk_interactions=1,
                       topk_humans=2, topk_objects=2, valid_verb_object=valid)
        keep = d["valid"][0]
        classes = torch.gather(d["object_classes"][0], 0, d["object_index"][0])
        return {(int(v), int(c), round(float(sc_), 4)) for v, c, sc_ in
                zip(d["verb_classes"][0][keep], classes[keep], d["hoi_scores"][0][keep])}

    assert triplets(full) == {(0, BOX, round(0.7 * 0.9 * 0.8, 4))}
    assert not {(v, c) for v, c, _ in triplets(from_training)} & HELD_OUT


def test_training_restriction_tool_evaluates_under_the_training_pairs(tmp_path, capsys, monkeypatch):
    """tools/zero_shot_training_restriction.py gives the model the training annotations' pairs (the world's 13
    minus the 4 held out), names the pairs it drops, and evaluates every test dataset with them (inference stubbed:
    the test checks what the model is given, the decoding is checked above)."""
    import importlib.util

    import detectron2.evaluation

    from ggnet_d2.engine import GGNetTrainer

    opts = list(TINY) + ["OUTPUT_DIR", str(tmp_path)]
    model = GGNetTrainer.build_model(setup_cfg(CONFIG, opts))
    weights = tmp_path / "random.pth"
    torch.save({"model": model.state_dict()}, weights)
    seen = []

    def fake_inference(model, loader, evaluator):
        seen.append((model.valid_verb_object.numpy().copy(), model.valid_verb_object_source,
                     evaluator._dataset_name))
        return {"hoi": {"mAP_default_unseen": 0.0}}

    monkeypatch.setattr(detectron2.evaluation, "inference_on_dataset", fake_inference)
    spec = importlib.util.spec_from_file_location("zstr", REPO / "tools" / "zero_shot_training_restriction.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    results = tool.main(["--config-file", CONFIG, *opts, "MODEL.WEIGHTS", str(weights)])
    assert "drops: [(0, 3), (2, 3), (5, 1), (6, 1)]" in capsys.readouterr().out
    [(valid, source, name)] = seen
    assert name == "synth_hoi_compositional_test" and "training annotations" in source
    assert sorted(map(tuple, np.argwhere(valid))) == sorted(set(HOIS) - HELD_OUT)
    assert results == {name: {"hoi": {"mAP_default_unseen": 0.0}}}
    with pytest.raises(ValueError, match="ZERO_SHOT_SPLIT is not set"):
        tool.main(["--config-file", CONFIG, *opts, "MODEL.WEIGHTS", str(weights), "DATASETS.HOI.ZERO_SHOT_SPLIT",
                   ""])
