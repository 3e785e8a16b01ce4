"""HICO-DET scored offline from the released annotation forms alone: hand-built anno_bbox.mat / anno.mat in the
official layout (+1 shift, invis, image-level Known-Object), the three forms agreeing, prediction-file checks."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ggnet_d2.data.datasets.constants import COCO_THING_DATASET_IDS, HICO_HOI_LIST, HICO_OBJECTS_COCO_ORDER, HICO_VERBS
from ggnet_d2.formats.hico_det import read_hico_bbox_mat
from ggnet_d2.formats.vocabulary import hico_hoi_classes
from shared_data import SHARED
from test_data_converters import _boxes, _structs

TOOL = Path(__file__).resolve().parents[1] / "tools" / "evaluate_hoi.py"
HOIS = hico_hoi_classes()


def _tool():
    spec = importlib.util.spec_from_file_location("evaluate_hoi", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def hoi_id(verb, obj):
    """1-based HOI id of (verb name, object name) in the official list."""
    return HOIS.index((HICO_VERBS.index(verb), HICO_OBJECTS_COCO_ORDER.index(obj))) + 1


RIDE_BIKE, HOLD_BIKE, HOLD_CUP = hoi_id("ride", "bicycle"), hoi_id("hold", "bicycle"), hoi_id("hold", "cup")
NAMES = ["HICO_test2015_00000001.jpg", "HICO_test2015_00000002.jpg", "HICO_test2015_00000003.jpg"]
# one-based boxes as anno_bbox.mat stores them
HUMAN, BIKE = [11, 11, 40, 60], [2, 2, 3, 3]  # a 2x2-pixel bicycle: a one-pixel shift drops its IoU to 1/7
CUP = [50, 50, 69, 69]
# (image, 1-based HOI id, human, object, invis)
GT_HOIS = [(0, RIDE_BIKE, HUMAN, BIKE, 0),
           (1, HOLD_BIKE, None, None, 1),  # no boxes: eval_one.m skips it; anno.mat still labels it 1
           (1, HOLD_CUP, HUMAN, CUP, 0),
           (2, HOLD_CUP, HUMAN, CUP, 0)]


def _list_action():
    return _structs([{"nname": o, "vname": v} for o, verbs in HICO_HOI_LIST for v in verbs.split()])


def _mat_hoi(hid, human, obj, invis):
    if invis:
        empty = np.zeros((0, 0))
        return {"id": hid, "bboxhuman": empty, "bboxobject": empty, "connection": empty, "invis": 1}
    return {"id": hid, "bboxhuman": _boxes(human), "bboxobject": _boxes(obj),
            "connection": np.array([[1, 1]], dtype=np.float64), "invis": 0}


def write_anno_bbox_mat(path):
    images = []
    for i, name in enumerate(NAMES):
        hois = [_mat_hoi(h, s, o, inv) for img, h, s, o, inv in GT_HOIS if img == i]
        images.append({"filename": name, "size": {"width": 100, "height": 80, "depth": 3}, "hoi": _structs(hois)})
    scipy.io.savemat(path, {"list_action": _list_action(), "bbox_test": _structs(images),
                            "bbox_train": _structs(images)})


def write_anno_mat(path):
    labels = np.full((600, len(NAMES)), np.nan)
    labels[RIDE_BIKE - 1, 0] = 1
    labels[HOLD_BIKE - 1, 1] = 1  # the invisible HOI's image-level label
    labels[HOLD_CUP - 1, 1] = labels[HOLD_CUP - 1, 2] = 1
    labels[HOLD_BIKE - 1, 2] = 0  # ambiguous and negative do not make an image "known"
    labels[RIDE_BIKE - 1, 2] = -1
    names = np.empty((len(NAMES), 1), dtype=object)
    names[:, 0] = NAMES
    scipy.io.savemat(path, {"list_action": _list_action(), "anno_test": labels, "list_test": names})


def write_ppdm_json(path):
    """The PPDM release's layout: zero-based boxes (.mat - 1), COCO object ids, verbs 1..117."""
    records = []
    for i, name in enumerate(NAMES):
        anns, hois = [], []
        for img, h, s, o, inv in GT_HOIS:
            if img != i or inv:
                continue
            verb, obj = HOIS[h - 1]
            anns += [{"bbox": [v - 1 for v in s], "category_id": 1},
                     {"bbox": [v - 1 for v in o], "category_id": COCO_THING_DATASET_IDS[obj]}]
            hois.append({"subject_id": len(anns) - 2, "object_id": len(anns) - 1, "category_id": verb + 1})
        records.append({"file_name": name, "annotations": anns, "hoi_annotation": hois})
    path.write_text(json.dumps(records))


