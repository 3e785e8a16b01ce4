"""HICO-DET (Chao et al., WACV 2018): the hicodet-format instances JSON loader and the official HOI order.

``instances_{train,test}2015.json`` (F. Zhang's public ``hicodet`` utilities) holds, per image, one human box and one
object box per HOI instance (original pixels, XYXY, anno_bbox.mat's one-based values), the HOI class (0..599), object
class (0..79, alphabetical) and verb class (0..116), plus the official correspondence and rare/non-rare lists. The
loader shifts boxes by -1 into the zero-based frame of PPDM's files.
"""
import json
import os
import re

import numpy as np
from detectron2.structures import BoxMode

from .bad_records import SkipLog, get_bad_record_policy
from .constants import COCO_THING_DATASET_IDS, HICO_HOI_LIST, HICO_OBJECTS_COCO_ORDER, HICO_VERBS
from .hoi_json import log_verb_histogram

__all__ = [
    "load_hico_det_instances", "hico_official_hoi_classes", "hico_official_correspondence", "hico_ppdm_static_metadata",
]


def hico_official_hoi_classes():
    """HICO-DET's 600 HOI classes in the official ``list_action`` order, as (verb_id, object category_id).

    Verb ids are HICO-DET's 0..116 (alphabetical); object ids are contiguous in COCO order (person = 0).

    Returns:
        list[tuple[int, int]] of length 600; index = HOI class id.
    """
    coco_index = {name: i for i, name in enumerate(HICO_OBJECTS_COCO_ORDER)}
    verb_index = {name: i for i, name in enumerate(HICO_VERBS)}
    return [(verb_index[v], coco_index[obj]) for obj, verbs in HICO_HOI_LIST for v in verbs.split()]


def hico_official_correspondence():
    """bool (117, 80): the (verb, object) pairs of HICO-DET's 600 HOI classes (COCO-order objects)."""
    valid = np.zeros((len(HICO_VERBS), len(HICO_OBJECTS_COCO_ORDER)), dtype=bool)
    for v, o in hico_official_hoi_classes():
        valid[v, o] = True
    return valid


def hico_ppdm_static_metadata():
    """Metadata of HICO-DET known without reading files: class lists (COCO order), id maps, evaluator type."""
    return {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": list(HICO_VERBS),
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(COCO_THING_DATASET_IDS)},
        "verb_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(HICO_VERBS))},
        "evaluator_type": "hico_det",
    }


def _image_id(file_name, index):
    digits = re.findall(r"\d+", os.path.splitext(file_name)[0])
    return int(digits[-1]) if digits else index


