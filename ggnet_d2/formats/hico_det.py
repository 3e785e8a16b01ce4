"""HICO-DET's released annotation forms: the PPDM/GGNet JSON, the hicodet instances JSON, anno_bbox.mat, anno.mat.

numpy / scipy / msgspec only (no torch, no detectron2): the dataset loaders, the evaluators and tools/evaluate_hoi.py
read these files through this module.

Pixel conventions of the HICO-DET annotation forms (all XYXY, inclusive pixel indices):

* ``anno_bbox.mat`` (Chao et al., WACV 2018): one-based -- the first pixel is 1. The official evaluation
  (ywchao/ho-rcnn ``evaluation/eval_one.m``) compares it with detections it shifts by +1 ("convert zero-based to
  one-based"), i.e. detections are zero-based.
* the hicodet ``instances_{train,test}2015.json`` (F. Zhang, github.com/fredzzhang/hicodet): the .mat values
  unchanged, one-based (its own tools subtract 1 before use, ``detections/generate_gt_detections.py``; the boxes of
  the first test image start at x = 1 at the least, never 0).
* the PPDM/GGNet ``trainval_hico.json`` / ``test_hico.json`` (Liao et al., CVPR 2020): the .mat values minus 1,
  zero-based (HICO_train2015_00000001: hicodet [208, 33, 427, 300] vs PPDM [207, 32, 426, 299] for the same human).
  PPDM's own Python evaluation (``src/lib/eval/hico_eval.py``) still adds 1 to the predictions only, a one-pixel
  misalignment the official route (``trans_for_eval_hico.py`` then eval_one.m) does not have.

Every reader here returns boxes in the zero-based frame of the PPDM files, which is also the frame of the dataset
dicts and of the model's predictions; the HICO-DET evaluator adds 1 to ground truth and detections alike, so its IoUs
are computed on exactly the numbers eval_one.m uses (integer .mat boxes, detections + 1 in double precision).
Ground-truth HOIs marked ``invis`` in the .mat (no boxes) are left out, as eval_one.m does.
"""
import itertools
import os

import numpy as np

from .ground_truth import HOIGroundTruth
from .ids import hoi_class_lookup, id_lookup
from .json_file import FormatError, load_json
from .records import RecordProblem, parse_box, parse_ppdm_record
from .vocabulary import (HICO_HOI_LIST, HICO_OBJECTS_COCO_ORDER, HICO_RARE_HOI_IDS, HICO_VERBS, hico_hoi_classes,
                         hico_ppdm_id_maps)

__all__ = [
    "hico_scoring_metadata",
    "hicodet_header",
    "read_ppdm_ground_truth",
    "read_hicodet_ground_truth",
    "parse_hicodet_annotation",
    "HicodetIds",
    "read_hico_bbox_mat",
    "iter_hico_bbox_mat",
    "load_mat",
    "mat_struct_items",
    "read_list_action",
    "read_hico_det_ground_truth",
    "read_hico_image_labels",
]

HICODET_LISTS = ("boxes_h", "boxes_o", "hoi", "object", "verb")
HICODET_KEYS = ("annotation", "filenames", "size", "empty", "objects", "verbs", "correspondence", "rare", "non_rare")


def hico_scoring_metadata():
    """What scoring needs of HICO-DET in the PPDM id space (COCO object ids, verbs 1..117), from constants alone.

    Returns:
        dict: thing_classes, verb_classes, thing_dataset_id_to_contiguous_id, verb_dataset_id_to_contiguous_id,
        hoi_classes (600, official order), rare_hoi_ids (the official 138), non_rare_hoi_ids (462).
    """
    rare = sorted(HICO_RARE_HOI_IDS)
    things, verbs = hico_ppdm_id_maps()
    return {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": list(HICO_VERBS),
        "thing_dataset_id_to_contiguous_id": things,
        "verb_dataset_id_to_contiguous_id": verbs,
        "hoi_classes": hico_hoi_classes(),
        "rare_hoi_ids": rare,
        "non_rare_hoi_ids": sorted(set(range(600)) - set(rare)),
    }


