"""Issue 20: random image files (modes, sizes, formats, EXIF orientations, truncation, records with and without their
size) through the loader, the mapper and a tiny GGNet under both policies. An image is either used -- in the
orientation it is shown, 8-bit, with finite losses -- or a counted skip ("skip", training) / a BadRecordError naming
it ("error", and at test time); nothing else escapes, and the two policies agree on which images are bad."""
import json
import logging

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from detectron2.modeling import build_model
from PIL import Image

from ggnet_d2.data import BadRecordError, BadRecordPolicy, HOIDatasetMapper, load_hoi_json

from test_modeling_helpers import tiny_cfg

META = {"thing_dataset_id_to_contiguous_id": {1: 0, 2: 1}, "verb_dataset_id_to_contiguous_id": {1: 0}}
SIZE = 64

MODES = ["RGB", "L", "P", "RGBA", "LA", "CMYK", "I;16", "I", "F", "1"]
UNSUPPORTED = {"F"}  # no sound 8-bit conversion (ggnet_d2/data/image_io.py)
FORMATS = {"PNG": {"RGB", "L", "P", "RGBA", "LA", "I;16", "1"}, "JPEG": {"RGB", "L", "CMYK"},
           "TIFF": set(MODES)}


def _pixels(rng, mode, w, h):
    if mode in ("I;16",):
        return Image.fromarray(rng.randint(0, 65536, (h, w)).astype(np.uint16))
    if mode == "I":
        return Image.fromarray(rng.randint(0, 65536, (h, w)).astype(np.int32))
    if mode == "F":
        return Image.fromarray(rng.rand(h, w).astype(np.float32))
    return Image.fromarray(rng.randint(0, 256, (h, w, 4), np.uint8), "RGBA").convert(mode)


@st.composite
def image_files(draw):
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from([f for f, modes in FORMATS.items() if mode in modes]))
    return {"mode": mode, "format": fmt, "w": draw(st.integers(12, 70)), "h": draw(st.integers(12, 70)),
            "orientation": draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8])),
            "cut": draw(st.sampled_from([None, None, None, 0.3, 0.6, 0.9])),
            "size_in_record": draw(st.booleans()), "seed": draw(st.integers(0, 2**16))}


def _write(tmp_path, i, spec):
    """Write the file; return (file name, shown (h, w))."""
    rng = np.random.RandomState(spec["seed"])
    im = _pixels(rng, spec["mode"], spec["w"], spec["h"])
    name = f"{i}.{spec['format'].lower()}"
    save = {}
    if spec["orientation"] is not None:
        exif = Image.Exif()
        exif[0x0112] = spec["orientation"]
        save["exif"] = exif
    im.save(tmp_path / name, spec["format"], **save)
    if spec["cut"]:
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[: max(1, int(len(data) * spec["cut"]))])
    swap = spec["orientation"] in (5, 6, 7, 8)
    return name, (spec["w"], spec["h"]) if swap else (spec["h"], spec["w"])


def _record(name, shown, with_size):
    h, w = shown
    rec = {"file_name": name, "annotations": [{"bbox": [1, 1, w // 2, h - 1], "category_id": 1},
                                              {"bbox": [w // 2, 2, w - 1, h // 2], "category_id": 2}],
           "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 1}]}
    if with_size:
        rec.update(height=h, width=w)
    return rec


_MODEL = {}


def _model():
    if "m" not in _MODEL:
        torch.manual_seed(0)
        _MODEL["m"] = build_model(tiny_cfg("resnet"))
    return _MODEL["m"]


def _mapper(is_train, policy):
    cfg = tiny_cfg("resnet")
    cfg.INPUT.GGNET.INPUT_SIZE = cfg.INPUT.GGNET.TEST_SIZE = SIZE
    cfg.DATASETS.HOI.BAD_RECORD_POLICY = policy
    return HOIDatasetMapper(cfg, is_train=is_train)  # the tiny model's classes and verbs


def _map(mapper, d):
    try:
        return mapper(d)
    except BadRecordError as e:
        assert d["file_name"] in str(e) and f"image_id {d['image_id']}" in str(e)
        return "error"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs=st.lists(image_files(), min_size=2, max_size=4))
def test_random_image_files_are_used_skipped_or_named(tmp_path, specs, caplog):
    caplog.set_level(logging.WARNING)
    for old in tmp_path.iterdir():
        old.unlink()
    records, shown = [], []
    for i, spec in enumerate(specs):
        name, hw = _write(tmp_path, i, spec)
        records.append(_record(name, hw, spec["size_in_record"]))
        shown.append(hw)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(records))

    # loader: every record with the size the file shows, or counted skip / named error when the header is unreadable
    kept = load_hoi_json(str(path), str(tmp_path), metadata=META, policy=BadRecordPolicy("skip", box_clip_tolerance=0))
    try:
        strict = load_hoi_json(str(path), str(tmp_path), metadata=META,
                               policy=BadRecordPolicy("error", box_clip_tolerance=0))
        assert len(strict) == len(records) == len(kept)
    except BadRecordError as e:
        assert str(path) in str(e) and len(kept) < len(records)
    for d in kept:
        assert (d["height"], d["width"]) == shown[d["image_id"]]

    batch = []
    for d in kept:
        spec = specs[d["image_id"]]
        skip_train, error_train = _map(_mapper(True, "skip"), d), _map(_mapper(True, "error"), d)
        test = _map(_mapper(False, "skip"), d)
        assert skip_train != "error"  # "skip" never raises in training ...
        assert (skip_train is None) == (error_train == "error") == (test == "error")  # ... and agrees on what is bad
        oriented_tiff = spec["format"] == "TIFF" and spec["orientation"] not in (None, 1)
        if spec["mode"] in UNSUPPORTED or oriented_tiff:
            assert skip_train is None  # refused by name, never converted
        elif spec["cut"] is None:
            assert skip_train is not None  # every sound image is used
        if skip_train is None:
            continue
        assert skip_train["image"].dtype == torch.uint8 and skip_train["image"].shape == (3, SIZE, SIZE)
        assert test["image"].shape[0] == 3 and max(test["image"].shape[1:]) == SIZE
        if spec["cut"] is None and spec["mode"] in ("RGB", "L", "P"):
            assert test["image"].float().std() > 0  # random pixels stay random: neither blank nor clipped
        batch.append(skip_train)
    if batch:
        model = _model()
        model.train()
        losses = model(batch)
        assert all(torch.isfinite(v).all() for v in losses.values())
        model.eval()
        with torch.no_grad():
            out = model([{"image": b["image"], "height": b["height"], "width": b["width"]} for b in batch])
        assert len(out) == len(batch)
