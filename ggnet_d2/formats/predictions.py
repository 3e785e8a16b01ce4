"""The prediction format (docs/interfaces.md, "Prediction files"): one schema, decoded and checked by msgspec.

A prediction file is a JSON list of per-image entries::

    {"file_name": "HICO_test2015_00000001.jpg",                       # required; matched by base name
     "predictions": [{"bbox": [x1, y1, x2, y2], "category_id": c}],   # required (may be empty)
     "hoi_prediction": [{"subject_id": i, "object_id": j, "category_id": v, "score": s}],   # required (may be empty)
     "image_id": 1}                                                    # optional (also PPDM's "img_id")

``predictions`` may also carry a detector ``score`` (ignored); V-COCO entries may add ``agent_prediction``
(``[{"subject_id": i, "category_id": action, "score": s}]``, vcoco_evaluation.py). The msgspec structs below are the
schema: any other key, a missing key, a box that is not 4 numbers, an id that is not an integer (a JSON ``true`` is
not one), a score that is not a finite number (NaN / Infinity included, written by Python's json), an index outside
the entry's ``predictions`` or an unknown id is an error naming the file, the entry (index and image) and the record:
a misspelled key would otherwise be scored as "no detections" without a word.

Files and in-memory entries (the evaluators' ``--eval-only`` path) go through the same typed decoder; the columns
are then taken out with ``map``/``np.fromiter``. The structs are created with ``gc=False``: they hold no reference
cycles, and keeping millions of them out of the cyclic garbage collector's lists makes creating and freeing them
cheap without switching the collector off.
"""
import itertools
import os
import re
from dataclasses import dataclass
from operator import attrgetter
from typing import List, Optional, Tuple

import msgspec
import numpy as np

from .ids import id_lookup
from .json_file import decode_json, mapped_file

__all__ = [
    "ENTRY_KEYS",
    "PredictionArrays",
    "decode_prediction_entries",
    "decode_prediction_file",
    "image_positions",
    "load_prediction_file",
]


