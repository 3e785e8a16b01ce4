"""ggnet_d2.formats: the torch-free readers, the prediction format's checks (issue 20 items 6 and 7), the offline
scoring without torch, and the converters' errors on broken input, through the CLIs."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ggnet_d2.formats import FormatError, decode_prediction_entries, hico_test_image_names, load_json
from ggnet_d2.formats.vocabulary import HICO_TEST_ABSENT_NUMBERS
from shared_data import SHARED
from test_data_converters import _structs
from test_eval_offline import CUP, HOLD_CUP, HUMAN, NAMES, entry, per_class, predictions, write_ppdm_json, zero

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"


def _run(tool, *args):
    return subprocess.run([sys.executable, str(TOOLS / tool), *map(str, args)], capture_output=True, text=True,
                          cwd=str(ROOT))


@pytest.fixture
def ppdm(tmp_path):
    write_ppdm_json(tmp_path / "test_hico.json")
    return tmp_path


def test_offline_scoring_imports_neither_torch_nor_detectron2(ppdm):
    (ppdm / "pred.json").write_text(json.dumps(predictions()))
    code = f"""
import runpy, sys
import ggnet_d2, ggnet_d2.formats, ggnet_d2.metrics
sys.argv = ["evaluate_hoi.py", "--predictions", {str(ppdm / "pred.json")!r}, "--ground-truth",
            {str(ppdm / "test_hico.json")!r}]
runpy.run_path({str(TOOLS / "evaluate_hoi.py")!r}, run_name="__main__")
print("LOADED", sorted(m for m in ("torch", "detectron2") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(ROOT))
    text, loaded = out.stdout.rsplit("LOADED", 1)
    assert loaded.strip() == "[]"
    # hold-cup: two TPs at 0.6 -> AP 1; ride-bicycle: FP 0.95, FP 0.9, TP 0.8 -> 1/3; the other 598 classes 0
    # (test_eval_offline.py)
    res = json.loads(text)
    assert res["info"]["triplets_scored"] == 6 and res["hoi"]["mAP_default_full"] == pytest.approx(
        (100 / 3 + 100) / 600)


def test_add_ggnet_config_still_registers_everything():
    code = ("import ggnet_d2, sys; assert 'detectron2' not in sys.modules\n"
            "from ggnet_d2 import add_ggnet_config\n"
            "from detectron2.config import get_cfg\n"
            "from detectron2.data import DatasetCatalog\n"
            "from detectron2.modeling import META_ARCH_REGISTRY\n"
            "cfg = add_ggnet_config(get_cfg())\n"
            "print('GGNet' in META_ARCH_REGISTRY, 'hico_det_test' in DatasetCatalog.list(),\n"
            "      cfg.TEST.HOI.ALLOW_MISSING_IMAGES)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(ROOT))
    assert out.stdout.split() == ["True", "True", "False"]


def test_hico_test_split_constant():
    names = hico_test_image_names()
    assert len(names) == 9658 == 9767 - len(HICO_TEST_ABSENT_NUMBERS) and names == sorted(names)
    assert names[0] == "HICO_test2015_00000001.jpg" and names[-1] == "HICO_test2015_00009767.jpg"
    assert "HICO_test2015_00000504.jpg" not in names and "HICO_test2015_00000503.jpg" in names
    real = SHARED / "hico_det" / "instances_test2015.json"
    if real.is_file():
        assert load_json(real)["filenames"] == names


# --- issue 20 item 6: images outside the split, booleans, tie order ---

@pytest.mark.parametrize("name", ["HICO_test2015_00000504.jpg", "HICO_test2015_00009999.jpg", "other.jpg"])
def test_entry_of_an_image_outside_the_split_is_an_error_or_dropped(ppdm, name):
    # 00000504 is one of the 109 numbers HICO-DET left out, 00009999 is past the last: both look like test images
    preds = predictions() + [entry(name, [(HOLD_CUP, zero(HUMAN), zero(CUP), 0.99)])]
    (ppdm / "pred.json").write_text(json.dumps(preds))
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"pred.json: predictions for 1 image(s) not in the ground truth, e.g. {name}" in out.stderr
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json",
               "--drop-unknown-images", "--output-dir", ppdm / "dropped")
    assert out.returncode == 0 and f"left out 1 entries of images that are not in the split: {name}" in out.stderr
    # scored as if the entry were absent: hold-cup's two TPs at 0.6 keep AP 1 (a 0.99 FP would make it 2/3)
    _, rows = per_class(ppdm / "dropped")
    assert rows[HOLD_CUP]["ap_default"] == pytest.approx(100.0)
    assert json.loads(out.stdout)["info"]["entries_dropped_not_in_split"] == [name]


def test_entry_of_an_image_outside_the_split_in_an_evaluator():
    from test_eval_hico import META, OBJ, SUB, entry as toy_entry
    from ggnet_d2.evaluation import HOIEvaluator

    gt = {"a.jpg": [(0, SUB, OBJ)]}
    entries = [toy_entry("a.jpg", [(0, SUB, OBJ, 0.5)]), toy_entry("zzz.jpg", [(0, SUB, OBJ, 0.9)])]
    with pytest.raises(ValueError, match="not in the ground truth, e.g. zzz.jpg"):
        HOIEvaluator(ground_truth=gt, metadata=META, distributed=False).evaluate_predictions(entries)
    ev = HOIEvaluator(ground_truth=gt, metadata=META, distributed=False, drop_unknown_images=True)
    assert ev.evaluate_predictions(entries)["hoi"]["mAP_default_full"] == pytest.approx(100.0)


@pytest.mark.parametrize("field,index", [("category_id", 0), ("subject_id", 0), ("object_id", 0)])
def test_json_booleans_are_not_ids(ppdm, field, index):
    preds = predictions()
    preds[0]["hoi_prediction"][index][field] = True
    (ppdm / "pred.json").write_text(json.dumps(preds))
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert (f"pred.json: entry 0 (image {NAMES[0]}): hoi_prediction[{index}]: {field} True is not an integer"
            in out.stderr)
    with pytest.raises(ValueError, match=rf"entry 0 \(image {NAMES[0]}\): hoi_prediction\[0\]: {field} True"):
        decode_prediction_entries(preds, {1: 0, 2: 1, 47: 41}, {i: i - 1 for i in range(1, 118)}, "mem")


def test_ties_follow_the_official_image_order_whatever_the_file_order(ppdm):
    # hold-cup in images 2 and 3 (NAMES[1], NAMES[2]); equal scores: a TP in image 2 and an FP in image 3.
    # Official order (name order): TP then FP -> recall [.5, .5], precision [1, .5] -> 6 thresholds (0 .. 0.5) at
    # precision 1 -> AP 6/11. In the reversed record order the FP would rank first: precision [0, .5] -> 3/11.
    preds = [entry(NAMES[0], []), entry(NAMES[1], [(HOLD_CUP, zero(HUMAN), zero(CUP), 0.6)]),
             entry(NAMES[2], [(HOLD_CUP, zero(HUMAN), [0, 0, 5, 5], 0.6)])]
    (ppdm / "pred.json").write_text(json.dumps(preds))
    records = json.loads((ppdm / "test_hico.json").read_text())
    (ppdm / "reversed.json").write_text(json.dumps(records[::-1]))
    for gt in ("test_hico.json", "reversed.json"):
        out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / gt,
                   "--output-dir", ppdm / gt.replace(".json", ""))
        assert out.returncode == 0, out.stderr
        _, rows = per_class(ppdm / gt.replace(".json", ""))
        assert rows[HOLD_CUP]["ap_default"] == pytest.approx(100 * 6 / 11), gt