def load_hico_det_instances(json_file, image_root=None):
    """Load a hicodet-format ``instances_*.json`` (e.g. ../shared/data/hico_det/instances_test2015.json).

    Every image is kept, including those listed in ``empty`` (no boxes; the evaluator needs every test image).
    Each HOI instance contributes its human and object box to ``annotations`` (exactly repeated boxes of the same
    class are shared) and one ``hoi_annotations`` entry; duplicate pairs are kept so per-class instance counts match
    the file.

    Args:
        json_file (str): the instances JSON.
        image_root (str | None): prepended to the ``filenames`` entries (file names stay relative when None).

    Returns:
        (list[dict], dict): dataset dicts (docs/interfaces.md; ``image_id`` = the number in the file name, boxes in
        original pixels XYXY_ABS, zero-based = file - 1, objects in COCO contiguous order with person = 0, verbs
        0..116, ``hoi_id`` 0..599) and metadata: thing_classes, verb_classes, person_class_id, both id maps (file
        id -> contiguous), valid_verb_object (117, 80), hoi_classes (600, official order), rare_hoi_ids (138),
        non_rare_hoi_ids (462), evaluator_type "hico_det", json_file, image_root.

    Raises:
        ValueError: the file lacks a hicodet key, or its object names are not HICO-DET's 80.
        BadRecordError: under the "error" policy, for an HOI whose object/verb disagrees with the file's
            correspondence, a degenerate box or a box outside the image (file, image index and name, HOI index).
    """
    with open(json_file) as f:
        d = json.load(f)
    for key in ("annotation", "filenames", "size", "empty", "objects", "verbs", "correspondence", "rare", "non_rare"):
        if key not in d:
            raise ValueError(f"{json_file}: missing key {key!r}; not a hicodet-format instances file")
    coco_index = {name: i for i, name in enumerate(HICO_OBJECTS_COCO_ORDER)}
    if sorted(d["objects"]) != sorted(HICO_OBJECTS_COCO_ORDER):
        raise ValueError(f"{json_file}: 'objects' are not HICO-DET's 80 object names")
    obj_map = {i: coco_index[name] for i, name in enumerate(d["objects"])}
    verb_map = {i: i for i in range(len(d["verbs"]))}
    person = coco_index["person"]

    hoi_classes = [None] * len(d["correspondence"])
    valid = np.zeros((len(d["verbs"]), len(obj_map)), dtype=bool)
    for hoi, obj, verb in d["correspondence"]:
        hoi_classes[hoi] = (int(verb), obj_map[obj])
        valid[verb, obj_map[obj]] = True

    skips = SkipLog(json_file, get_bad_record_policy()[0])
    records = []
    for i, (name, ann, (width, height)) in enumerate(zip(d["filenames"], d["annotation"], d["size"])):
        rec = _hico_record(i, name, ann, width, height, obj_map, person, hoi_classes, json_file, skips)
        if rec is not None:
            rec["file_name"] = os.path.join(image_root, name) if image_root else name
            records.append(rec)
    skips.summary(len(d["filenames"]))

    meta = {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": list(d["verbs"]),
        "person_class_id": person,
        "thing_dataset_id_to_contiguous_id": obj_map,
        "verb_dataset_id_to_contiguous_id": verb_map,
        "valid_verb_object": valid,
        "hoi_classes": hoi_classes,
        "rare_hoi_ids": sorted(int(x) for x in d["rare"]),
        "non_rare_hoi_ids": sorted(int(x) for x in d["non_rare"]),
        "evaluator_type": "hico_det",
        "json_file": json_file,
        "image_root": image_root,
    }
    log_verb_histogram(records, meta["verb_classes"], json_file)
    return records, meta


def _hico_record(i, name, ann, width, height, obj_map, person, hoi_classes, json_file, skips):
    where = f"{json_file}: image #{i} ({name})"
    boxes, index = [], {}

    def box_id(box, cat, k):
        # The file keeps anno_bbox.mat's one-based pixel indices; dataset dicts are zero-based like PPDM's files
        # (the .mat values - 1), the frame the model learns and the evaluators expect (ground_truth_files.py).
        x1, y1, x2, y2 = (float(v) - 1.0 for v in box)
        if x2 <= x1 or y2 <= y1:
            skips.bad("degenerate_box", f"{where} hoi #{k}: degenerate box {list(box)} (x2 <= x1 or y2 <= y1)")
            return None
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            skips.bad("box_outside_image", f"{where} hoi #{k}: box {list(box)} outside the {width}x{height} image")
            return None
        key = (x1, y1, x2, y2, cat)
        if key not in index:
            index[key] = len(boxes)
            boxes.append({"bbox": [x1, y1, x2, y2], "bbox_mode": BoxMode.XYXY_ABS, "category_id": cat})
        return index[key]

    hois = []
    for k, (bh, bo, hoi, obj, verb) in enumerate(zip(ann["boxes_h"], ann["boxes_o"], ann["hoi"], ann["object"],
                                                      ann["verb"])):
        if not (0 <= hoi < len(hoi_classes)) or hoi_classes[hoi] != (verb, obj_map.get(obj)):
            skips.bad("unknown_verb", f"{where} hoi #{k}: HOI {hoi} does not match verb {verb} / object {obj}")
            return None
        s, o = box_id(bh, person, k), box_id(bo, obj_map[obj], k)
        if s is None or o is None:
            return None
        hois.append({"subject_id": s, "object_id": o, "verb_id": int(verb), "hoi_id": int(hoi)})
    return {"file_name": name, "image_id": _image_id(name, i), "height": int(height), "width": int(width),
            "annotations": boxes, "hoi_annotations": hois}