def write_hicodet_json(path):
    """hicodet layout: the .mat's one-based boxes; objects listed here in COCO order, verbs 0..116."""
    ann = []
    for i in range(len(NAMES)):
        rows = [(h, s, o) for img, h, s, o, inv in GT_HOIS if img == i and not inv]
        ann.append({"boxes_h": [s for _, s, _ in rows], "boxes_o": [o for _, _, o in rows],
                    "hoi": [h - 1 for h, _, _ in rows], "object": [HOIS[h - 1][1] for h, _, _ in rows],
                    "verb": [HOIS[h - 1][0] for h, _, _ in rows]})
    rare = [RIDE_BIKE - 1]
    d = {"annotation": ann, "filenames": NAMES, "size": [[100, 80]] * 3, "empty": [],
         "objects": list(HICO_OBJECTS_COCO_ORDER), "verbs": list(HICO_VERBS),
         "correspondence": [[k, o, v] for k, (v, o) in enumerate(HOIS)], "rare": rare,
         "non_rare": [k for k in range(600) if k not in rare]}
    path.write_text(json.dumps(d))


def entry(name, dets, layout="ppdm"):
    """dets: (1-based HOI id, human, object, score) with ZERO-based boxes -> an entry in the layout's id space."""
    preds, hois = [], []
    for h, s, o, score in dets:
        verb, obj = HOIS[h - 1]
        if layout == "hicodet":
            person, obj_id, verb_id = 0, obj, verb
        else:
            person, obj_id, verb_id = 1, COCO_THING_DATASET_IDS[obj], verb + 1
        preds += [{"bbox": list(map(float, s)), "category_id": person},
                  {"bbox": list(map(float, o)), "category_id": obj_id}]
        hois.append({"subject_id": len(preds) - 2, "object_id": len(preds) - 1, "category_id": verb_id,
                     "score": score})
    return {"file_name": name, "predictions": preds, "hoi_prediction": hois}


def zero(box):
    return [v - 1 for v in box]


def predictions(layout="ppdm"):
    bike_elsewhere = [20, 20, 29, 29]
    return [
        entry(NAMES[0], [(RIDE_BIKE, zero(HUMAN), zero(BIKE), 0.8)], layout),  # TP: + 1 gives the .mat boxes
        entry(NAMES[1], [(RIDE_BIKE, zero(HUMAN), bike_elsewhere, 0.9),  # FP; image 2 is "known" for bicycles only
                         (HOLD_BIKE, zero(HUMAN), zero(BIKE), 0.7),  # by anno.mat (its hold-bicycle is invisible)
                         (HOLD_CUP, zero(HUMAN), zero(CUP), 0.6)], layout),
        entry(NAMES[2], [(RIDE_BIKE, zero(HUMAN), bike_elsewhere, 0.95),  # FP; bicycle labels 0 / -1: never known
                         (HOLD_CUP, zero(HUMAN), zero(CUP), 0.6)], layout),
    ]


def per_class(out_dir):
    rows = json.loads((out_dir / "per_hoi_ap.json").read_text())
    return rows, {r["hoi_id"] + 1: r for r in rows["per_hoi"]}


@pytest.fixture
def files(tmp_path):
    write_anno_bbox_mat(tmp_path / "anno_bbox.mat")
    write_anno_mat(tmp_path / "anno.mat")
    write_ppdm_json(tmp_path / "test_hico.json")
    write_hicodet_json(tmp_path / "instances_test2015.json")
    for layout in ("ppdm", "hicodet"):
        (tmp_path / f"pred_{layout}.json").write_text(json.dumps(predictions(layout)))
    return tmp_path