def _lookup(table, verb, obj):
    return int(table[verb, obj]) if verb < table.shape[0] and obj < table.shape[1] else -1


def read_ppdm_ground_truth(json_file, thing_from_file, verb_from_file, hoi_classes, ignored_verbs=()):
    """Box-level ground truth of a PPDM/GGNet-layout JSON (a list of ``{file_name, annotations, hoi_annotation}``).

    No image file is opened and no image is dropped: scoring needs every image of the split.

    Args:
        json_file (str): the annotation file.
        thing_from_file, verb_from_file (dict[int, int]): the dataset's file id -> contiguous id maps.
        hoi_classes (list[tuple[int, int]]): (verb, object) contiguous pairs; position = HOI class.
        ignored_verbs (iterable[int]): verb file ids left out (V-COCO's agent-only ids in a 25-verb setup).

    Returns:
        HOIGroundTruth: boxes as in the file (zero-based for PPDM's HICO-DET files), file order.

    Raises:
        ValueError: naming the file, image and record for a malformed record, an unknown id, an index outside the
            image's annotations, a non-finite box, or a (verb, object) pair that is no HOI class.
    """
    raw = load_json(json_file)
    if not isinstance(raw, list):
        raise FormatError(f"{json_file}: expected a JSON list of image records (PPDM/GGNet layout)")
    lookup = hoi_class_lookup(hoi_classes)
    ignored = set(int(v) for v in ignored_verbs)
    names, img, hoi, sub, obj = [], [], [], [], []
    for i, r in enumerate(raw):
        name = r.get("file_name") if isinstance(r, dict) else None
        where = f"{json_file}: image #{i} ({name})"
        if not isinstance(name, str):
            raise FormatError(f"{where}: record has no 'file_name' string")
        try:
            annotations, pairs = parse_ppdm_record(r, thing_from_file, verb_from_file, ignored)
        except RecordProblem as p:
            raise FormatError(f"{where}{p.where}: {p.message}") from None
        names.append(os.path.basename(name))
        for k, (s, o, v) in enumerate(pairs):
            c = _lookup(lookup, v, annotations[o][1])
            if c < 0:
                raise FormatError(f"{where} hoi #{k}: verb {v} with object category {annotations[o][1]} is no HOI "
                                  "class of the dataset")
            img.append(i)
            hoi.append(c)
            sub.append(annotations[s][0])
            obj.append(annotations[o][0])
    return HOIGroundTruth(names, img, hoi, sub, obj)


def hicodet_header(d, json_file):
    """The file-level part of a hicodet-layout ``instances_*.json`` (F. Zhang, github.com/fredzzhang/hicodet).

    Args:
        d: the decoded file.
        json_file (str): named in errors.

    Returns:
        dict: metadata in the file's id space: thing_classes (COCO order), verb_classes (the file's),
        thing_dataset_id_to_contiguous_id (the file's object index -> COCO order), verb_dataset_id_to_contiguous_id
        (identity), hoi_classes [(verb, object)] in the file's HOI order, rare_hoi_ids, non_rare_hoi_ids.

    Raises:
        FormatError: naming the file for a missing key, 'filenames' / 'annotation' that are not lists of one length,
            object names that are not HICO-DET's 80, or a malformed correspondence.
    """
    if not isinstance(d, dict):
        raise FormatError(f"{json_file}: not a hicodet-format instances file (a JSON object)")
    for key in HICODET_KEYS:
        if key not in d:
            raise FormatError(f"{json_file}: missing key {key!r}; not a hicodet-format instances file")
    if not (isinstance(d["filenames"], list) and isinstance(d["annotation"], list)
            and len(d["filenames"]) == len(d["annotation"])):
        raise FormatError(f"{json_file}: 'filenames' and 'annotation' are not two lists of one length")
    coco_index = {name: i for i, name in enumerate(HICO_OBJECTS_COCO_ORDER)}
    if not isinstance(d["objects"], list) or sorted(map(str, d["objects"])) != sorted(HICO_OBJECTS_COCO_ORDER):
        raise FormatError(f"{json_file}: 'objects' are not HICO-DET's 80 object names")
    obj_map = {i: coco_index[name] for i, name in enumerate(d["objects"])}
    hoi_classes = [None] * len(d["correspondence"])
    try:
        for hoi, obj, verb in d["correspondence"]:
            hoi_classes[int(hoi)] = (int(verb), obj_map[int(obj)])
        rare, non_rare = sorted(int(x) for x in d["rare"]), sorted(int(x) for x in d["non_rare"])
    except (TypeError, ValueError, KeyError, IndexError):
        raise FormatError(f"{json_file}: 'correspondence' is not a list of [hoi, object, verb] ids, or 'rare' / "
                          "'non_rare' are not id lists") from None
    return {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": list(d["verbs"]),
        "thing_dataset_id_to_contiguous_id": obj_map,
        "verb_dataset_id_to_contiguous_id": {i: i for i in range(len(d["verbs"]))},
        "hoi_classes": hoi_classes,
        "rare_hoi_ids": rare,
        "non_rare_hoi_ids": non_rare,
    }