# --- issue 20 item 7: truncated and non-finite prediction files ---

def test_truncated_prediction_file_is_named_with_position(ppdm):
    text = json.dumps(predictions())
    (ppdm / "pred.json").write_text(text[:200])
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"pred.json: not valid JSON (the file ends early at line 1 column 201, byte 200)" in out.stderr
    (ppdm / "pred.json").write_text(text[:1] + "\n}" + text[1:])  # '[', a line break, then a stray '}'
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json")
    assert "pred.json: not valid JSON (invalid character at line 2 column 1, byte 2)" in out.stderr


@pytest.mark.parametrize("where,value,message", [
    ("score", math.nan, r"hoi_prediction\[0\]: score nan is not a finite number"),
    ("score", -math.inf, r"hoi_prediction\[0\]: score -inf is not a finite number"),
    ("bbox", math.inf, r"predictions\[1\]: bbox \[1.0, 1.0, inf, 2.0\] has a non-finite or non-numeric coordinate"),
])
def test_non_finite_values_are_named_although_json_has_none(ppdm, where, value, message):
    preds = predictions()
    if where == "score":
        preds[0]["hoi_prediction"][0]["score"] = value
    else:
        preds[0]["predictions"][1]["bbox"] = [1.0, 1.0, value, 2.0]
    (ppdm / "pred.json").write_text(json.dumps(preds))  # Python writes NaN / Infinity, which msgspec refuses
    out = _run("evaluate_hoi.py", "--predictions", ppdm / "pred.json", "--ground-truth", ppdm / "test_hico.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"pred.json: entry 0 (image {NAMES[0]}): " in out.stderr
    assert __import__("re").search(message, out.stderr), out.stderr
    # the same check for in-memory entries (--eval-only)
    with pytest.raises(ValueError, match=message):
        decode_prediction_entries(preds, {1: 0, 2: 1, 47: 41}, {i: i - 1 for i in range(1, 118)}, "mem")


def test_non_finite_tokens_become_floats_and_strings_stay(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"a": [NaN, -Infinity, 1], "b": "x, NaN]", "c": {"d": Infinity}}')
    d = load_json(path)
    assert math.isnan(d["a"][0]) and d["a"][1:] == [-math.inf, 1] and d["b"] == "x, NaN]" and d["c"]["d"] == math.inf
    path.write_text('[1, Nan]')
    with pytest.raises(FormatError, match=r"a.json: not valid JSON \(invalid character at line 1 column 5, byte 4\)"):
        load_json(path)


# --- the converters on broken input, through their CLIs ---

def _mat_without_nname(path):
    scipy.io.savemat(path, {"list_action": _structs([{"name": "bicycle", "vname": "ride"}]),
                            "bbox_train": np.zeros((0,)), "bbox_test": np.zeros((0,))})


def _mat_with_bad_image(path):
    scipy.io.savemat(path, {"list_action": _structs([{"nname": "bicycle", "vname": "ride"}]),
                            "bbox_train": _structs([{"filename": "x.jpg", "hoi": np.zeros((0,))}]),
                            "bbox_test": _structs([{"filename": "y.jpg", "hoi": np.zeros((0,))}])})


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_text("not a mat file"), r"anno_bbox.mat: cannot read it as a MATLAB file \("),
    (lambda p: p.write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 200), r"anno_bbox.mat: cannot read it as a MATLAB"),
    (lambda p: scipy.io.savemat(p, {"list_action": np.zeros(3)}), r"anno_bbox.mat: no 'bbox_train'"),
    (_mat_without_nname, r"anno_bbox.mat: list_action #0 is not a struct with 'nname'"),
    (_mat_with_bad_image, r"anno_bbox.mat: bbox_train image #0 \(x.jpg\): not an anno_bbox.mat image entry"),
])
def test_convert_hico_det_mat_names_the_broken_file(tmp_path, make, message):
    mat = tmp_path / "anno_bbox.mat"
    make(mat)
    out = _run("convert_hico_det_mat.py", mat, tmp_path / "out")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert __import__("re").search(message, out.stderr), out.stderr