def test_anno_bbox_mat_reader_drops_invisible_hois_and_shifts_to_zero_based(files):
    gt = read_hico_bbox_mat(str(files / "anno_bbox.mat"))
    assert gt.image_names == NAMES
    assert gt.pair_class.tolist() == [RIDE_BIKE - 1, HOLD_CUP - 1, HOLD_CUP - 1]  # the invisible HOI is gone
    assert gt.pair_image.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(gt.object_boxes[0], [1, 1, 2, 2])  # .mat [2, 2, 3, 3] - 1


def test_mat_route_shift_invis_and_image_level_known_object(files):
    tool = _tool()
    out = files / "with_labels"
    res = tool.score_hico_det_file(str(files / "pred_ppdm.json"), str(files / "anno_bbox.mat"),
                                   image_labels=str(files / "anno.mat"), output_dir=str(out))
    report, rows = per_class(out)
    assert res["info"]["known_object_source"].startswith("HICO image-level labels (anno.mat)")
    assert report["known_object_source"] == res["info"]["known_object_source"]
    # ride-bicycle: one positive (image 1). Default ranks 0.95 (image 3, FP), 0.9 (image 2, FP), 0.8 (image 1,
    # TP once the zero-based prediction gets +1) -> precision 1/3 at recall 1 for all 11 thresholds -> AP 1/3.
    assert rows[RIDE_BIKE]["num_positives"] == 1
    assert rows[RIDE_BIKE]["ap_default"] == pytest.approx(100 / 3)
    # Known-Object from anno.mat: image 2 is known for bicycles (its invisible hold-bicycle is labelled 1), image 3
    # is not (labels 0 and -1): FP, TP -> precision 1/2 -> AP 1/2.
    assert rows[RIDE_BIKE]["ap_known_object"] == pytest.approx(50.0)
    # hold-bicycle's only HOI is invisible: no positive, its detection cannot be a true positive, AP 0
    assert rows[HOLD_BIKE]["num_positives"] == 0 and rows[HOLD_BIKE]["ap_default"] == 0.0
    assert rows[HOLD_CUP]["num_positives"] == 2 and rows[HOLD_CUP]["ap_default"] == pytest.approx(100.0)

    # box-level Known-Object without anno.mat: image 2 has no bicycle pair -> dropped -> AP 1
    out = files / "box_level"
    res = tool.score_hico_det_file(str(files / "pred_ppdm.json"), str(files / "anno_bbox.mat"), output_dir=str(out))
    report, rows = per_class(out)
    assert res["info"]["known_object_source"].startswith("box-level ground truth")
    assert rows[RIDE_BIKE]["ap_default"] == pytest.approx(100 / 3)
    assert rows[RIDE_BIKE]["ap_known_object"] == pytest.approx(100.0)


def test_plus_one_shift_on_a_two_pixel_box(files):
    # the same bicycle written one-based by mistake: + 1 moves it to [3, 3, 4, 4] against the .mat's [2, 2, 3, 3]:
    # 1 shared pixel of 7 -> IoU 1/7 -> false positive, AP 0.
    wrong = predictions()
    wrong[0] = entry(NAMES[0], [(RIDE_BIKE, zero(HUMAN), BIKE, 0.99)])
    path = files / "one_based.json"
    path.write_text(json.dumps(wrong))
    out = files / "shift"
    _tool().score_hico_det_file(str(path), str(files / "anno_bbox.mat"), output_dir=str(out))
    _, rows = per_class(out)
    assert rows[RIDE_BIKE]["ap_default"] == 0.0 and rows[RIDE_BIKE]["recall_default"] == 0.0


def test_three_annotation_forms_score_alike(files):
    tool = _tool()
    results = {}
    for gt, pred in (("anno_bbox.mat", "pred_ppdm.json"), ("test_hico.json", "pred_ppdm.json"),
                     ("instances_test2015.json", "pred_hicodet.json")):
        out = files / f"out_{gt}"
        res = tool.score_hico_det_file(str(files / pred), str(files / gt), output_dir=str(out))
        _, rows = per_class(out)
        results[gt] = ([rows[h]["ap_default"] for h in (RIDE_BIKE, HOLD_BIKE, HOLD_CUP)],
                       [rows[h]["ap_known_object"] for h in (RIDE_BIKE, HOLD_BIKE, HOLD_CUP)])
        assert res["info"]["layout"] == {"anno_bbox.mat": "anno_bbox_mat", "test_hico.json": "ppdm_json",
                                         "instances_test2015.json": "hicodet_json"}[gt]
    assert results["anno_bbox.mat"] == results["test_hico.json"] == results["instances_test2015.json"]
    assert results["anno_bbox.mat"][0] == pytest.approx([100 / 3, 0.0, 100.0])


