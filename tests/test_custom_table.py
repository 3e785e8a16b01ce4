"""Issue 20, item 3: the files of DATASETS.HOI.CUSTOM share one class and verb table (from the config's names or the
training file), every file is checked against it, the person class is found by name or checked against the HOI
subjects, and a non-person subject is a counted skip (an error under "error")."""
import json
import logging

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from ggnet_d2.data import BadRecordError
from ggnet_d2.engine import setup_cfg

# file ids: person 1, cup 3, ball 4; verbs hold 2, kick 5
PERSON, CUP, BALL = 1, 3, 4


def _rec(name, objects, verbs, subject_class=PERSON):
    anns = [{"bbox": [1, 1, 20, 30], "category_id": subject_class}]
    anns += [{"bbox": [10 + i, 5, 30 + i, 25], "category_id": c} for i, c in enumerate(objects)]
    hois = [{"subject_id": 0, "object_id": 1 + i, "category_id": v} for i, v in enumerate(verbs)]
    return {"file_name": name, "annotations": anns, "hoi_annotation": hois}


def _write(tmp_path, name, records):
    for r in records:
        if not (tmp_path / r["file_name"]).exists():
            Image.new("RGB", (40, 32)).save(tmp_path / r["file_name"])
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return str(path)


def _setup(tmp_path, train, test, *opts, classes=2, verbs=2):
    """setup_cfg with DATASETS.HOI.CUSTOM (train, test), names unique to the test; returns (cfg, train, test names)."""
    tag = tmp_path.name
    names = (f"{tag}_train", f"{tag}_test")
    entries = [(n, f, str(tmp_path)) for n, f in zip(names, (train, test)) if f is not None]
    cfg = setup_cfg("", ["DATASETS.HOI.CUSTOM", repr(entries), "DATASETS.TRAIN", repr((names[0],)) if train else "()",
                         "DATASETS.TEST", repr((names[1],)), "MODEL.GGNET.NUM_CLASSES", str(classes),
                         "MODEL.GGNET.NUM_VERBS", str(verbs), *opts])
    return cfg, names[0], names[1]


def test_test_file_missing_a_class_keeps_the_training_table(tmp_path):
    train = _write(tmp_path, "train.json", [_rec("a.png", [CUP], [2]), _rec("b.png", [BALL], [5])])
    test = _write(tmp_path, "test.json", [_rec("b.png", [BALL], [5])])  # no cup, no verb 2
    cfg, train_name, test_name = _setup(tmp_path, train, test, classes=3)
    for name in (train_name, test_name):
        meta = MetadataCatalog.get(name)
        assert meta.thing_dataset_id_to_contiguous_id == {PERSON: 0, CUP: 1, BALL: 2}
        assert meta.verb_dataset_id_to_contiguous_id == {2: 0, 5: 1}
    (d,) = DatasetCatalog.get(test_name)
    # the ball is class 2 and kick verb 1 in the test split too (each file's own map made them 1 and 0)
    assert [a["category_id"] for a in d["annotations"]] == [0, 2] and d["hoi_annotations"][0]["verb_id"] == 1


def test_unknown_id_in_another_file_is_an_error_naming_it(tmp_path):
    train = _write(tmp_path, "train.json", [_rec("a.png", [CUP], [2, 5][:1]), _rec("b.png", [CUP], [5])])
    test = _write(tmp_path, "test.json", [_rec("a.png", [CUP], [2]), _rec("b.png", [CUP, 7], [2, 2])])
    with pytest.raises(BadRecordError, match=r"test.json: image #1 \(b.png\) annotation #2: object category_id 7 "
                                             r"is not in the table .*ids \[1, 3\] from the ids of .*train.json"):
        _setup(tmp_path, train, test)
    test2 = _write(tmp_path, "test2.json", [_rec("a.png", [CUP], [9])])
    with pytest.raises(BadRecordError, match=r"test2.json: image #0 \(a.png\) hoi #0: verb category_id 9"):
        _setup(tmp_path, train, test2)


def test_table_size_must_match_the_model(tmp_path):
    train = _write(tmp_path, "train.json", [_rec("a.png", [CUP, BALL], [2, 5])])
    with pytest.raises(ValueError, match=r"3 classes \(ids \[1, 3, 4\] .*MODEL.GGNET.NUM_CLASSES is 2"):
        _setup(tmp_path, train, None)


def test_person_found_by_name_any_case_and_override(tmp_path):
    # "Human" is file id 4, the largest: contiguous class 2
    records = [_rec("a.png", [PERSON], [2], subject_class=4), _rec("b.png", [CUP], [5], subject_class=4)]
    train = _write(tmp_path, "train.json", records)
    names = "[[1, 'dog'], [3, 'cup'], [4, ' Human ']]"
    cfg, train_name, _ = _setup(tmp_path, train, None, "DATASETS.HOI.CUSTOM_THING_CLASSES", names,
                                "DATASETS.HOI.CUSTOM_VERB_CLASSES", "[[2, 'hold'], [5, 'kick']]", classes=3)
    assert cfg.MODEL.GGNET.PERSON_CLASS_ID == 2
    meta = MetadataCatalog.get(train_name)
    assert meta.person_class_id == 2 and meta.thing_classes == ["dog", "cup", " Human "]
    assert meta.verb_classes == ["hold", "kick"]
    # a non-zero PERSON_CLASS_ID wins over the name
    sub = tmp_path / "override"
    sub.mkdir()
    train = _write(sub, "train.json", [_rec("a.png", [CUP], [2], subject_class=PERSON),
                                       _rec("b.png", [CUP], [5], subject_class=4)])
    cfg, train_name, _ = _setup(sub, train, None, "DATASETS.HOI.CUSTOM_THING_CLASSES", names,
                                "MODEL.GGNET.PERSON_CLASS_ID", "1", classes=3)
    assert cfg.MODEL.GGNET.PERSON_CLASS_ID == 1 and MetadataCatalog.get(train_name).person_class_id == 1