class HicodetIds:
    """A hicodet file's id tables (from :func:`hicodet_header`'s metadata), built once per file.

    Attributes:
        obj_map (dict[int, int]): the file's object index -> contiguous (COCO order); ``obj_table`` the same as an
            int64 lookup array (-1: unknown).
        hoi_classes (list[tuple[int, int]]): (verb, contiguous object) per HOI class; ``hoi_table`` as (K, 2) int64.
    """

    def __init__(self, meta):
        self.obj_map = meta["thing_dataset_id_to_contiguous_id"]
        self.hoi_classes = meta["hoi_classes"]
        self.obj_table = id_lookup(self.obj_map)
        self.hoi_table = np.array([c if c is not None else (-1, -1) for c in self.hoi_classes],
                                  dtype=np.int64).reshape(-1, 2)


def _int_column(values):
    return np.array(values, dtype=np.int64) if all(type(v) is int for v in values) else None


def _fast_annotation(ann, ids, n):
    """The arrays of :func:`parse_hicodet_annotation` when every value is well-formed, else None (vectorised)."""
    hoi, obj, verb = (_int_column(ann[k]) for k in ("hoi", "object", "verb"))
    if hoi is None or obj is None or verb is None:
        return None
    inside = (hoi >= 0) & (hoi < len(ids.hoi_table)) & (obj >= 0) & (obj < len(ids.obj_table))
    if not inside.all():
        return None
    mapped = ids.obj_table[obj]
    if not ((ids.hoi_table[hoi, 0] == verb) & (ids.hoi_table[hoi, 1] == mapped) & (mapped >= 0)).all():
        return None
    boxes = ann["boxes_h"] + ann["boxes_o"]
    if not all(type(b) is list and len(b) == 4 for b in boxes):
        return None
    coords = [v for b in boxes for v in b]
    if not all(type(v) is float or type(v) is int for v in coords):
        return None
    xyxy = np.array(coords, dtype=np.float64).reshape(2 * n, 4)
    if not np.isfinite(xyxy).all():
        return None
    xyxy -= 1.0  # anno_bbox.mat's one-based pixel indices -> the zero-based frame of PPDM's files and dataset dicts
    return hoi, verb, mapped, xyxy[:n], xyxy[n:]


def _list_length(ann):
    """The number of HOIs of an image entry; RecordProblem unless it is the five lists of one length."""
    if not isinstance(ann, dict) or not all(isinstance(ann.get(k), list) for k in HICODET_LISTS):
        raise RecordProblem("malformed_record", f"annotation is not an object with the lists {HICODET_LISTS}")
    n = len(ann["hoi"])
    if any(len(ann[k]) != n for k in HICODET_LISTS):
        raise RecordProblem("malformed_record", f"the lists {HICODET_LISTS} differ in length")
    return n


