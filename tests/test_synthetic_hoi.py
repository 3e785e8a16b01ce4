"""The embedded quickstart dataset (issue 6): deterministic, complete, hard negatives, consistent with its pixels."""
import hashlib
import json
from collections import Counter, defaultdict

import cv2
import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from ggnet_d2.data.datasets import synthetic_hoi as sh

PERSON, BALL, BIKE, BOX = 1, 2, 3, 4
VERB = {name: i + 1 for i, (name, _) in enumerate(sh.SYNTH_HOI_VERBS)}


@pytest.fixture(scope="module")
def default_root(tmp_path_factory):
    """The default-size dataset (800 + 100 images), generated once for this module."""
    root = tmp_path_factory.mktemp("cache")
    sh.ensure_synthetic_hoi(root)
    return root


def _records(root, split):
    folder = root / sh.SYNTH_HOI_VERSION
    return json.loads((folder / f"{split}.json").read_text()), folder / "images" / split


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = sh.generate_synthetic_hoi(tmp_path / "a", num_train=6, num_test=3, seed=5)
    b = sh.generate_synthetic_hoi(tmp_path / "b", num_train=6, num_test=3, seed=5)
    c = sh.generate_synthetic_hoi(tmp_path / "c", num_train=6, num_test=3, seed=6)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 2 + 9
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "train.json").read_bytes() != (c / "train.json").read_bytes()
    # train and test are drawn from different streams
    assert (a / "images/train/000000.png").read_bytes() != (a / "images/test/000000.png").read_bytes()


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_class_and_verb_present_with_the_documented_pairs(default_root, split):
    recs, _ = _records(default_root, split)
    assert len(recs) == {"train": 800, "test": 100}[split]
    objects = {a["category_id"] for r in recs for a in r["annotations"]}
    assert objects == {1, 2, 3, 4}
    pairs = Counter((h["category_id"], r["annotations"][h["object_id"]]["category_id"])
                    for r in recs for h in r["hoi_annotation"])
    expected = {(v + 1, sh.SYNTH_HOI_OBJECTS.index(o) + 1) for v, (_, o) in enumerate(sh.SYNTH_HOI_VERBS)}
    assert set(pairs) == expected
    if split == "train":  # the static metadata says no triplet is rare (< 10 training instances)
        assert min(pairs.values()) >= 10


def test_hard_negatives_verbs_share_objects(default_root):
    recs, _ = _records(default_root, "train")
    verbs_of = defaultdict(set)
    for r in recs:
        for h in r["hoi_annotation"]:
            verbs_of[r["annotations"][h["object_id"]]["category_id"]].add(h["category_id"])
    assert verbs_of[BALL] == {VERB["hold"], VERB["throw"], VERB["kick"]}
    assert verbs_of[BIKE] == {VERB["ride"], VERB["push"]}
    assert verbs_of[BOX] == {VERB["carry"], VERB["sit_on"]}
    assert PERSON not in verbs_of


def test_scene_structure_and_boxes(default_root):
    recs, img_dir = _records(default_root, "train")
    people_counts, idle_seen = Counter(), 0
    for r in recs:
        anns, hois = r["annotations"], r["hoi_annotation"]
        people = [i for i, a in enumerate(anns) if a["category_id"] == PERSON]
        people_counts[len(people)] += 1
        assert 1 <= len(hois) <= 2
        for a in anns:
            x1, y1, x2, y2 = a["bbox"]
            assert 0 <= x1 < x2 <= r["width"] and 0 <= y1 < y2 <= r["height"], (r["file_name"], a)
            if a["category_id"] != PERSON:
                assert min(x2 - x1, y2 - y1) >= 16, (r["file_name"], a)  # big, learnable objects
        for h in hois:
            assert anns[h["subject_id"]]["category_id"] == PERSON
            assert anns[h["object_id"]]["category_id"] != PERSON
        # every object belongs to exactly one HOI; a person to at most one
        assert sorted(h["object_id"] for h in hois) == [i for i, a in enumerate(anns) if a["category_id"] != PERSON]
        assert len({h["subject_id"] for h in hois}) == len(hois)
        idle_seen += len(people) - len(hois) > 0
    assert set(people_counts) == {2, 3, 4}
    assert idle_seen > len(recs) // 2  # APM must choose among people: most images have idle ones


