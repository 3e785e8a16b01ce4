"""PPDM/GGNet-style HOI JSON -> detectron2 dataset dicts (docs/interfaces.md), with bad-record checks.

The file is a list of ``{file_name, annotations: [{bbox: [x1, y1, x2, y2], category_id}],
hoi_annotation: [{subject_id, object_id, category_id}]}`` (original pixels, XYXY absolute; ids int or str) as released
by the PPDM (Liao et al., CVPR 2020) and GGNet (Zhong et al., CVPR 2021) authors for HICO-DET, V-COCO and HOI-W.
"""
import logging
import os
from collections import Counter

import numpy as np
from detectron2.structures import BoxMode

from ...formats.ids import int_map, parse_dataset_id
from ...formats.json_file import FormatError, load_json
from ..zero_shot import annotated_verb_objects
from ...formats.records import RecordProblem, fit_box, parse_ppdm_record, parse_size
from .bad_records import BadRecordError, BadRecordPolicy, SkipLog
from .lazy_metadata import set_missing_metadata
from .record_checks import image_file_problem, image_size_from_file, size_mismatch

__all__ = ["load_hoi_json", "derive_hoi_metadata", "rare_split", "log_verb_histogram",
           "read_json_file"]

logger = logging.getLogger(__name__)

RARE_THRESHOLD = 10  # HICO-DET protocol (Chao et al. 2018): a HOI class is rare with < 10 training instances


def _sorted_ids(values):
    ids = set()
    for v in values:
        try:
            ids.add(parse_dataset_id(v))
        except ValueError:
            pass  # reported per record by the checks below
    return sorted(ids)


def _dicts(value):
    """The dict entries of a JSON list field (anything else yields nothing; the record check reports it)."""
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _check_record(i, raw, json_file, image_root, thing_map, verb_map, policy, skips, ignored_verbs=()):
    """One raw record -> dataset dict, or None after ``skips.bad`` (which raises under the "error" policy)."""
    name = raw.get("file_name") if isinstance(raw, dict) else None
    where = f"{json_file}: image #{i} ({name})"
    try:
        return _parse_record(i, raw, image_root, thing_map, verb_map, policy, skips, ignored_verbs)
    except RecordProblem as p:
        skips.bad(p.reason, f"{where}{p.where}: {p.message}")
        return None


def _parse_record(i, raw, image_root, thing_map, verb_map, policy, skips, ignored_verbs):
    if not isinstance(raw, dict) or not isinstance(raw.get("file_name"), str):
        raise RecordProblem("malformed_record", "record has no 'file_name' string")
    path = os.path.join(image_root, raw["file_name"])
    if policy.check_image_files:
        image_file_problem(path)
    if "height" in raw or "width" in raw:
        height, width = parse_size(raw.get("height"), raw.get("width"))
        size_from_record = True
    else:
        height, width = image_size_from_file(path)
        size_from_record = False
    num_clipped = 0

    def fit(box):
        nonlocal num_clipped
        try:
            box, clipped = fit_box(box, width, height, policy.box_clip_tolerance)
        except RecordProblem as p:
            mismatch = size_mismatch(path, height, width) if size_from_record else None
            raise (mismatch or p) from None
        num_clipped += clipped
        return box

    annotations, hois = parse_ppdm_record(raw, thing_map, verb_map, ignored_verbs, fit)
    skips.num_clipped += num_clipped
    return {"file_name": path, "image_id": i, "height": height, "width": width,
            "annotations": [{"bbox": box, "bbox_mode": BoxMode.XYXY_ABS, "category_id": cat}
                            for box, cat in annotations],
            "hoi_annotations": [{"subject_id": sub, "object_id": obj, "verb_id": verb} for sub, obj, verb in hois]}


def rare_split(counts):
    """Split HOI classes by instance count: ``(rare, non_rare)`` id lists, rare = fewer than 10 instances.

    Args:
        counts (Sequence[int]): instances per HOI class (index = HOI class id).
    """
    rare = [i for i, c in enumerate(counts) if c < RARE_THRESHOLD]
    non_rare = [i for i, c in enumerate(counts) if c >= RARE_THRESHOLD]
    return rare, non_rare


