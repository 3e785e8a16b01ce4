"""HICO-DET (Chao et al., WACV 2018): the hicodet-format instances JSON loader and the official HOI order.

``instances_{train,test}2015.json`` (F. Zhang's public ``hicodet`` utilities) holds, per image, one human box and one
object box per HOI instance (original pixels, XYXY, anno_bbox.mat's one-based values), the HOI class (0..599), object
class (0..79, alphabetical) and verb class (0..116), plus the official correspondence and rare/non-rare lists; the
file and its image entries are read by ggnet_d2/formats/hico_det.py (boxes shifted by -1 into the zero-based frame of
PPDM's files), which the evaluators use too. The loader checks the boxes against the image size and builds the dicts.
"""
import os
import re

import numpy as np
from detectron2.structures import BoxMode

from ...formats.hico_det import HicodetIds, hicodet_header, parse_hicodet_annotation
from ...formats.records import RecordProblem, fit_box, parse_size
from ...formats.vocabulary import HICO_OBJECTS_COCO_ORDER, HICO_VERBS, hico_hoi_classes, hico_ppdm_id_maps
from .bad_records import BadRecordError, BadRecordPolicy, SkipLog
from .hoi_json import log_verb_histogram, read_json_file

__all__ = [
    "load_hico_det_instances", "hico_official_hoi_classes", "hico_official_correspondence", "hico_ppdm_static_metadata",
]


# HICO-DET's 600 HOI classes in the official list_action order as (verb_id, object category_id); the name this
# package used before the torch-free vocabulary (ggnet_d2.formats.vocabulary.hico_hoi_classes).
hico_official_hoi_classes = hico_hoi_classes


def hico_official_correspondence():
    """bool (117, 80): the (verb, object) pairs of HICO-DET's 600 HOI classes (COCO-order objects)."""
    valid = np.zeros((len(HICO_VERBS), len(HICO_OBJECTS_COCO_ORDER)), dtype=bool)
    for v, o in hico_official_hoi_classes():
        valid[v, o] = True
    return valid


def hico_ppdm_static_metadata():
    """Metadata of HICO-DET known without reading files: class lists (COCO order), id maps, evaluator type."""
    things, verbs = hico_ppdm_id_maps()
    return {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": list(HICO_VERBS),
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": things,
        "verb_dataset_id_to_contiguous_id": verbs,
        "evaluator_type": "hico_det",
    }


def _image_id(file_name, index):
    digits = re.findall(r"\d+", os.path.splitext(file_name)[0])
    return int(digits[-1]) if digits else index


def load_hico_det_instances(json_file, image_root=None, policy=None):
    """Load a hicodet-format ``instances_*.json`` (e.g. ../shared/data/hico_det/instances_test2015.json).

    Every image is kept, including those listed in ``empty`` (no boxes; the evaluator needs every test image).
    Each HOI instance contributes its human and object box to ``annotations`` (exactly repeated boxes of the same
    class are shared) and one ``hoi_annotations`` entry; duplicate pairs are kept so per-class instance counts match
    the file.

    Args:
        json_file (str): the instances JSON.
        image_root (str | None): prepended to the ``filenames`` entries (file names stay relative when None).
        policy (BadRecordPolicy | None): skip or error, box clipping (default ``BadRecordPolicy()``); image files
            are not checked here (the evaluator needs no image).

    Returns:
        (list[dict], dict): dataset dicts (docs/interfaces.md; ``image_id`` = the number in the file name, boxes in
        original pixels XYXY_ABS, zero-based = file - 1, objects in COCO contiguous order with person = 0, verbs
        0..116, ``hoi_id`` 0..599) and metadata: thing_classes, verb_classes, person_class_id, both id maps (file
        id -> contiguous), valid_verb_object (117, 80), hoi_classes (600, official order), rare_hoi_ids (138),
        non_rare_hoi_ids (462), evaluator_type "hico_det", json_file, image_root.

    Raises:
        BadRecordError: the file is not JSON, lacks a hicodet key, or its object names are not HICO-DET's 80;
            under the "error" policy, for an HOI whose object/verb disagrees with the file's correspondence, a
            degenerate box, a box outside the image by more than ``policy.box_clip_tolerance``, a null, non-numeric
            or non-finite value or a malformed entry (file, image index and name, HOI index).
    """
    policy = policy or BadRecordPolicy()
    d = read_json_file(json_file)
    try:
        header = hicodet_header(d, json_file)
    except ValueError as e:
        raise BadRecordError(str(e)) from None
    ids = HicodetIds(header)
    person = HICO_OBJECTS_COCO_ORDER.index("person")
    valid = np.zeros((len(d["verbs"]), len(ids.obj_map)), dtype=bool)
    for verb, obj in ids.hoi_classes:
        valid[verb, obj] = True

    skips = SkipLog(json_file, policy.policy)
    records = []
    for i, (name, ann, size) in enumerate(zip(d["filenames"], d["annotation"], d["size"])):
        rec = _hico_record(i, name, ann, size, ids, person, json_file, skips, policy)
        if rec is not None:
            rec["file_name"] = os.path.join(image_root, name) if image_root else name
            records.append(rec)
    skips.summary(len(d["filenames"]))

    meta = dict(header, person_class_id=person, valid_verb_object=valid, evaluator_type="hico_det",
                json_file=json_file, image_root=image_root)
    log_verb_histogram(records, meta["verb_classes"], json_file)
    return records, meta


def _hico_record(i, name, ann, size, ids, person, json_file, skips, policy):
    where = f"{json_file}: image #{i} ({name})"
    try:
        return _parse_hico_record(i, name, ann, size, ids, person, skips, policy)
    except RecordProblem as p:
        skips.bad(p.reason, f"{where}{p.where}: {p.message}")
        return None


def _parse_hico_record(i, name, ann, size, ids, person, skips, policy):
    if not isinstance(name, str):
        raise RecordProblem("malformed_record", f"file name {name!r} is not a string")
    if not (isinstance(size, (list, tuple)) and len(size) == 2):
        raise RecordProblem("malformed_record", f"size {size!r} is not [width, height]")
    height, width = parse_size(size[1], size[0])
    boxes, index, num_clipped = [], {}, 0

    def box_id(box, cat):
        nonlocal num_clipped
        box, clipped = fit_box(box, width, height, policy.box_clip_tolerance)
        num_clipped += clipped
        key = (*box, cat)
        if key not in index:
            index[key] = len(boxes)
            boxes.append({"bbox": box, "bbox_mode": BoxMode.XYXY_ABS, "category_id": cat})
        return index[key]

    hois = []
    for k, (hoi, verb, obj, human, thing) in enumerate(zip(*parse_hicodet_annotation(ann, ids))):
        try:
            s, o = box_id(human.tolist(), person), box_id(thing.tolist(), int(obj))
        except RecordProblem as p:
            raise p.at(f" hoi #{k}") from None
        hois.append({"subject_id": s, "object_id": o, "verb_id": int(verb), "hoi_id": int(hoi)})
    skips.num_clipped += num_clipped
    return {"file_name": name, "image_id": _image_id(name, i), "height": height, "width": width,
            "annotations": boxes, "hoi_annotations": hois}