def test_entries_of_images_missing_from_a_ppdm_file_are_false_positives(files):
    # PPDM-style files may leave out test images whose HOIs are all invisible; the official evaluation still
    # scores their detections (false positives), ranked in test-image (name) order.
    preds = predictions() + [entry("HICO_test2015_00000004.jpg", [(HOLD_CUP, zero(HUMAN), zero(CUP), 0.65)])]
    path = files / "extra.json"
    path.write_text(json.dumps(preds))
    out = files / "extra"
    res = _tool().score_hico_det_file(str(path), str(files / "test_hico.json"), output_dir=str(out))
    _, rows = per_class(out)
    assert res["info"]["images_not_in_ground_truth_file"] == 1
    # hold-cup: 0.65 (FP, extra image) then two TPs at 0.6 -> precision [0, 1/2, 2/3] at recall [0, .5, 1]
    # -> t = 0 .. 1: 2/3 each -> AP 2/3
    assert rows[HOLD_CUP]["ap_default"] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="not in the ground truth, e.g. other.jpg"):
        bad = files / "unknown.json"
        bad.write_text(json.dumps(predictions() + [entry("other.jpg", [])]))
        _tool().score_hico_det_file(str(bad), str(files / "test_hico.json"))


def test_known_object_labels_must_cover_the_ground_truth(files):
    # eval_one.m asserts that no ground-truth pair lies outside its class's known images
    labels = scipy.io.loadmat(files / "anno.mat")["anno_test"]
    labels[HOLD_CUP - 1, 2] = -1
    names = np.empty((3, 1), dtype=object)
    names[:, 0] = NAMES
    scipy.io.savemat(files / "anno_bad.mat", {"list_action": _list_action(), "anno_test": labels,
                                              "list_test": names})
    with pytest.raises(ValueError, match="HICO_test2015_00000003.jpg has a ground-truth pair"):
        _tool().score_hico_det_file(str(files / "pred_ppdm.json"), str(files / "anno_bbox.mat"),
                                    image_labels=str(files / "anno_bad.mat"))


BAD_FILES = {
    "not a list": ({"file_name": NAMES[0]}, r"a prediction file is a JSON list"),
    "entry not a dict": (["x"], r"entry 0 is a str, not a dict"),
    "misspelled key": ("hoi_predictions", r"entry 0 \(image HICO_test2015_00000001.jpg\): unknown key\(s\) "
                       r"\['hoi_predictions'\] and missing key\(s\) \['hoi_prediction'\]"),
    "missing predictions": ("no_predictions", r"entry 0 .*missing key\(s\) \['predictions'\]"),
    "empty list": ([], r"3 of the 3 images of the split have no prediction entry \(first: HICO_test2015_00000001"),
    "half the images": ("first_only", r"2 of the 3 images of the split have no prediction entry \(first: "
                        r"HICO_test2015_00000002.jpg, HICO_test2015_00000003.jpg\)"),
    "record without score": ("no_score", r"entry 0 \(image HICO_test2015_00000001.jpg\): hoi_prediction\[0\] has "
                             r"keys \['category_id', 'object_id', 'subject_id'\]"),
    "record with extra key": ("extra_key", r"hoi_prediction\[0\] has keys .*'verb'"),
    "bbox of 3": ("bbox3", r"predictions\[1\]: bbox \[1.0, 1.0, 2.0\] is not \[x1, y1, x2, y2\]"),
    "bbox null": ("bbox_null", r"predictions\[0\]: bbox .*non-finite"),
    "fractional id": ("frac_id", r"predictions\[1\]: category_id 2.5 is not an integer"),
    "unknown object": ("unknown_obj", r"predictions\[1\]: unknown object category_id 12"),
    "unknown verb": ("unknown_verb", r"hoi_prediction\[0\]: unknown verb category_id 500"),
    "index outside": ("outside", r"hoi_prediction\[0\]: subject_id 0 / object_id 5 outside the entry's 2"),
    "nan score": ("nan_score", r"hoi_prediction\[0\]: score nan is not a finite number"),
    "duplicate image": ("duplicate", r"two prediction entries for image HICO_test2015_00000001.jpg"),
    "agent scores in HICO-DET": ("agent", r"unknown key\(s\) \['agent_prediction'\]"),
}


