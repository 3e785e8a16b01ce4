"""tools/convert_hico_det_mat.py and tools/convert_vcoco.py on tiny files in the official layouts."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ggnet_d2.data import load_hoi_json
from ggnet_d2.data.datasets.constants import HICO_OBJECTS_COCO_ORDER, HICO_VERBS

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _structs(rows):
    fields = list(rows[0])
    arr = np.zeros((1, len(rows)), dtype=[(f, object) for f in fields])
    for i, r in enumerate(rows):
        for f in fields:
            arr[0, i][f] = r[f]
    return arr


def _boxes(*boxes):
    return _structs([{"x1": b[0], "x2": b[2], "y1": b[1], "y2": b[3]} for b in boxes])


def _hoi(id_, humans, objects, connection, invis=0):
    return {"id": id_, "bboxhuman": _boxes(*humans), "bboxobject": _boxes(*objects),
            "connection": np.array(connection, dtype=np.float64), "invis": invis}


def test_convert_hico_det_mat(tmp_path):
    # list_action: HOI 1 = (bicycle, ride), 2 = (bicycle, hold), 3 = (cup, hold)
    actions = _structs([{"nname": "bicycle", "vname": "ride"}, {"nname": "bicycle", "vname": "hold"},
                        {"nname": "cup", "vname": "hold"}])
    img = {"filename": "HICO_train2015_00000001.jpg", "size": {"width": 100, "height": 80, "depth": 3},
           "hoi": _structs([_hoi(1, [[1, 2, 30, 60], [50, 2, 90, 70]], [[10, 40, 60, 79]], [[1, 1], [2, 1]]),
                            _hoi(2, [[1, 2, 30, 60]], [[10, 40, 60, 79]], [[1, 1]]),
                            _hoi(3, [[1, 2, 30, 60]], [[0, 0, 1, 1]], [[1, 1]], invis=1)])}
    test_img = dict(img, filename="HICO_test2015_00000001.jpg",
                    hoi=_structs([_hoi(3, [[5, 5, 20, 20]], [[21, 21, 30, 30]], [[1, 1]])]))
    mat = tmp_path / "anno_bbox.mat"
    scipy.io.savemat(mat, {"list_action": actions, "bbox_train": _structs([img]), "bbox_test": _structs([test_img])})
    out = tmp_path / "annotations"
    assert _tool("convert_hico_det_mat").main([str(mat), str(out)]) == 0
    train = json.loads((out / "trainval_hico.json").read_text())
    ride, hold = HICO_VERBS.index("ride") + 1, HICO_VERBS.index("hold") + 1
    assert train == [{"file_name": "HICO_train2015_00000001.jpg", "width": 100, "height": 80,
                      # the .mat's one-based boxes - 1: PPDM's zero-based frame
                      "annotations": [{"bbox": [0.0, 1.0, 29.0, 59.0], "category_id": 1},
                                      {"bbox": [9.0, 39.0, 59.0, 78.0], "category_id": 2},
                                      {"bbox": [49.0, 1.0, 89.0, 69.0], "category_id": 1}],
                      "hoi_annotation": [
                          {"subject_id": 0, "object_id": 1, "category_id": ride, "hoi_category_id": 1},
                          {"subject_id": 2, "object_id": 1, "category_id": ride, "hoi_category_id": 1},
                          {"subject_id": 0, "object_id": 1, "category_id": hold, "hoi_category_id": 2}]}]
    test = json.loads((out / "test_hico.json").read_text())
    assert test[0]["annotations"][1]["category_id"] == 47  # cup in COCO's id space
    corre = np.load(out / "corre_hico.npy")
    assert corre.shape == (117, 80) and corre.sum() == 3
    assert corre[hold - 1, HICO_OBJECTS_COCO_ORDER.index("cup")]
    # the output loads with the built-in HICO-DET metadata, image sizes from the file
    from ggnet_d2.data import BadRecordPolicy
    from ggnet_d2.data.datasets.hico_det import hico_ppdm_static_metadata
    d = load_hoi_json(str(out / "trainval_hico.json"), str(tmp_path), metadata=hico_ppdm_static_metadata(),
                      policy=BadRecordPolicy("skip", check_image_files=False))
    assert len(d) == 1 and [h["verb_id"] for h in d[0]["hoi_annotations"]] == [ride - 1, ride - 1, hold - 1]


def test_convert_hico_det_mat_rejects_bad_connection(tmp_path):
    actions = _structs([{"nname": "bicycle", "vname": "ride"}])
    img = {"filename": "x.jpg", "size": {"width": 10, "height": 10, "depth": 3},
           "hoi": _structs([_hoi(1, [[1, 1, 5, 5]], [[2, 2, 6, 6]], [[1, 2]])])}
    mat = tmp_path / "anno_bbox.mat"
    scipy.io.savemat(mat, {"list_action": actions, "bbox_train": _structs([img]), "bbox_test": _structs([img])})
    with pytest.raises(ValueError, match=r"bbox_train image #0 \(x.jpg\): connection \(1, 2\) outside"):
        _tool("convert_hico_det_mat").main([str(mat), str(tmp_path / "o")])


def test_convert_vcoco(tmp_path):
    coco = {"images": [{"id": 7, "file_name": "COCO_train2014_000000000007.jpg", "width": 64, "height": 48},
                       {"id": 8, "file_name": "COCO_train2014_000000000008.jpg", "width": 64, "height": 48}],
            "annotations": [{"id": 100, "image_id": 7, "bbox": [1, 2, 10, 20], "category_id": 1, "area": 200},
                            {"id": 101, "image_id": 7, "bbox": [20, 5, 4, 4], "category_id": 47, "area": 16},
                            # reaches past the right edge: clipped to x2 = width - 1 = 63
                            {"id": 102, "image_id": 7, "bbox": [60, 6, 8.5, 8], "category_id": 49, "area": 68},
                            {"id": 800, "image_id": 8, "bbox": [0, 0, 5, 5], "category_id": 1, "area": 25}]}
    # role_object_id is role-major: [agents..., role1 objects...(, role2 objects...)]; image 8's person does nothing
    vcoco = [{"action_name": "hold", "role_name": ["agent", "obj"], "image_id": [7, 7, 8], "ann_id": [100, 101, 800],
              "label": [1, 0, 0], "role_object_id": [100, 101, 800, 101, 0, 0]},
             {"action_name": "cut", "role_name": ["agent", "instr", "obj"], "image_id": [7], "ann_id": [100],
              "label": [1], "role_object_id": [100, 102, 0]},
             {"action_name": "walk", "role_name": ["agent"], "image_id": [7], "ann_id": [100], "label": [1],
              "role_object_id": [100]}]
    (tmp_path / "v.json").write_text(json.dumps(vcoco))
    (tmp_path / "c.json").write_text(json.dumps(coco))
    tool = _tool("convert_vcoco")
    records, left_out = tool.convert(vcoco, coco)
    # official boxes: (x, y, w, h) -> (x, y, x + w - 1, y + h - 1), clipped to the image
    assert records == [{"file_name": "COCO_train2014_000000000007.jpg", "img_id": 7, "width": 64, "height": 48,
                        "annotations": [{"bbox": [1.0, 2.0, 10.0, 21.0], "category_id": 1},
                                        {"bbox": [20.0, 5.0, 23.0, 8.0], "category_id": 47},
                                        {"bbox": [60.0, 6.0, 63.0, 13.0], "category_id": 49}],
                        "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 25},   # hold_obj
                                           {"subject_id": 0, "object_id": 2, "category_id": 2},    # cut_instr
                                           {"subject_id": 0, "object_id": 0, "category_id": 3}]},  # walk: itself
                       {"file_name": "COCO_train2014_000000000008.jpg", "img_id": 8, "width": 64, "height": 48,
                        "annotations": [], "hoi_annotation": []}]  # kept: every image of the split
    assert left_out == {"cut_obj (no object)": 1}
    assert tool.main([str(tmp_path / "v.json"), str(tmp_path / "c.json"), str(tmp_path / "o.json")]) == 0
    assert json.loads((tmp_path / "o.json").read_text()) == records


def test_convert_vcoco_missing_annotation():
    vcoco = [{"action_name": "hold", "role_name": ["agent", "obj"], "image_id": [7], "ann_id": [100],
              "label": [1], "role_object_id": [100, 999]}]
    coco = {"images": [{"id": 7, "file_name": "a.jpg", "width": 5, "height": 5}],
            "annotations": [{"id": 100, "image_id": 7, "bbox": [0, 0, 2, 2], "category_id": 1}]}
    with pytest.raises(ValueError, match="COCO annotation id 999 \\(image 7\\)"):
        _tool("convert_vcoco").convert(vcoco, coco)