class _Box(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    bbox: Tuple[float, float, float, float]
    category_id: int
    score: Optional[float] = None


class _Hoi(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    subject_id: int
    object_id: int
    category_id: int
    score: float


class _Agent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    subject_id: int
    category_id: int
    score: float


class _Entry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    file_name: str
    predictions: List[_Box]
    hoi_prediction: List[_Hoi]
    image_id: Optional[int] = None
    img_id: Optional[int] = None
    agent_prediction: Optional[List[_Agent]] = None  # V-COCO only (refused unless allowed)


_ENTRIES = msgspec.json.Decoder(List[_Entry])
_RECORDS = {"predictions": _Box, "hoi_prediction": _Hoi, "agent_prediction": _Agent}


def _keys(struct, exclude=()):
    fields = [f for f in struct.__struct_fields__ if f not in exclude]
    required = tuple(fields[:len(struct.__struct_fields__) - len(struct.__struct_defaults__)])
    return {"required": required, "optional": tuple(f for f in fields if f not in required)}


# Required and optional keys of an entry (agent_prediction: V-COCO, see ``extra_entry_keys``), read off the schema.
ENTRY_KEYS = _keys(_Entry, exclude=("agent_prediction",))


@dataclass(eq=False)
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

    names: list
    entry: np.ndarray
    subject_boxes: np.ndarray
    object_boxes: np.ndarray
    object_classes: np.ndarray
    verb_classes: np.ndarray
    scores: np.ndarray

    def __len__(self):
        return int(self.scores.shape[0])

    def select(self, keep):
        """The triplets where the (M,) bool ``keep`` is True (same entries)."""
        return PredictionArrays(self.names, self.entry[keep], self.subject_boxes[keep], self.object_boxes[keep],
                                self.object_classes[keep], self.verb_classes[keep], self.scores[keep])


def decode_prediction_file(path, thing_from_file, verb_from_file, extra_entry_keys=()):
    """Read, check and decode a prediction file in one pass of the typed decoder.

    Args:
        path (str): the prediction JSON.
        thing_from_file, verb_from_file (dict[int, int]): the metadata's ``thing_dataset_id_to_contiguous_id`` and
            ``verb_dataset_id_to_contiguous_id``; every box category and verb must be one of their keys.
        extra_entry_keys (tuple[str]): entry keys allowed besides :data:`ENTRY_KEYS` (V-COCO: "agent_prediction").

    Returns:
        tuple(PredictionArrays, list | None): one row per ``hoi_prediction`` record in file order (boxes as written,
        XYXY pixels), and each entry's ``agent_prediction`` as dicts (None unless allowed).

    Raises:
        FormatError: naming the file and position for text that is not JSON (e.g. a truncated file).
        ValueError: naming the file, entry (index and image) and record for any violation of the format.
    """
    with mapped_file(path) as raw:
        try:
            entries = decode_json(path, raw, _ENTRIES)
        except msgspec.ValidationError as e:
            raise ValueError(explain_validation_error(e, decode_json(path, raw), path, extra_entry_keys)) from None
    return _decode(entries, path, thing_from_file, verb_from_file, extra_entry_keys)


def decode_prediction_entries(entries, thing_from_file, verb_from_file, source="predictions", extra_entry_keys=()):
    """:func:`decode_prediction_file` of in-memory entries (dicts as the evaluators build them): the same schema and
    checks; numpy scalars and arrays are accepted as numbers and lists.

    Returns:
        PredictionArrays: as :func:`decode_prediction_file`.

    Raises:
        ValueError: naming ``source``, the entry and the record, as :func:`decode_prediction_file`.
    """
    return _decode(_typed(entries, source, extra_entry_keys), source, thing_from_file, verb_from_file,
                   extra_entry_keys)[0]


def load_prediction_file(path, extra_entry_keys=()):
    """Read a prediction file checked against the schema, as a list of dicts (ids are not mapped here).

    Raises:
        FormatError, ValueError: as :func:`decode_prediction_file`.
    """
    with mapped_file(path) as raw:
        try:
            entries = decode_json(path, raw, _ENTRIES)
        except msgspec.ValidationError as e:
            raise ValueError(explain_validation_error(e, decode_json(path, raw), path, extra_entry_keys)) from None
    _refuse_agents(entries, path, extra_entry_keys)
    return msgspec.to_builtins(entries)


def _plain(value):
    """msgspec's encoder hook: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def _typed(entries, source, extra_entry_keys):
    try:
        raw = msgspec.json.encode(entries, enc_hook=_plain)
    except (NotImplementedError, TypeError) as e:
        raise ValueError(f"{source}: prediction entries hold a value that is not JSON data ({e})") from None
    try:
        return _ENTRIES.decode(raw)
    except msgspec.ValidationError as e:
        raise ValueError(explain_validation_error(e, entries, source, extra_entry_keys)) from None


def _refuse_agents(entries, source, extra_entry_keys):
    if "agent_prediction" not in extra_entry_keys:
        bad = next((i for i, e in enumerate(entries) if e.agent_prediction is not None), None)
        if bad is not None:
            raise ValueError(f"{source}: entry {bad} (image {os.path.basename(entries[bad].file_name)}): unknown "
                             "key(s) ['agent_prediction']")


def _decode(entries, source, thing_from_file, verb_from_file, extra_entry_keys):
    _refuse_agents(entries, source, extra_entry_keys)
    names = [os.path.basename(e.file_name) for e in entries]
    preds = list(itertools.chain.from_iterable(map(attrgetter("predictions"), entries)))
    hois = list(itertools.chain.from_iterable(map(attrgetter("hoi_prediction"), entries)))
    n_preds = np.fromiter(map(len, map(attrgetter("predictions"), entries)), np.int64, len(entries))
    n_hois = np.fromiter(map(len, map(attrgetter("hoi_prediction"), entries)), np.int64, len(entries))
    boxes = np.fromiter(itertools.chain.from_iterable(map(attrgetter("bbox"), preds)), np.float64,
                        4 * len(preds)).reshape(-1, 4)
    box_cat = np.fromiter(map(attrgetter("category_id"), preds), np.int64, len(preds))
    m = len(hois)
    sub, obj, verb = (np.fromiter(map(attrgetter(key), hois), np.int64, m)
                      for key in ("subject_id", "object_id", "category_id"))
    scores = np.fromiter(map(attrgetter("score"), hois), np.float64, m)
    arrays = _assemble(source, names, n_preds, n_hois, boxes, box_cat, sub, obj, verb, scores, thing_from_file,
                       verb_from_file)
    agents = None
    if "agent_prediction" in extra_entry_keys:
        agents = [msgspec.to_builtins(e.agent_prediction) if e.agent_prediction is not None else None
                  for e in entries]
    return arrays, agents


def _offsets(counts):
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _where(source, names, offsets, flat, field):
    """'file: entry e (image name): field[k]' of flat record index ``flat``."""
    e = int(np.searchsorted(offsets, flat, side="right") - 1)
    return f"{source}: entry {e} (image {names[e]}): {field}[{int(flat - offsets[e])}]"


def _map_ids(file_ids, table, what, where):
    inside = (file_ids >= 0) & (file_ids < table.shape[0])
    out = np.full(file_ids.shape[0], -1, dtype=np.int64)
    out[inside] = table[file_ids[inside]]
    if np.any(out < 0):
        k = int(np.flatnonzero(out < 0)[0])
        raise ValueError(f"{where(k)}: unknown {what} category_id {file_ids[k]}")
    return out


def _assemble(source, names, n_preds, n_hois, boxes, box_cat, sub, obj, verb, scores, thing_from_file,
              verb_from_file):
    """Checks beyond the schema (ids known, indices inside the entry) and the flat arrays."""
    pred_offsets, hoi_offsets = _offsets(n_preds), _offsets(n_hois)
    box_cls = _map_ids(box_cat, id_lookup(thing_from_file), "object",
                       lambda k: _where(source, names, pred_offsets, k, "predictions"))
    entry = np.repeat(np.arange(len(names), dtype=np.int64), n_hois)
    limit = n_preds[entry]
    outside = (sub < 0) | (sub >= limit) | (obj < 0) | (obj >= limit)
    where_hoi = (lambda k: _where(source, names, hoi_offsets, k, "hoi_prediction"))
    if np.any(outside):
        k = int(np.flatnonzero(outside)[0])
        raise ValueError(f"{where_hoi(k)}: subject_id {sub[k]} / object_id {obj[k]} outside the entry's {limit[k]} "
                         "predictions")
    verb_cls = _map_ids(verb, id_lookup(verb_from_file), "verb", where_hoi)
    sub_flat = pred_offsets[entry] + sub
    obj_flat = pred_offsets[entry] + obj
    return PredictionArrays(names, entry, boxes[sub_flat], boxes[obj_flat], box_cls[obj_flat], verb_cls, scores)


def _json_path(error):
    """The JSON path of a msgspec ValidationError as a list of keys and indices ([] for the document itself)."""
    found = re.search(r" - at `\$(.*)`$", str(error))
    if not found:
        return []
    return [int(i) if i else key for i, key in re.findall(r"\[(\d+)\]|\.(\w+)", found.group(1))]


def _key_problem(value, struct, exclude=()):
    """The unknown / missing key texts of a record whose keys break ``struct``, its required and optional keys."""
    spec = _keys(struct, exclude)
    required, allowed = set(spec["required"]), set(spec["required"]) | set(spec["optional"])
    keys = set(value)
    parts = []
    if keys - allowed:
        parts.append(f"unknown key(s) {sorted(keys - allowed)}")
    if required - keys:
        parts.append(f"missing key(s) {sorted(required - keys)}")
    return parts, sorted(required), sorted(allowed - required)


def explain_validation_error(error, value, source, extra_entry_keys=()):
    """The message of a schema violation: file, entry (index and image), record and the offending value.

    Args:
        error (msgspec.ValidationError): from the typed decoder (its message ends with the JSON path).
        value: the same document decoded untyped (a file's NaN / Infinity tokens as floats).
        source (str): file or origin named first.
    """
    path = _json_path(error)
    if not path:
        return (f"{source}: a prediction file is a JSON list of per-image entries, got {type(value).__name__}"
                if not isinstance(value, list) else f"{source}: {error}")
    i, entry = path[0], value[path[0]]
    if not isinstance(entry, dict):
        return f"{source}: entry {i} is a {type(entry).__name__}, not a dict"
    name = entry.get("file_name", "?")
    if len(path) == 1:
        exclude = () if "agent_prediction" in extra_entry_keys else ("agent_prediction",)
        parts, required, optional = _key_problem(entry, _Entry, exclude)
        return (f"{source}: entry {i} (image {name}): {' and '.join(parts) or error}; an entry has {required} and "
                f"optionally {optional}")
    key, rest = path[1], path[2:]
    field_value = entry.get(key)
    if key == "file_name":
        return f"{source}: entry {i}: file_name {field_value!r} is not a string"
    where = f"{source}: entry {i} (image {name})"
    if key in _RECORDS and not rest:
        return f"{where}: {key} is a {type(field_value).__name__}, not a list"
    if key not in _RECORDS:
        return f"{where}: {key} {field_value!r} is not an integer"
    return _record_problem(f"{where}: {key}[{rest[0]}]", field_value[rest[0]], _RECORDS[key], rest[1:], error)


def _record_problem(where, record, struct, rest, error):
    if not isinstance(record, dict):
        return f"{where} is a {type(record).__name__}, not a dict"
    if not rest:
        _, required, optional = _key_problem(record, struct)
        return (f"{where} has keys {sorted(record)}; expected {required}"
                + (f" and optionally {optional}" if optional else ""))
    key, field_value = rest[0], record.get(rest[0])
    if key == "bbox":
        if not isinstance(field_value, list) or len(field_value) != 4:
            return f"{where}: bbox {field_value!r} is not [x1, y1, x2, y2]"
        return f"{where}: bbox {field_value!r} has a non-finite or non-numeric coordinate"
    if key == "score":
        return f"{where}: score {field_value!r} is not a finite number"
    if key in ("subject_id", "object_id", "category_id"):
        return f"{where}: {key} {field_value!r} is not an integer"
    return f"{where}: {error}"


def image_positions(names, image_index, source="predictions", allow_missing_images=False,
                    drop_unknown_images=False):
    """Position in the split of each entry's image, after checking the entries cover the split exactly once.

    Args:
        names (list[str]): base file name of each entry.
        image_index (dict[str, int]): the split's image key -> position.
        source (str): named in error messages.
        allow_missing_images (bool): score the split's images without an entry as images without detections
            (``--allow-missing-images``) instead of refusing the file.
        drop_unknown_images (bool): leave out entries of images that are not in the split (position -1) instead of
            refusing the file (``--drop-unknown-images``); the caller reports them.

    Returns:
        tuple(np.ndarray, list[str], list[str]): (E,) int64 positions (-1: dropped), the split's images without an
        entry (split order), and the names of the dropped entries.

    Raises:
        ValueError: for an image with two entries, entries of images outside the split (unless dropped; the message
            names the first and how many), or (unless allowed) images of the split without an entry -- the message
            gives their number and the first five.
    """
    pos = np.fromiter((image_index.get(n, -1) for n in names), np.int64, len(names))
    unknown = [n for n, p in zip(names, pos) if p < 0]
    if unknown and not drop_unknown_images:
        raise ValueError(f"{source}: predictions for {len(unknown)} image(s) not in the ground truth, e.g. "
                         f"{unknown[0]}: not an image of the split (--drop-unknown-images / "
                         "TEST.HOI.DROP_UNKNOWN_IMAGES leaves such entries out)")
    counts = np.bincount(pos[pos >= 0], minlength=len(image_index))
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
    return pos, missing, unknown