def _malformed(kind):
    p = predictions()
    first = p[0]
    if kind == "hoi_predictions":
        first["hoi_predictions"] = first.pop("hoi_prediction")
    elif kind == "no_predictions":
        del first["predictions"]
    elif kind == "first_only":
        p = p[:1]
    elif kind == "no_score":
        del first["hoi_prediction"][0]["score"]
    elif kind == "extra_key":
        first["hoi_prediction"][0]["verb"] = "ride"
    elif kind == "bbox3":
        first["predictions"][1]["bbox"] = [1.0, 1.0, 2.0]
    elif kind == "bbox_null":
        first["predictions"][0]["bbox"][2] = None
    elif kind == "frac_id":
        first["predictions"][1]["category_id"] = 2.5
    elif kind == "unknown_obj":
        first["predictions"][1]["category_id"] = 12  # a gap of COCO's 91-id space
    elif kind == "unknown_verb":
        first["hoi_prediction"][0]["category_id"] = 500
    elif kind == "outside":
        first["hoi_prediction"][0]["object_id"] = 5
    elif kind == "nan_score":
        first["hoi_prediction"][0]["score"] = float("nan")
    elif kind == "duplicate":
        p.append(dict(first))
    elif kind == "agent":
        first["agent_prediction"] = []
    return p


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_malformed_prediction_file_gets_its_error(files, case):
    content, message = BAD_FILES[case]
    path = files / "bad.json"
    path.write_text(json.dumps(_malformed(content) if isinstance(content, str) else content))
    with pytest.raises(ValueError, match=message):
        _tool().score_hico_det_file(str(path), str(files / "test_hico.json"))