def parse_hicodet_annotation(ann, ids):
    """The HOI instances of one image of a hicodet-layout file, checked against the file's correspondence.

    Args:
        ann (dict): the image's ``annotation`` entry (lists ``boxes_h``, ``boxes_o``, ``hoi``, ``object``, ``verb``).
        ids (HicodetIds): the file's id tables.

    Returns:
        tuple: HOI classes (n,), verbs (n,), contiguous objects (n,) int64, human and object boxes (n, 4) float64
        XYXY in the zero-based frame (the file's one-based anno_bbox.mat values - 1), file order.

    Raises:
        RecordProblem: for an entry that is not those five lists of one length ("malformed_record"), an HOI whose
            id disagrees with its verb / object ("unknown_verb"), or a box that is not 4 finite numbers (located at
            " hoi #k").
    """
    n = _list_length(ann)
    fast = _fast_annotation(ann, ids, n)
    if fast is not None:
        return fast
    for k, (bh, bo, hoi, obj, verb) in enumerate(zip(*(ann[key] for key in HICODET_LISTS))):
        try:
            numbers = [v for v in (hoi, obj, verb) if isinstance(v, int) and not isinstance(v, bool)]
            if (len(numbers) != 3 or not (0 <= hoi < len(ids.hoi_classes))
                    or ids.hoi_classes[hoi] != (verb, ids.obj_map.get(obj))):
                raise RecordProblem("unknown_verb", f"HOI {hoi!r} does not match verb {verb!r} / object {obj!r}")
            parse_box(bh), parse_box(bo)
        except RecordProblem as p:
            raise p.at(f" hoi #{k}") from None
    raise AssertionError("parse_hicodet_annotation: the vectorised checks refused a valid entry")


def read_hicodet_ground_truth(json_file):
    """Ground truth and metadata of a hicodet-layout ``instances_*.json`` (as ../shared/data/hico_det/).

    Returns:
        tuple(HOIGroundTruth, dict): boxes shifted to the zero-based frame (file values - 1), every image of the
        file (also those in ``empty``); metadata of :func:`hicodet_header`.

    Raises:
        FormatError: naming the file and image for a missing key, unknown object names, an HOI whose id disagrees
            with its verb/object, or malformed boxes.
    """
    d = load_json(json_file)
    meta = hicodet_header(d, json_file)
    ids = HicodetIds(meta)
    bad = next((i for i, name in enumerate(d["filenames"]) if not isinstance(name, str)), None)
    if bad is not None:
        raise FormatError(f"{json_file}: image #{bad}: file name {d['filenames'][bad]!r} is not a string")
    names, counts = [os.path.basename(name) for name in d["filenames"]], []
    for i, ann in enumerate(d["annotation"]):
        try:
            counts.append(_list_length(ann))
        except RecordProblem as p:
            raise FormatError(f"{json_file}: image #{i} ({names[i]}): {p.message}") from None
    # all images at once (one vectorised check); only a file that fails it is walked image by image to name the bad one
    merged = {k: list(itertools.chain.from_iterable(ann[k] for ann in d["annotation"])) for k in HICODET_LISTS}
    arrays = _fast_annotation(merged, ids, sum(counts))
    if arrays is None:
        for i, ann in enumerate(d["annotation"]):
            try:
                parse_hicodet_annotation(ann, ids)
            except RecordProblem as p:
                raise FormatError(f"{json_file}: image #{i} ({names[i]}){p.where}: {p.message}") from None
        raise AssertionError("read_hicodet_ground_truth: the vectorised checks refused a valid file")
    hoi, _, _, human, thing = arrays
    image = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return HOIGroundTruth(names, image, hoi, human, thing), meta


def mat_struct_items(x):
    """A MATLAB struct array loaded with squeeze_me as a Python list (a single struct comes back bare)."""
    if isinstance(x, np.ndarray):
        return list(x.ravel())
    return [x]


def _mat_box(b):
    return [float(b.x1), float(b.y1), float(b.x2), float(b.y2)]


def load_mat(mat_file, keys):
    """The variables ``keys`` of a MATLAB file (structs as attribute objects, arrays squeezed).

    Raises:
        FormatError: naming the file when it is not a MATLAB file scipy reads, or lacks one of ``keys``.
    """
    import scipy.io  # only the .mat route needs it

    try:
        mat = scipy.io.loadmat(mat_file, squeeze_me=True, struct_as_record=False, variable_names=list(keys))
    except Exception as e:  # scipy raises MatReadError, ValueError, OSError, TypeError ... for a broken file
        raise FormatError(f"{mat_file}: cannot read it as a MATLAB file ({type(e).__name__}: {e})") from None
    for key in keys:
        if key not in mat:
            raise FormatError(f"{mat_file}: no {key!r}; not the HICO-DET file expected here")
    return mat


