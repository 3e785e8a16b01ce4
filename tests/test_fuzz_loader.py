"""Issue 12: random records (wrong types, NaN, inf, nulls, out-of-range ids) thrown at the HOI JSON loader under both
policies: "skip" never raises and keeps only sane records, "error" raises nothing but BadRecordError, and exactly
when "skip" drops something. 100 examples of 20-30 records: 2,000+ records."""
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ggnet_d2.data import BadRecordError, BadRecordPolicy
from ggnet_d2.data.datasets.hoi_json import _load

WIDTH, HEIGHT = 60, 40
META = {"thing_dataset_id_to_contiguous_id": {1: 0, 2: 1, 3: 2}, "verb_dataset_id_to_contiguous_id": {1: 0, 2: 1}}

junk = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.text(max_size=3),
                 st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(0, 3), max_size=2),
                 st.dictionaries(st.sampled_from(["x", "bbox"]), st.integers(0, 3), max_size=1))


@st.composite
def mostly(draw, good, one_in=6):
    """``good`` most of the time, else junk: deep checks are reached, and every kind of junk still appears."""
    return draw(junk) if draw(st.sampled_from(range(one_in))) == one_in - 1 else draw(good)


non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
coordinate = mostly(st.one_of(st.floats(-3, WIDTH + 3), st.integers(0, WIDTH + 2)), one_in=3)


@st.composite
def box(draw):
    """Mostly an ordered box near the 60x40 image (some past its border), sometimes one coordinate replaced."""
    x1, y1 = draw(st.floats(-2, WIDTH - 2)), draw(st.floats(-2, HEIGHT - 2))
    b = [x1, y1, x1 + draw(st.floats(0.5, 30)), y1 + draw(st.floats(0.5, 20))]
    if draw(st.sampled_from(range(8))) == 7:
        b[draw(st.integers(0, 3))] = draw(st.one_of(non_finite, coordinate))
    return b


bbox = mostly(box(), one_in=25)
class_id = mostly(st.one_of(st.integers(1, 3), st.integers(0, 4), st.sampled_from(["1", "2\n", " 3"])), one_in=25)
annotation = mostly(st.fixed_dictionaries({"bbox": bbox, "category_id": class_id}), one_in=30)
box_index = mostly(st.one_of(st.integers(0, 2), st.integers(-1, 3), st.sampled_from(["0", "1"])), one_in=25)
hoi = mostly(st.fixed_dictionaries({"subject_id": box_index, "object_id": box_index, "category_id": class_id}),
             one_in=30)
size = mostly(st.one_of(st.just(None), st.sampled_from([(HEIGHT, WIDTH), (HEIGHT - 5, WIDTH), ("40", "60")])),
              one_in=15)


@st.composite
def records(draw):
    out = []
    for _ in range(draw(st.integers(20, 30))):
        if draw(st.sampled_from(range(40))) == 39:
            out.append(draw(junk))  # not even an object
            continue
        rec = {"file_name": draw(mostly(st.sampled_from(["a.png"] * 9 + ["missing.png"]), one_in=30))}
        for key, values in (("annotations", annotation), ("hoi_annotation", hoi)):
            if draw(st.sampled_from(range(20))) < 19:
                rec[key] = draw(mostly(st.lists(values, max_size=3), one_in=30))
        hw = draw(mostly(size, one_in=20))
        if hw is not None:
            if not isinstance(hw, tuple):
                hw = (hw, WIDTH)
            rec["height"], rec["width"] = hw
        out.append(rec)
    return out


def _sane(d):
    assert d["height"] > 0 and d["width"] > 0
    for a in d["annotations"]:
        x1, y1, x2, y2 = a["bbox"]
        assert all(math.isfinite(v) for v in a["bbox"])
        assert 0 <= x1 < x2 <= d["width"] and 0 <= y1 < y2 <= d["height"]
        assert a["category_id"] in (0, 1, 2)
    for h in d["hoi_annotations"]:
        assert 0 <= h["subject_id"] < len(d["annotations"]) and 0 <= h["object_id"] < len(d["annotations"])
        assert h["verb_id"] in (0, 1)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=records())
def test_random_records_skip_or_badrecorderror(tmp_path, raw):
    Image.new("RGB", (WIDTH, HEIGHT)).save(tmp_path / "a.png")
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(raw, allow_nan=True))
    kept, meta, skips = _load(str(path), str(tmp_path), None, META, BadRecordPolicy("skip"), log=False)
    assert len(kept) + skips.num_skipped == len(raw)
    for d in kept:
        _sane(d)
    assert meta["valid_verb_object"].shape == (2, 3)
    try:
        strict, _, _ = _load(str(path), str(tmp_path), None, META, BadRecordPolicy("error"), log=False)
    except BadRecordError as e:
        assert skips.num_skipped > 0 and str(path) in str(e)
    else:
        assert skips.num_skipped == 0 and len(strict) == len(raw)