def _colour_fraction(image, bbox, bgr, tol=40):
    x1, y1, x2, y2 = bbox
    patch = image[y1:y2, x1:x2].astype(int)
    return float(np.mean(np.all(np.abs(patch - np.array(bgr)) <= tol, axis=-1)))


def test_annotations_match_the_pixels(default_root):
    recs, img_dir = _records(default_root, "test")
    for r in recs:
        image = cv2.imread(str(img_dir / r["file_name"]))
        assert image.shape == (r["height"], r["width"], 3) == (128, 128, 3)
        for a in r["annotations"]:
            if a["category_id"] == BALL:  # a filled circle fills pi/4 of its box
                assert _colour_fraction(image, a["bbox"], sh._BALL) > 0.6, (r["file_name"], a)
            elif a["category_id"] == BOX:  # a filled rectangle (minus outline, stripe and gripping hands)
                assert _colour_fraction(image, a["bbox"], sh._BOX) > 0.6, (r["file_name"], a)
            elif a["category_id"] == BIKE:  # thin green strokes
                assert 0.1 < _colour_fraction(image, a["bbox"], sh._BIKE) < 0.6, (r["file_name"], a)
        covered = np.zeros(image.shape[:2], bool)
        for a in r["annotations"]:
            x1, y1, x2, y2 = a["bbox"]
            covered[y1:y2, x1:x2] = True
        for col in (sh._BALL, sh._BOX, sh._BIKE):
            stray = np.all(np.abs(image.astype(int) - np.array(col)) <= 40, axis=-1) & ~covered
            assert not stray.any(), (r["file_name"], col)


def _center(b):
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def test_layout_rules_of_the_verbs(default_root):
    """The documented visual rules, checked on the boxes of every train triplet."""
    recs, _ = _records(default_root, "train")
    for r in recs:
        for h in r["hoi_annotation"]:
            s, o = r["annotations"][h["subject_id"]]["bbox"], r["annotations"][h["object_id"]]["bbox"]
            (sx, sy), (ox, oy) = _center(s), _center(o)
            v, where = h["category_id"], (r["file_name"], h)
            if v == VERB["throw"]:  # ball in the air above the head
                assert o[3] <= s[1] + 4, where
            elif v == VERB["kick"]:  # ball on the ground at the feet
                assert abs(o[3] - s[3]) <= 3, where
            elif v == VERB["hold"]:  # ball at chest height, beside the body
                assert s[1] < oy < sy and not (s[0] < ox < s[2]), where
            elif v == VERB["ride"]:  # the rider is over the bike, hips above the wheels
                assert o[0] <= sx <= o[2] and s[1] < o[1] and s[3] <= o[3] - 4 and abs(ox - sx) < 10, where
            elif v == VERB["push"]:  # standing on the ground, the bike ahead of the body (a rider sits over it)
                assert abs(o[3] - s[3]) <= 3 and abs(ox - sx) >= 10, where
            elif v == VERB["carry"]:  # box held at chest height, feet below it
                assert s[1] < oy < sy and o[3] < s[3], where
            elif v == VERB["sit_on"]:  # box under the hips down to the feet
                assert o[1] > sy - 4 and abs(o[3] - s[3]) <= 3, where


def test_cache_is_atomic_and_reused(tmp_path, monkeypatch):
    small = dict(num_train=4, num_test=2)
    path = sh.ensure_synthetic_hoi(tmp_path, **small)
    stamp = (path / "train.json").stat().st_mtime_ns
    assert sh.ensure_synthetic_hoi(tmp_path, **small) == path
    assert (path / "train.json").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary folder left

    # a concurrent run that finished first: ours loses the rename, keeps theirs, removes its copy
    real = sh.generate_synthetic_hoi

    def racing(out_dir, *args):
        real(tmp_path / path.name.replace("n4-2", "n5-2"), *args)
        return real(out_dir, *args)

    monkeypatch.setattr(sh, "generate_synthetic_hoi", racing)
    other = sh.ensure_synthetic_hoi(tmp_path, num_train=5, num_test=2)
    assert other.name.endswith("n5-2_s128_seed0") and (other / "test.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, other.name])

    # an interrupted run leaves no dataset behind
    def crashing(out_dir, *args):
        (out_dir / "train.json").write_text("[")
        raise KeyboardInterrupt

    monkeypatch.setattr(sh, "generate_synthetic_hoi", crashing)
    with pytest.raises(KeyboardInterrupt):
        sh.ensure_synthetic_hoi(tmp_path, num_train=7, num_test=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, other.name])