def read_list_action(mat, mat_file):
    """A .mat's ``list_action`` as [(object name, verb name)] (HOI id = position + 1), names checked against
    HICO-DET's 80 objects and 117 verbs.

    Raises:
        FormatError: naming the file and entry for an entry without ``nname`` / ``vname`` or with unknown names.
    """
    hois = []
    for k, a in enumerate(mat_struct_items(mat["list_action"])):
        try:
            obj, verb = str(a.nname), str(a.vname)
        except AttributeError:
            raise FormatError(f"{mat_file}: list_action #{k} is not a struct with 'nname' (object) and 'vname' "
                              "(verb)") from None
        if obj not in HICO_OBJECTS_COCO_ORDER or verb not in HICO_VERBS:
            raise FormatError(f"{mat_file}: list_action #{k}: unknown object {obj!r} or verb {verb!r}")
        hois.append((obj, verb))
    return hois


def _check_list_action(mat, mat_file):
    """The .mat's list_action must be the official HOI list (HOI id = position + 1)."""
    got = read_list_action(mat, mat_file)
    expected = [(o, v) for o, verbs in HICO_HOI_LIST for v in verbs.split()]
    if got != expected:
        bad = next((k for k, (g, e) in enumerate(zip(got, expected)) if g != e), min(len(got), len(expected)))
        raise FormatError(f"{mat_file}: list_action differs from HICO-DET's official HOI list at HOI {bad + 1}")


def _image_pairs(e, where):
    """Visible (HOI id, human, object) pairs of one bbox_<split> entry, and its number of ``invis`` HOIs."""
    pairs, invisible = [], 0
    for h in mat_struct_items(e.hoi):
        hoi_id = int(h.id)
        if not 1 <= hoi_id <= 600:
            raise FormatError(f"{where}: HOI id {hoi_id} outside 1..600")
        if int(getattr(h, "invis", 0)):
            invisible += 1
            continue
        humans, objects = mat_struct_items(h.bboxhuman), mat_struct_items(h.bboxobject)
        for s, o in np.asarray(h.connection, dtype=np.int64).reshape(-1, 2):
            if not (1 <= s <= len(humans) and 1 <= o <= len(objects)):
                raise FormatError(f"{where}: connection ({s}, {o}) outside {len(humans)} human / {len(objects)} "
                                  "object boxes")
            pairs.append((hoi_id, _mat_box(humans[s - 1]), _mat_box(objects[o - 1])))
    return pairs, invisible


def iter_hico_bbox_mat(entries, mat_file, split):
    """Walk a ``bbox_train`` / ``bbox_test`` struct array of anno_bbox.mat.

    Yields:
        tuple: (image index, file name, width, height, visible pairs [(HOI id 1..600, human XYXY, object XYXY)] in
        file order with the .mat's one-based boxes, number of HOIs marked ``invis``).

    Raises:
        FormatError: naming the file, split and image for an HOI id outside 1..600, a connection outside the boxes,
            or an entry without the fields of anno_bbox.mat (filename, size, hoi: id, bboxhuman, bboxobject,
            connection; boxes x1, y1, x2, y2).
    """
    for i, e in enumerate(mat_struct_items(entries)):
        where = f"{mat_file}: {split} image #{i} ({getattr(e, 'filename', '?')})"
        try:
            pairs, invisible = _image_pairs(e, where)
            yield i, str(e.filename), int(e.size.width), int(e.size.height), pairs, invisible
        except (AttributeError, TypeError, ValueError) as err:
            if isinstance(err, FormatError):
                raise
            raise FormatError(f"{where}: not an anno_bbox.mat image entry ({type(err).__name__}: {err})") from None