def test_unnamed_person_not_first_is_an_error_unless_set(tmp_path):
    # subjects are file id 3 (contiguous 1); without names only PERSON_CLASS_ID can say so
    records = [_rec("a.png", [PERSON], [2], subject_class=CUP), _rec("b.png", [PERSON], [5], subject_class=CUP)]
    train = _write(tmp_path, "train.json", records)
    with pytest.raises(ValueError, match=r"HOI subjects are mostly file class id 3 = class 1 \(2 of 2\): set "
                                         r"MODEL.GGNET.PERSON_CLASS_ID 1"):
        _setup(tmp_path, train, None)
    cfg, train_name, _ = _setup(tmp_path, train, None, "MODEL.GGNET.PERSON_CLASS_ID", "1")
    assert MetadataCatalog.get(train_name).person_class_id == 1 and len(DatasetCatalog.get(train_name)) == 2


@pytest.mark.parametrize("policy", ["skip", "error"])
def test_non_person_subject_is_counted_and_skipped(tmp_path, caplog, policy):
    records = [_rec("a.png", [CUP], [2]), _rec("b.png", [CUP], [5]), _rec("c.png", [CUP], [2], subject_class=CUP)]
    train = _write(tmp_path, "train.json", records)
    cfg, train_name, _ = _setup(tmp_path, train, None, "DATASETS.HOI.BAD_RECORD_POLICY", policy)
    message = r"train.json: image #2 \(c.png\) hoi #0: subject box #0 is class 1 \('3'\), not the person class 0"
    if policy == "error":
        with pytest.raises(BadRecordError, match=message):
            DatasetCatalog.get(train_name)
        return
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.datasets.bad_records"):
        dicts = DatasetCatalog.get(train_name)
    assert [d["file_name"].rsplit("/", 1)[-1] for d in dicts] == ["a.png", "b.png"]
    (line,) = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert "skipped 1 of 3 images with bad records (subject_not_person: 1)" in line
    # the correspondence is derived from the kept images only: (verb 0 and 1) x cup, nothing for the person
    meta = MetadataCatalog.get(train_name)
    np.testing.assert_array_equal(meta.valid_verb_object, [[False, True], [False, True]])


def test_malformed_names_are_refused(tmp_path):
    train = _write(tmp_path, "train.json", [_rec("a.png", [CUP], [2])])
    with pytest.raises(ValueError, match=r"CUSTOM_THING_CLASSES entries are unique \[file_id, name\] pairs"):
        _setup(tmp_path, train, None, "DATASETS.HOI.CUSTOM_THING_CLASSES", "['person', 'cup']", verbs=1)


def test_eval_only_on_a_test_file_missing_a_class(tmp_path):
    """The issue's case: eval-only of a 3-class model on a test file without the cup ended in a bare KeyError: 2 (the
    test file's own map had 2 classes); with the shared table the predictions carry the training file's ids."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    rng = np.random.RandomState(0)
    for n in ("a.png", "b.png"):
        Image.fromarray(rng.randint(0, 255, (32, 40, 3), np.uint8)).save(tmp_path / n)
    train = _write(tmp_path, "train.json", [_rec("a.png", [CUP], [2]), _rec("b.png", [BALL], [5])])
    test = _write(tmp_path, "test.json", [_rec("b.png", [BALL], [5])])
    out = tmp_path / "out"
    opts = ["DATASETS.HOI.CUSTOM", repr([("t20_train", train, str(tmp_path)), ("t20_test", test, str(tmp_path))]),
            "DATASETS.TRAIN", "('t20_train',)", "DATASETS.TEST", "('t20_test',)",
            "MODEL.GGNET.NUM_CLASSES", "3", "MODEL.GGNET.NUM_VERBS", "2", "MODEL.GGNET.HEAD_CONV", "8",
            "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]", "INPUT.GGNET.TEST_SIZE", "64",
            "MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL", "True", "MODEL.WEIGHTS", "", "SEED", "0", "OUTPUT_DIR", str(out)]
    env = dict(os.environ, PYTHONPATH=str(repo))
    run = subprocess.run([sys.executable, "train_net.py", "--config-file", "configs/quickstart/GGNet_R18_synth.yaml",
                          "--eval-only", *opts], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    entries = json.loads((out / "inference" / "t20_test" / "predictions.json").read_text())
    classes = {p["category_id"] for e in entries for p in e["predictions"]}
    # seeded random weights predict person and cup (contiguous 0 and 1); the test file's own map (1 -> 0, 4 -> 1)
    # wrote the cup as a ball, and a predicted class 2 had no file id at all (the KeyError)
    assert classes <= {PERSON, CUP, BALL} and CUP in classes, classes