def test_metadata_is_static_and_consistent():
    m = sh.synthetic_hoi_metadata()
    assert m["thing_classes"][m["person_class_id"]] == "person"
    assert m["valid_verb_object"].shape == (7, 4) and m["valid_verb_object"].sum() == 7
    for hoi_id, (v, o) in enumerate(m["hoi_classes"]):
        assert m["valid_verb_object"][v, o] and m["thing_classes"][o] == sh.SYNTH_HOI_VERBS[v][1]
    assert m["rare_hoi_ids"] == [] and m["non_rare_hoi_ids"] == list(range(7))
    assert m["evaluator_type"] == "hoi"


def test_register_is_lazy_then_loads_contiguous_dicts(default_root, tmp_path):
    names = ("synth_hoi_train", "synth_hoi_test")
    old = {n: (DatasetCatalog[n] if n in DatasetCatalog.list() else None) for n in names}
    for n in names:
        DatasetCatalog.pop(n, None)
        MetadataCatalog.pop(n, None)
    try:
        empty = tmp_path / "unused"
        sh.register_synthetic_hoi(empty)
        meta = MetadataCatalog.get("synth_hoi_test")
        assert meta.verb_classes[3] == "ride" and meta.evaluator_type == "hoi"
        assert not empty.exists()  # metadata came without generating anything
        for n in names:
            DatasetCatalog.pop(n)
            MetadataCatalog.pop(n)
        sh.register_synthetic_hoi(default_root)
        dicts = DatasetCatalog.get("synth_hoi_test")
        raw, img_dir = _records(default_root, "test")
        assert len(dicts) == len(raw) == 100
        d, r = dicts[0], raw[0]
        assert d["file_name"] == str(img_dir / r["file_name"]) and (d["height"], d["width"]) == (128, 128)
        assert [a["category_id"] for a in d["annotations"]] == [a["category_id"] - 1 for a in r["annotations"]]
        hoi_classes = MetadataCatalog.get("synth_hoi_test").hoi_classes
        for h, rh in zip(d["hoi_annotations"], r["hoi_annotation"]):
            assert h["verb_id"] == rh["category_id"] - 1
            assert hoi_classes[h["hoi_id"]] == (h["verb_id"], d["annotations"][h["object_id"]]["category_id"])
    finally:
        for n in names:
            DatasetCatalog.pop(n, None)
            MetadataCatalog.pop(n, None)
            if old[n] is not None:
                DatasetCatalog.register(n, old[n])


def test_registered_splits_take_the_policy_and_log_their_summary_once(caplog):
    """The test loader and the evaluator both load the test split: its verb histogram is logged on the first load
    only, and the config's bad-record policy reaches it (configure_hoi_datasets re-registers PolicyLoaders)."""
    import logging

    from ggnet_d2.data.datasets.bad_records import BadRecordPolicy, PolicyLoader

    registered = DatasetCatalog.data["synth_hoi_test"]
    assert isinstance(registered, PolicyLoader)
    loader = registered.with_policy(BadRecordPolicy("error"))  # a fresh copy: nothing loaded yet
    with caplog.at_level(logging.INFO, logger="ggnet_d2.data.datasets.hoi_json"):
        first, second = loader(), loader()
    lines = [r.getMessage() for r in caplog.records if "HOIs in" in r.getMessage()]
    assert len(first) == len(second) == 100 and len(lines) == 1 and lines[0].startswith("synth_hoi_test: ")


# sha256 of the default quickstart world (synth_hoi_v1: both JSON files, then every image's decoded pixels in split
# and file order), computed from the generator as it stood before the compositional world was added (commit 766442c):
# the quickstart's figures (README) were measured on exactly these images. Decoded pixels, not PNG bytes, so that
# another zlib does not count as a change.
QUICKSTART_WORLD_SHA256 = "7574f3b26d37f1351264f578b8d99191aa8b4d18d44cddc43ce70a1bb8d755ee"


def test_quickstart_world_unchanged(default_root):
    digest = hashlib.sha256()
    folder = default_root / sh.SYNTH_HOI_VERSION
    for split in ("train", "test"):
        digest.update((folder / f"{split}.json").read_bytes())
    for split in ("train", "test"):
        for path in sorted((folder / "images" / split).glob("*.png")):
            digest.update(cv2.imread(str(path), cv2.IMREAD_UNCHANGED).tobytes())
    assert digest.hexdigest() == QUICKSTART_WORLD_SHA256