def test_not_json_is_named(files):
    path = files / "bad.json"
    path.write_text("[{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        _tool().score_hico_det_file(str(path), str(files / "test_hico.json"))


def test_missing_images_flag(files):
    path = files / "first.json"
    path.write_text(json.dumps(predictions()[:1]))
    res = _tool().score_hico_det_file(str(path), str(files / "test_hico.json"), allow_missing_images=True)
    assert res["info"]["images_without_entry"] == 2
    res = _tool().main(["--predictions", str(path), "--ground-truth", str(files / "test_hico.json"),
                        "--allow-missing-images"])
    assert res["info"]["images_without_entry"] == 2


# --- the real HICO-DET test annotations (../shared/data), scored without images and without training data ---

REAL = SHARED / "hico_det" / "instances_test2015.json"


@pytest.fixture(scope="module")
def real_hicodet():
    if not REAL.is_file():
        pytest.skip(f"{REAL} not present")
    return json.loads(REAL.read_text())


def _real_gt_entries(raw, layout):
    """Ground truth as predictions, zero-based (file - 1), in the hicodet or the PPDM id space."""
    coco = {name: i for i, name in enumerate(HICO_OBJECTS_COCO_ORDER)}
    entries = []
    for name, ann in zip(raw["filenames"], raw["annotation"]):
        preds, hois = [], []
        for bh, bo, obj, verb in zip(ann["boxes_h"], ann["boxes_o"], ann["object"], ann["verb"]):
            if layout == "hicodet":
                ids = (raw["objects"].index("person"), obj, verb)
            else:
                ids = (1, COCO_THING_DATASET_IDS[coco[raw["objects"][obj]]], verb + 1)
            preds += [{"bbox": [v - 1 for v in bh], "category_id": ids[0]},
                      {"bbox": [v - 1 for v in bo], "category_id": ids[1]}]
            hois.append({"subject_id": len(preds) - 2, "object_id": len(preds) - 1, "category_id": ids[2],
                         "score": 1.0})
        entries.append({"file_name": name, "predictions": preds, "hoi_prediction": hois})
    return entries


def _all_100(metrics):
    assert len(metrics) == 12
    for key, value in metrics.items():
        assert value == pytest.approx(100.0), key


def test_real_rare_constant_is_the_files(real_hicodet):
    from ggnet_d2.data.datasets.constants import HICO_RARE_HOI_IDS
    assert sorted(HICO_RARE_HOI_IDS) == sorted(real_hicodet["rare"]) and len(HICO_RARE_HOI_IDS) == 138


@pytest.mark.slow
def test_real_test_split_scored_offline_by_the_cli_without_torch(real_hicodet, tmp_path):
    import subprocess
    import sys
    preds = tmp_path / "gt.json"
    entries = _real_gt_entries(real_hicodet, "hicodet")
    preds.write_text(json.dumps(entries))
    code = ("import runpy, sys; sys.argv = ['evaluate_hoi.py'] + sys.argv[1:]; "
            "runpy.run_path(%r, run_name='__main__'); "
            "print('TORCH_IMPORTED', 'torch' in sys.modules)" % str(TOOL))
    out = subprocess.run([sys.executable, "-c", code, "--predictions", str(preds), "--ground-truth", str(REAL)],
                         capture_output=True, text=True, check=True, cwd=str(TOOL.parents[1]))
    text, flag = out.stdout.rsplit("TORCH_IMPORTED", 1)
    assert flag.strip() == "False"
    res = json.loads(text)
    _all_100(res["hoi"])
    assert res["info"]["layout"] == "hicodet_json" and res["info"]["images_without_entry"] == 0

    # one image's entry removed: refused, naming it; scored with --allow-missing-images
    k = next(i for i, a in enumerate(real_hicodet["annotation"]) if a["hoi"])
    name = real_hicodet["filenames"][k]
    preds.write_text(json.dumps(entries[:k] + entries[k + 1:]))
    tool = _tool()
    with pytest.raises(ValueError, match=rf"1 of the 9658 images of the split have no prediction entry \(first: "
                                         rf"{name}\)"):
        tool.score_hico_det_file(str(preds), str(REAL))
    res = tool.score_hico_det_file(str(preds), str(REAL), allow_missing_images=True)
    assert res["info"]["images_without_entry"] == 1
    assert res["hoi"]["mean_recall_default_full"] < 100.0 and res["hoi"]["mAP_default_full"] < 100.0


@pytest.mark.slow
def test_real_builtin_hico_det_test_needs_no_images_nor_training_file(real_hicodet, tmp_path, monkeypatch):
    import uuid
    from detectron2.data import MetadataCatalog
    from ggnet_d2.data.datasets.builtin import register_all_builtin_hoi
    from ggnet_d2.evaluation import HICODetEvaluator

    # the PPDM layout (zero-based, COCO ids, verbs 1..117), without the images whose HOIs are all invisible
    ann_dir = tmp_path / "hico_20160224_det" / "annotations"
    ann_dir.mkdir(parents=True)
    ppdm = []
    for e in _real_gt_entries(real_hicodet, "ppdm"):
        if e["hoi_prediction"]:
            ppdm.append({"file_name": e["file_name"], "annotations": e["predictions"],
                         "hoi_annotation": [{k: h[k] for k in ("subject_id", "object_id", "category_id")}
                                            for h in e["hoi_prediction"]]})
    (ann_dir / "test_hico.json").write_text(json.dumps(ppdm))
    prefix = f"t{uuid.uuid4().hex[:6]}_"
    register_all_builtin_hoi(str(tmp_path), prefix)
    tool = _tool()
    for name, (rel, split) in tool.HICO_BUILTIN_FILES.items():
        assert MetadataCatalog.get(prefix + name).json_file == str(tmp_path / rel) and split in name
    entries = _real_gt_entries(real_hicodet, "ppdm")  # every image, the 112 without visible HOIs included
    ev = HICODetEvaluator(prefix + "hico_det_test", distributed=False)
    _all_100(ev.evaluate_predictions(entries)["hoi"])
    assert ev.known_object_source.startswith("box-level")
    preds = tmp_path / "gt.json"
    preds.write_text(json.dumps(entries))
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    res = tool.main(["--predictions", str(preds), "--dataset", "hico_det_test"])
    _all_100(res["hoi"])
    assert res["info"]["images_not_in_ground_truth_file"] == 112