VCOCO = [{"action_name": "hold", "role_name": ["agent", "obj"], "image_id": [7], "ann_id": [100], "label": [1],
          "role_object_id": [100, 101]}]
COCO = {"images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48}],
        "annotations": [{"id": 100, "image_id": 7, "bbox": [1, 2, 10, 20], "category_id": 1, "area": 200},
                        {"id": 101, "image_id": 7, "bbox": [20, 5, 4, 4], "category_id": 47, "area": 16}]}


def _broken(kind):
    vcoco, coco = json.loads(json.dumps(VCOCO)), json.loads(json.dumps(COCO))
    if kind == "vcoco_dict":
        vcoco = {"hold": vcoco}
    elif kind == "ann_id_text":
        vcoco[0]["ann_id"] = ["a"]
    elif kind == "lengths":
        vcoco[0]["label"] = [1, 0]
    elif kind == "no_images":
        del coco["images"]
    elif kind == "image_without_width":
        del coco["images"][0]["width"]
    elif kind == "bbox_text":
        coco["annotations"][1]["bbox"] = "20 5 4 4"
    return vcoco, coco


@pytest.mark.parametrize("kind,message", [
    ("truncated_vcoco", r"v.json: not valid JSON \(the file ends early at line 1 column"),
    ("vcoco_dict", r"v.json: not V-COCO's vcoco_\*.json \(a JSON list of actions\), got dict"),
    ("ann_id_text", r"v.json: action #0 \(hold\): ann_id is not a list of integers"),
    ("lengths", r"v.json: action hold \(record 0\) has inconsistent lengths"),
    ("no_images", r"c.json: no 'images' list; not a COCO instances file"),
    ("image_without_width", r"c.json: images\[0\] is not a record with \['id', 'file_name', 'width', 'height'\]"),
    ("bbox_text", r"v.json with .*c.json: COCO annotation 101: bbox '20 5 4 4' .* is not numbers \[x, y, w, h\]"),
])
def test_convert_vcoco_names_the_broken_file(tmp_path, kind, message):
    vcoco, coco = _broken(kind)
    (tmp_path / "v.json").write_text(json.dumps(vcoco)[:30] if kind == "truncated_vcoco" else json.dumps(vcoco))
    (tmp_path / "c.json").write_text(json.dumps(coco))
    out = _run("convert_vcoco.py", tmp_path / "v.json", tmp_path / "c.json", tmp_path / "o.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert __import__("re").search(message, out.stderr), out.stderr


# --- issue 20: evaluate_hoi.py on custom and misspelled datasets ---

def test_evaluate_hoi_scores_a_custom_dataset_and_names_a_misspelled_one(tmp_path):
    (tmp_path / "images").mkdir()
    for name in ("a.jpg", "b.jpg"):
        from PIL import Image
        Image.new("RGB", (50, 50)).save(tmp_path / "images" / name)
    records = [{"file_name": n, "height": 50, "width": 50,
                "annotations": [{"bbox": [0, 0, 9, 9], "category_id": 1}, {"bbox": [20, 0, 29, 9], "category_id": 5}],
                "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 3}]} for n in ("a.jpg", "b.jpg")]
    (tmp_path / "test.json").write_text(json.dumps(records))
    preds = [{"file_name": n, "predictions": [{"bbox": [0, 0, 9, 9], "category_id": 1},
                                               {"bbox": [20, 0, 29, 9] if n == "a.jpg" else [40, 40, 49, 49],
                                                "category_id": 5}],
              "hoi_prediction": [{"subject_id": 0, "object_id": 1, "category_id": 3, "score": 0.5}]}
             for n in ("a.jpg", "b.jpg")]
    (tmp_path / "pred.json").write_text(json.dumps(preds))
    custom = ["--custom", "my_test", tmp_path / "test.json", tmp_path / "images"]
    out = _run("evaluate_hoi.py", "--predictions", tmp_path / "pred.json", "--dataset", "my_test", *custom)
    assert out.returncode == 0, out.stderr
    # one class, two positives; a.jpg TP, b.jpg FP at the same score (dataset order): recall [.5, .5], precision
    # [1, .5] -> 11-point AP 6/11
    assert json.loads(out.stdout[out.stdout.index("{"):])["hoi"]["mAP_default_full"] == pytest.approx(100 * 6 / 11)
    out = _run("evaluate_hoi.py", "--predictions", tmp_path / "pred.json", "--dataset", "my_tset", *custom)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "dataset 'my_tset' is not registered; close names: my_test" in out.stderr


def test_every_tool_option_has_help():
    import re
    for tool in ("evaluate_hoi.py", "convert_hico_det_mat.py", "convert_vcoco.py", "benchmark_hico_eval.py"):
        text = _run(tool, "--help").stdout
        arguments = re.findall(r"^  (-{0,2}[\w-]+)", text, flags=re.M)
        assert len(arguments) > 2, (tool, arguments)
        # an argument line that ends after its metavar must be followed by its help text (an indented continuation)
        undocumented = re.findall(r"^  (-{0,2}[\w-]+(?: [A-Z_]+)*)\n(?! {4,})", text, flags=re.M)
        assert not undocumented, (tool, undocumented)


@pytest.mark.parametrize("change,message", [
    (lambda a: a[1]["boxes_o"][0].__setitem__(2, "x"), r"image #1 \(HICO_test2015_00000002.jpg\) hoi #0: bbox "),
    (lambda a: a[2]["verb"].__setitem__(0, True), r"image #2 \(HICO_test2015_00000003.jpg\) hoi #0: HOI \d+ does "
                                                  r"not match verb True"),
    (lambda a: a[0]["hoi"].append(1), r"image #0 \(HICO_test2015_00000001.jpg\): the lists .* differ in length"),
])
def test_hicodet_ground_truth_names_the_bad_image(tmp_path, change, message):
    from ggnet_d2.formats import read_hicodet_ground_truth
    from test_eval_offline import write_hicodet_json

    write_hicodet_json(tmp_path / "instances.json")
    good, _ = read_hicodet_ground_truth(str(tmp_path / "instances.json"))
    assert good.pair_image.tolist() == [0, 1, 2] and good.object_boxes[0].tolist() == [1, 1, 2, 2]  # .mat - 1
    d = json.loads((tmp_path / "instances.json").read_text())
    change(d["annotation"])
    (tmp_path / "instances.json").write_text(json.dumps(d))
    with pytest.raises(FormatError, match=message):
        read_hicodet_ground_truth(str(tmp_path / "instances.json"))
