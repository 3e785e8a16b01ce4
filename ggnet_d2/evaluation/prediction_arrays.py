"""Prediction files -> validated flat arrays, vectorised (numpy only: tools/evaluate_hoi.py imports it without torch).

A prediction file is a JSON list of per-image entries (docs/interfaces.md, "Prediction files")::

    {"file_name": "HICO_test2015_00000001.jpg",                       # required; matched by base name
     "predictions": [{"bbox": [x1, y1, x2, y2], "category_id": c}],   # required (may be empty)
     "hoi_prediction": [{"subject_id": i, "object_id": j, "category_id": v, "score": s}],   # required (may be empty)
     "image_id": 1}                                                    # optional (also PPDM's "img_id")

``predictions`` may also carry a detector ``score`` (ignored); V-COCO entries may add ``agent_prediction`` (see
vcoco_evaluation.py). Any other key, a missing key, a malformed box, a non-integer id, an index outside the entry's
``predictions`` or a non-finite score is an error naming the file, the entry and the record: a misspelled key would
otherwise be scored as "no detections" without a word.

Decoding is column-wise over all records of the file at once (``map``/``np.fromiter`` instead of a Python loop per
record); a file is parsed by msgspec straight into typed records, which checks keys and types while parsing (half the
time of parsing into dicts with orjson, itself ~4x faster than the stdlib). The slow per-record loop only runs to name
the first bad record once a vectorised or typed check has failed.
"""
import gc
import itertools
import json
import mmap
import os
from operator import attrgetter, itemgetter
from typing import List, Optional, Tuple

import msgspec
import numpy as np

try:
    import orjson
except ImportError:  # a declared dependency (pyproject.toml); the stdlib parser is ~4x slower
    orjson = None

__all__ = [
    "ENTRY_KEYS",
    "PredictionArrays",
    "check_entry_keys",
    "decode_prediction_entries",
    "decode_prediction_file",
    "id_lookup",
    "image_positions",
    "load_prediction_file",
    "read_json",
]

# Required and optional keys of an entry and of its records.
ENTRY_KEYS = {"required": ("file_name", "predictions", "hoi_prediction"), "optional": ("image_id", "img_id")}
BOX_KEYS = {"required": ("bbox", "category_id"), "optional": ("score",)}
HOI_KEYS = {"required": ("subject_id", "object_id", "category_id", "score"), "optional": ()}