def read_hico_bbox_mat(mat_file, split="test"):
    """Ground truth of HICO-DET's ``anno_bbox.mat`` (``bbox_test`` or ``bbox_train``), as eval_one.m builds it.

    Returns:
        HOIGroundTruth: every image of the split in file order; visible pairs only (``invis`` HOIs dropped); boxes
        shifted to the zero-based frame (.mat values - 1); HOI class = .mat HOI id - 1.

    Raises:
        ValueError: for a file without ``list_action`` / ``bbox_<split>``, a list_action that is not the official
            one, or a bad record (see :func:`iter_hico_bbox_mat`).
    """
    key = f"bbox_{split}"
    mat = load_mat(mat_file, ("list_action", key))
    _check_list_action(mat, mat_file)
    names, img, hoi, sub, obj = [], [], [], [], []
    for i, name, _, _, pairs, _ in iter_hico_bbox_mat(mat[key], mat_file, key):
        names.append(name)
        for h, s, o in pairs:
            img.append(i)
            hoi.append(h - 1)
            sub.append([v - 1.0 for v in s])
            obj.append([v - 1.0 for v in o])
    return HOIGroundTruth(names, img, hoi, sub, obj)


def read_hico_det_ground_truth(path, split="test"):
    """HICO-DET ground truth from any of its released forms, recognised by content.

    Args:
        path (str): PPDM ``test_hico.json``, hicodet ``instances_test2015.json`` or ``anno_bbox.mat``.
        split (str): "test" or "train" (.mat only: which struct array).

    Returns:
        tuple(HOIGroundTruth, dict, str): ground truth (zero-based frame), the metadata scoring needs (id maps of
        the file's id space, hoi_classes, rare / non-rare) and the layout ("ppdm_json", "hicodet_json",
        "anno_bbox_mat").

    Raises:
        ValueError: naming the file when it is none of these forms, or for a bad record.
    """
    if str(path).endswith(".mat"):
        return read_hico_bbox_mat(path, split), hico_scoring_metadata(), "anno_bbox_mat"
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"{"):
        gt, meta = read_hicodet_ground_truth(path)
        return gt, meta, "hicodet_json"
    if head.startswith(b"["):
        meta = hico_scoring_metadata()
        gt = read_ppdm_ground_truth(path, meta["thing_dataset_id_to_contiguous_id"],
                                    meta["verb_dataset_id_to_contiguous_id"], meta["hoi_classes"])
        return gt, meta, "ppdm_json"
    raise FormatError(f"{path}: neither a JSON file (PPDM list or hicodet dict) nor anno_bbox.mat")


def read_hico_image_labels(anno_mat, split, hoi_objects, num_objects):
    """HICO's image-level labels (``anno.mat``) as the image sets of Known-Object mode (eval_one.m, ``'ko'``).

    eval_one.m keeps, for an HOI class, the images whose ``anno_test`` label of any HOI with the same object is 1
    (0 = ambiguous, -1 = negative, NaN = unknown do not count).

    Args:
        anno_mat (str): HICO-DET's ``anno.mat`` (list_action, anno_<split> (600, N), list_<split>).
        split (str): "test" or "train".
        hoi_objects (np.ndarray): (600,) object of each HOI class (contiguous, official order).
        num_objects (int): number of object categories.

    Returns:
        tuple(list[str], np.ndarray): the split's image names in official order, and (N, num_objects) bool: image n
        has a positive label of an HOI of object o.

    Raises:
        ValueError: naming the file for missing variables, a list_action that is not the official one, or labels
            whose shape does not match the image list.
    """
    mat = load_mat(anno_mat, ("list_action", f"anno_{split}", f"list_{split}"))
    _check_list_action(mat, anno_mat)
    names = [os.path.basename(str(n)) for n in mat_struct_items(mat[f"list_{split}"])]
    labels = np.asarray(mat[f"anno_{split}"], dtype=np.float64).reshape(600, -1)
    if labels.shape[1] != len(names):
        raise FormatError(f"{anno_mat}: anno_{split} has {labels.shape[1]} columns for {len(names)} images")
    positive = labels == 1
    present = np.zeros((len(names), num_objects), dtype=bool)
    hoi_objects = np.asarray(hoi_objects, dtype=np.int64)
    for o in np.unique(hoi_objects):
        present[:, o] = positive[hoi_objects == o].any(axis=0)
    return names, present