def derive_hoi_metadata(records, num_classes, num_verbs, valid_verb_object=None, hoi_classes=None):
    """Correspondence, HOI triplet list, rare split of loaded dataset dicts; also sets each HOI's ``hoi_id`` in place.

    Args:
        records (list[dict]): dataset dicts (contiguous ids).
        num_classes, num_verbs (int): C and V.
        valid_verb_object (np.ndarray bool (V, C) | None): given correspondence; else the pairs seen in ``records``.
        hoi_classes (list[(verb, object)] | None): given triplet order; else the valid pairs sorted by (object, verb),
            the ordering convention of HICO-DET's official list (grouped by object).

    Returns:
        dict with ``valid_verb_object``, ``hoi_classes``, ``rare_hoi_ids``, ``non_rare_hoi_ids`` (rare: < 10
        instances in ``records``). HOIs whose (verb, object) is not a triplet class get ``hoi_id`` -1.
    """
    pairs = Counter()
    for r in records:
        for h in r["hoi_annotations"]:
            pairs[(h["verb_id"], r["annotations"][h["object_id"]]["category_id"])] += 1
    if valid_verb_object is None:
        valid_verb_object = annotated_verb_objects(records, num_verbs, num_classes)
    valid_verb_object = np.asarray(valid_verb_object, dtype=bool)
    if hoi_classes is None:
        hoi_classes = sorted(((int(v), int(o)) for v, o in np.argwhere(valid_verb_object)), key=lambda p: (p[1], p[0]))
    hoi_classes = [(int(v), int(o)) for v, o in hoi_classes]
    index = {p: i for i, p in enumerate(hoi_classes)}
    for r in records:
        for h in r["hoi_annotations"]:
            h["hoi_id"] = index.get((h["verb_id"], r["annotations"][h["object_id"]]["category_id"]), -1)
    rare, non_rare = rare_split([pairs.get(p, 0) for p in hoi_classes])
    return {"valid_verb_object": valid_verb_object, "hoi_classes": hoi_classes,
            "rare_hoi_ids": rare, "non_rare_hoi_ids": non_rare}


def log_verb_histogram(records, verb_classes, dataset):
    """Log (info) one line: HOI instances per verb, most frequent first. Returns the Counter (verb_id -> count)."""
    counts = Counter(h["verb_id"] for r in records for h in r["hoi_annotations"])
    text = ", ".join(f"{verb_classes[v]}: {n}" for v, n in counts.most_common())
    logger.info(f"{dataset}: {sum(counts.values())} HOIs in {len(records)} images; per verb: {text}")
    return counts


def read_json_file(json_file):
    """``json_file`` parsed (formats/json_file.py: msgspec, NaN / Infinity tokens read as floats for the record
    checks); a file that cannot be read or is not JSON raises BadRecordError naming the file and the position."""
    try:
        return load_json(json_file)
    except FormatError as e:
        raise BadRecordError(str(e)) from None