def read_json(path):
    """Parse a JSON file with orjson when installed (stdlib json otherwise).

    The cyclic garbage collector is paused while parsing: the millions of dicts and lists of a prediction file
    otherwise trigger a collection every few hundred allocations, which doubles the parse time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        if orjson is not None:
            with open(path, "rb") as f:
                return orjson.loads(f.read())
        with open(path) as f:
            return json.load(f)
    finally:
        if enabled:
            gc.enable()


def load_prediction_file(path, extra_entry_keys=()):
    """Read a prediction file and check its entries' keys (the records are checked by decoding).

    Args:
        path (str): JSON list of per-image entries.
        extra_entry_keys (tuple[str]): keys allowed besides :data:`ENTRY_KEYS` (V-COCO: "agent_prediction").

    Returns:
        list[dict]: the entries.

    Raises:
        ValueError: naming the file and entry when the file is not a list of entries or an entry has an unknown or
            missing key.
    """
    entries = read_json(path)
    check_entry_keys(entries, path, extra_entry_keys)
    return entries


def check_entry_keys(entries, source, extra_entry_keys=()):
    """Raise ValueError naming ``source`` and the entry for a non-dict entry or an unknown / missing key."""
    if not isinstance(entries, list):
        raise ValueError(f"{source}: a prediction file is a JSON list of per-image entries, got "
                         f"{type(entries).__name__}")
    required = set(ENTRY_KEYS["required"])
    allowed = required | set(ENTRY_KEYS["optional"]) | set(extra_entry_keys)
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ValueError(f"{source}: entry {i} is a {type(e).__name__}, not a dict")
        keys = e.keys()
        if keys - allowed or required - keys:
            name = e.get("file_name", "?")
            parts = []
            if keys - allowed:
                parts.append(f"unknown key(s) {sorted(keys - allowed)}")
            if required - keys:
                parts.append(f"missing key(s) {sorted(required - keys)}")
            raise ValueError(f"{source}: entry {i} (image {name}): {' and '.join(parts)}; an entry has "
                             f"{sorted(required)} and optionally {sorted(allowed - required)}")
        if not isinstance(e["file_name"], str):
            raise ValueError(f"{source}: entry {i}: file_name {e['file_name']!r} is not a string")
        for key in ("predictions", "hoi_prediction"):
            if not isinstance(e[key], list):
                raise ValueError(f"{source}: entry {i} (image {e['file_name']}): {key} is a "
                                 f"{type(e[key]).__name__}, not a list")


class PredictionArrays:
    """All triplets of a prediction file as flat arrays.

    Attributes:
        names (list[str]): base file name of each entry (E,).
        entry (np.ndarray): (M,) int64 entry of each triplet; triplets keep file order.
        subject_boxes, object_boxes (np.ndarray): (M, 4) float64 XYXY as written in the file.
        object_classes, verb_classes (np.ndarray): (M,) int64 contiguous ids (metadata maps) of the object box's
            category and of the verb.
        scores (np.ndarray): (M,) float64, finite.
    """

    def __init__(self, names, entry, subject_boxes, object_boxes, object_classes, verb_classes, scores):
        self.names = names
        self.entry = entry
        self.subject_boxes = subject_boxes
        self.object_boxes = object_boxes
        self.object_classes = object_classes
        self.verb_classes = verb_classes
        self.scores = scores

    def __len__(self):
        return int(self.scores.shape[0])

    def select(self, keep):
        """The triplets where the (M,) bool ``keep`` is True (same entries)."""
        return PredictionArrays(self.names, self.entry[keep], self.subject_boxes[keep], self.object_boxes[keep],
                                self.object_classes[keep], self.verb_classes[keep], self.scores[keep])


def _where(source, names, offsets, flat, field):
    """'file: entry e (image name): field[k]' of flat record index ``flat``."""
    e = int(np.searchsorted(offsets, flat, side="right") - 1)
    return f"{source}: entry {e} (image {names[e]}): {field}[{int(flat - offsets[e])}]"


def _check_record_keys(records, spec, source, names, offsets, field):
    """Every record is a dict with the required keys and only allowed ones; vectorised on the common case."""
    n_req = len(spec["required"])
    try:
        lengths = np.fromiter(map(len, records), np.int64, len(records))
        fast = bool(np.all(lengths == n_req))
        if fast:
            getter = itemgetter(*spec["required"])
            for _ in map(getter, records):
                pass
            return
    except (TypeError, KeyError):
        pass
    required, allowed = set(spec["required"]), set(spec["required"]) | set(spec["optional"])
    for k, r in enumerate(records):
        if not isinstance(r, dict):
            raise ValueError(f"{_where(source, names, offsets, k, field)} is a {type(r).__name__}, not a dict")
        keys = r.keys()
        if keys - allowed or required - keys:
            raise ValueError(f"{_where(source, names, offsets, k, field)} has keys {sorted(keys)}; expected "
                             f"{sorted(required)}" + (f" and optionally {sorted(allowed - required)}"
                                                      if allowed - required else ""))


def _number_column(values, n, what, source, names, offsets, field, integer):
    """(n,) float64 of ``values`` (ints when ``integer``), or ValueError naming the first bad record."""
    try:
        col = np.fromiter(values, np.float64, n)
    except (TypeError, ValueError):
        col = None
    bad = None
    if col is None:
        bad = next(k for k, v in enumerate(values) if not _is_number(v))
    else:
        wrong = ~np.isfinite(col)
        if integer:
            wrong |= col != np.floor(col)
        if np.any(wrong):
            bad = int(np.flatnonzero(wrong)[0])
    if bad is not None:
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{_where(source, names, offsets, bad, field)}: {what} {list(values)[bad]!r} is not "
                         f"{kind}")
    return col


def _is_number(v):
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def id_lookup(mapping):
    """A dataset-file id -> contiguous id map as an int64 lookup array (-1 for ids not in the map).

    Raises:
        ValueError: for a negative file id.
    """
    keys = np.array([int(k) for k in mapping], dtype=np.int64)
    if keys.size and keys.min() < 0:
        raise ValueError(f"id map has a negative dataset id {keys.min()}")
    table = np.full(int(keys.max()) + 1 if keys.size else 0, -1, dtype=np.int64)
    table[keys] = [int(v) for v in mapping.values()]
    return table


def _map_ids(file_ids, table, what, where):
    inside = (file_ids >= 0) & (file_ids < table.shape[0])
    out = np.full(file_ids.shape[0], -1, dtype=np.int64)
    out[inside] = table[file_ids[inside]]
    if np.any(out < 0):
        k = int(np.flatnonzero(out < 0)[0])
        raise ValueError(f"{where(k)}: unknown {what} category_id {file_ids[k]}")
    return out


def decode_prediction_entries(entries, thing_from_file, verb_from_file, source="predictions", extra_entry_keys=()):
    """Validate the entries and decode all their triplets at once.

    Args:
        entries (list[dict]): prediction entries (module docstring).
        thing_from_file, verb_from_file (dict[int, int]): the metadata's ``thing_dataset_id_to_contiguous_id`` and
            ``verb_dataset_id_to_contiguous_id``; every box category and verb must be one of their keys.
        source (str): file or origin named in error messages.
        extra_entry_keys (tuple[str]): entry keys allowed besides the standard ones.

    Returns:
        PredictionArrays: one row per ``hoi_prediction`` record, in file order; boxes as written (XYXY pixels).

    Raises:
        ValueError: naming the file, entry (index and image) and record for an unknown or missing key, a bbox that
            is not 4 finite numbers, a non-integer or unknown id, an index outside the entry's predictions, or a
            non-finite score.
    """
    check_entry_keys(entries, source, extra_entry_keys)
    names = [os.path.basename(e["file_name"]) for e in entries]
    preds = list(itertools.chain.from_iterable(map(itemgetter("predictions"), entries)))
    hois = list(itertools.chain.from_iterable(map(itemgetter("hoi_prediction"), entries)))
    n_preds = np.fromiter(map(len, map(itemgetter("predictions"), entries)), np.int64, len(entries))
    n_hois = np.fromiter(map(len, map(itemgetter("hoi_prediction"), entries)), np.int64, len(entries))
    pred_offsets, hoi_offsets = _offsets(n_preds), _offsets(n_hois)
    _check_record_keys(preds, BOX_KEYS, source, names, pred_offsets, "predictions")
    _check_record_keys(hois, HOI_KEYS, source, names, hoi_offsets, "hoi_prediction")

    bboxes = list(map(itemgetter("bbox"), preds))
    try:
        box_lengths = np.fromiter(map(len, bboxes), np.int64, len(bboxes))
    except TypeError:
        box_lengths = np.array([len(b) if isinstance(b, (list, tuple)) else -1 for b in bboxes], dtype=np.int64)
    if np.any(box_lengths != 4):
        k = int(np.flatnonzero(box_lengths != 4)[0])
        raise ValueError(f"{_where(source, names, pred_offsets, k, 'predictions')}: bbox {bboxes[k]!r} is not "
                         "[x1, y1, x2, y2]")
    try:
        boxes = np.fromiter(itertools.chain.from_iterable(bboxes), np.float64, 4 * len(bboxes)).reshape(-1, 4)
    except (TypeError, ValueError):
        boxes = None
    if boxes is None or not np.all(np.isfinite(boxes)):
        k = next(i for i, b in enumerate(bboxes) if not all(_is_number(v) and np.isfinite(float(v)) for v in b))
        raise ValueError(f"{_where(source, names, pred_offsets, k, 'predictions')}: bbox {bboxes[k]!r} has a "
                         "non-finite or non-numeric coordinate")
    box_cat = _number_column(list(map(itemgetter("category_id"), preds)), len(preds), "category_id", source,
                             names, pred_offsets, "predictions", integer=True)
    m = len(hois)
    args = (source, names, hoi_offsets, "hoi_prediction")
    columns = [_number_column(list(map(itemgetter(key), hois)), m, key, *args, integer=key != "score")
               for key in ("subject_id", "object_id", "category_id", "score")]
    return _assemble(source, names, n_preds, n_hois, boxes, box_cat, *columns, thing_from_file, verb_from_file)


def _offsets(counts):
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _assemble(source, names, n_preds, n_hois, boxes, box_cat, sub, obj, verb, scores, thing_from_file,
              verb_from_file):
    """Checks shared by both decoders (ids known, indices inside the entry, finite scores) and the flat arrays."""
    pred_offsets, hoi_offsets = _offsets(n_preds), _offsets(n_hois)
    where_pred = (lambda k: _where(source, names, pred_offsets, k, "predictions"))
    where_hoi = (lambda k: _where(source, names, hoi_offsets, k, "hoi_prediction"))
    if not np.all(np.isfinite(boxes)):
        k = int(np.flatnonzero(~np.all(np.isfinite(boxes), axis=1))[0])
        raise ValueError(f"{where_pred(k)}: bbox {boxes[k].tolist()} has a non-finite coordinate")
    if not np.all(np.isfinite(scores)):
        k = int(np.flatnonzero(~np.isfinite(scores))[0])
        raise ValueError(f"{where_hoi(k)}: score {scores[k]} is not a finite number")
    box_cls = _map_ids(np.asarray(box_cat, dtype=np.int64), id_lookup(thing_from_file), "object", where_pred)
    entry = np.repeat(np.arange(len(names), dtype=np.int64), n_hois)
    sub, obj = np.asarray(sub, dtype=np.int64), np.asarray(obj, dtype=np.int64)
    limit = n_preds[entry]
    outside = (sub < 0) | (sub >= limit) | (obj < 0) | (obj >= limit)
    if np.any(outside):
        k = int(np.flatnonzero(outside)[0])
        raise ValueError(f"{where_hoi(k)}: subject_id {sub[k]} / object_id {obj[k]} outside the entry's {limit[k]} "
                         "predictions")
    verb_cls = _map_ids(np.asarray(verb, dtype=np.int64), id_lookup(verb_from_file), "verb", where_hoi)
    sub_flat = pred_offsets[entry] + sub
    obj_flat = pred_offsets[entry] + obj
    return PredictionArrays(names, entry, boxes[sub_flat], boxes[obj_flat], box_cls[obj_flat], verb_cls,
                            np.asarray(scores, dtype=np.float64))


# Typed records of a prediction file. gc=False: they hold no reference cycles, and leaving millions of them out of
# the cyclic garbage collector's lists makes creating and freeing them cheaper.
class _Box(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    bbox: Tuple[float, float, float, float]
    category_id: int
    score: Optional[float] = None


class _Hoi(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    subject_id: int
    object_id: int
    category_id: int
    score: float


class _Entry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    file_name: str
    predictions: List[_Box]
    hoi_prediction: List[_Hoi]
    image_id: Optional[int] = None
    img_id: Optional[int] = None
    agent_prediction: Optional[list] = None  # V-COCO (vcoco_evaluation.py); refused elsewhere


_ENTRIES = msgspec.json.Decoder(List[_Entry])


def decode_prediction_file(path, thing_from_file, verb_from_file, extra_entry_keys=()):
    """Read and decode a prediction file in one go: a typed msgspec decoder checks every key and type while
    parsing (about twice as fast as parsing to dicts), then the columns are taken out with ``map``/``np.fromiter``.

    A file the typed decoder refuses is parsed again into dicts and checked by :func:`decode_prediction_entries`,
    which names the bad entry and record (or accepts what is merely loose, e.g. an id written 3.0).

    Args:
        path (str): the prediction JSON.
        thing_from_file, verb_from_file, extra_entry_keys: as :func:`decode_prediction_entries`.

    Returns:
        tuple(PredictionArrays, list | None): the triplets, and each entry's ``agent_prediction`` (None unless
        "agent_prediction" is in ``extra_entry_keys``).

    Raises:
        ValueError: as :func:`decode_prediction_entries`.
    """
    with open(path, "rb") as f:
        # mapped instead of read: the parser works on the page cache without a 100s-of-MB copy
        raw = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
    enabled = gc.isenabled()
    gc.disable()  # millions of new objects: see read_json
    try:
        try:
            entries = _ENTRIES.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            entries = None
        if entries is None:
            loose = _parse_bytes(bytes(raw), path)
            arrays = decode_prediction_entries(loose, thing_from_file, verb_from_file, path, extra_entry_keys)
            agents = [e.get("agent_prediction") for e in loose] if "agent_prediction" in extra_entry_keys else None
            return arrays, agents
        names = [os.path.basename(e.file_name) for e in entries]
        if "agent_prediction" not in extra_entry_keys:
            bad = next((i for i, e in enumerate(entries) if e.agent_prediction is not None), None)
            if bad is not None:
                raise ValueError(f"{path}: entry {bad} (image {names[bad]}): unknown key(s) ['agent_prediction']")
        preds = list(itertools.chain.from_iterable(map(attrgetter("predictions"), entries)))
        hois = list(itertools.chain.from_iterable(map(attrgetter("hoi_prediction"), entries)))
        n_preds = np.fromiter(map(len, map(attrgetter("predictions"), entries)), np.int64, len(entries))
        n_hois = np.fromiter(map(len, map(attrgetter("hoi_prediction"), entries)), np.int64, len(entries))
        boxes = np.fromiter(itertools.chain.from_iterable(map(attrgetter("bbox"), preds)), np.float64,
                            4 * len(preds)).reshape(-1, 4)
        box_cat = np.fromiter(map(attrgetter("category_id"), preds), np.int64, len(preds))
        m = len(hois)
        columns = [np.fromiter(map(attrgetter(key), hois), np.float64 if key == "score" else np.int64, m)
                   for key in ("subject_id", "object_id", "category_id", "score")]
        arrays = _assemble(path, names, n_preds, n_hois, boxes, box_cat, *columns, thing_from_file, verb_from_file)
        agents = [e.agent_prediction for e in entries] if "agent_prediction" in extra_entry_keys else None
        return arrays, agents
    finally:
        if isinstance(raw, mmap.mmap):
            raw.close()
        if enabled:
            gc.enable()


def _parse_bytes(raw, path):
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # e.g. NaN written by Python's json: the stdlib parser reads it, the checks then name the record
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def image_positions(names, image_index, source="predictions", allow_missing_images=False):
    """Position in the split of each entry's image, after checking the entries cover the split exactly once.

    Args:
        names (list[str]): base file name of each entry.
        image_index (dict[str, int]): the split's image key -> position.
        source (str): named in error messages.
        allow_missing_images (bool): score the split's images without an entry as images without detections
            (``--allow-missing-images``) instead of refusing the file.

    Returns:
        tuple(np.ndarray, list[str]): (E,) int64 positions, and the split's images without an entry (split order).

    Raises:
        ValueError: for an image with two entries, entries of images outside the split, or (unless allowed) images
            of the split without an entry -- the message gives their number and the first five.
    """
    pos = np.fromiter((image_index.get(n, -1) for n in names), np.int64, len(names))
    if np.any(pos < 0):
        unknown = [n for n, p in zip(names, pos) if p < 0]
        raise ValueError(f"{source}: predictions for {len(unknown)} image(s) not in the ground truth, e.g. "
                         f"{unknown[0]}")
    counts = np.bincount(pos, minlength=len(image_index))
    if np.any(counts > 1):
        dup = int(np.flatnonzero(counts > 1)[0])
        name = next(n for n, p in zip(names, pos) if p == dup)
        raise ValueError(f"{source}: two prediction entries for image {name}")
    missing_pos = np.flatnonzero(counts == 0)
    missing = []
    if missing_pos.size:
        by_pos = {p: n for n, p in image_index.items()}
        missing = [by_pos[int(p)] for p in missing_pos]
        if not allow_missing_images:
            raise ValueError(f"{source}: {len(missing)} of the {len(image_index)} images of the split have no "
                             f"prediction entry (first: {', '.join(missing[:5])}); an image without detections "
                             "needs an entry with empty lists, or pass --allow-missing-images "
                             "(allow_missing_images=True) to score them as such")
    return pos, missing