def _load(json_file, image_root, dataset_name=None, metadata=None, policy=None, log=True):
    """Shared by :func:`load_hoi_json` and lazy metadata: returns ``(dataset dicts, full metadata dict, SkipLog)``.

    ``log`` False keeps the skip summary and verb histogram out of the log (metadata resolution; the dataset load
    logs them, so they appear once).
    """
    metadata = dict(metadata or {})
    policy = policy or BadRecordPolicy()
    raw = read_json_file(json_file)
    if not isinstance(raw, list):
        raise BadRecordError(f"{json_file}: expected a JSON list of image records (PPDM/GGNet layout), "
                             f"got {type(raw).__name__}")
    records_raw = [r for r in raw if isinstance(r, dict)]

    thing_map = metadata.get("thing_dataset_id_to_contiguous_id")
    if thing_map is None:
        ids = _sorted_ids(a.get("category_id") for r in records_raw for a in _dicts(r.get("annotations")))
        thing_map = {d: i for i, d in enumerate(ids)}
    verb_map = metadata.get("verb_dataset_id_to_contiguous_id")
    if verb_map is None:
        ids = _sorted_ids(h.get("category_id") for r in records_raw for h in _dicts(r.get("hoi_annotation")))
        verb_map = {d: i for i, d in enumerate(ids)}
    thing_map, verb_map = int_map(thing_map), int_map(verb_map)
    thing_classes = list(metadata.get("thing_classes") or [str(d) for d in sorted(thing_map, key=thing_map.get)])
    verb_classes = list(metadata.get("verb_classes") or [str(d) for d in sorted(verb_map, key=verb_map.get)])

    label = dataset_name or json_file
    skips = SkipLog(label, policy.policy)
    records = []
    ignored = set(metadata.get("ignored_verb_dataset_ids", ()))
    for i, r in enumerate(raw):
        rec = _check_record(i, r, json_file, image_root, thing_map, verb_map, policy, skips, ignored)
        if rec is not None:
            records.append(rec)
    skips.summary(len(raw), log=log)

    derived = derive_hoi_metadata(records, len(thing_classes), len(verb_classes),
                                  metadata.get("valid_verb_object"), metadata.get("hoi_classes"))
    full = {
        "thing_classes": thing_classes,
        "verb_classes": verb_classes,
        "person_class_id": thing_classes.index("person") if "person" in thing_classes else 0,
        "thing_dataset_id_to_contiguous_id": thing_map,
        "verb_dataset_id_to_contiguous_id": verb_map,
        "evaluator_type": "hoi",
        "json_file": json_file,
        "image_root": image_root,
    }
    full.update(derived)
    full.update({k: v for k, v in metadata.items() if k not in ("valid_verb_object", "hoi_classes")})
    if "valid_verb_object" in metadata:
        full["valid_verb_object"] = np.asarray(metadata["valid_verb_object"], dtype=bool)
    if log:
        log_verb_histogram(records, verb_classes, label)
    return records, full, skips


def load_hoi_json(json_file, image_root, dataset_name=None, metadata=None, policy=None, log=True):
    """Load a PPDM/GGNet-style HOI JSON into detectron2 dataset dicts (docs/interfaces.md).

    Args:
        json_file (str): the annotation file.
        image_root (str): folder the records' ``file_name`` are relative to.
        dataset_name (str | None): when given, metadata keys not yet in ``MetadataCatalog.get(dataset_name)`` are
            filled (as detectron2's ``load_coco_json`` does).
        metadata (dict | None): may carry ``thing_dataset_id_to_contiguous_id``, ``verb_dataset_id_to_contiguous_id``,
            ``thing_classes``, ``verb_classes``, ``valid_verb_object`` (bool (V, C)), ``hoi_classes``
            ([(verb, object)], defines ``hoi_id``), ``rare_hoi_ids``/``non_rare_hoi_ids``. Missing id maps are derived
            from the file: sorted dataset ids -> 0..n-1; missing names are the ids as strings.
        policy (BadRecordPolicy | None): skip or error, image-file checks, box clipping (default
            ``BadRecordPolicy()``; registered datasets get ``cfg.DATASETS.HOI``'s through ``configure_hoi_datasets``).
        log (bool): log the skip summary (warning) and the verb histogram (info).

    Returns:
        list[dict]: one per good image; ``image_id`` = position in the file; boxes in original pixels, XYXY_ABS.
        ``height``/``width`` come from the record or, when absent, from the image header.

    Raises:
        BadRecordError: under ``policy.policy == "error"``, for an HOI pointing past the box list, a degenerate box
            (x2 <= x1 or y2 <= y1), a box outside the image by more than ``policy.box_clip_tolerance`` pixels (or a
            record height/width that disagrees with the image file: "size_mismatch"), a null, non-numeric or
            non-finite value, a null or non-list field, an unknown category or verb id, or a missing or empty image
            file (``check_image_files``); the message names the file and the record (image index and file name,
            annotation or hoi index). Under "skip" such images are dropped and counted in one warning line. Under
            any policy: a file that is not valid JSON or not a JSON list (the message names the file).
    """
    records, full, _ = _load(json_file, image_root, dataset_name, metadata, policy, log)
    if dataset_name is not None:
        set_missing_metadata(dataset_name, full)
    return records
