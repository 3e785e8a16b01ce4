"""Checks of single annotation values and the PPDM/GGNet JSON image record, shared by the dataset loaders and the
ground-truth readers (pure Python: no torch, no detectron2).

Each check raises :class:`RecordProblem` (a reason key for the skip counts plus a message); the caller prefixes the
file and record and skips, counts or raises (docs/interfaces.md, "Bad input").

A PPDM/GGNet record (PPDM, Liao et al. CVPR 2020; GGNet, Zhong et al. CVPR 2021; HICO-DET, V-COCO, HOI-W releases) is
``{file_name, annotations: [{bbox: [x1, y1, x2, y2], category_id}], hoi_annotation: [{subject_id, object_id,
category_id}]}`` (original pixels, XYXY absolute; ids int or str), optionally with ``height`` / ``width``.
"""
import math

from .ids import parse_dataset_id

__all__ = ["RecordProblem", "parse_box", "fit_box", "parse_size", "parse_ppdm_record"]


class RecordProblem(Exception):
    """One bad value: ``reason`` (skip-count key such as "non_finite_box") and a message without the record name."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.where = ""  # the part of the record (" annotation #2"), set by the loader

    def at(self, where):
        """This problem located at ``where`` (" annotation #j", " hoi #k") inside its record; returns it."""
        self.where = where
        return self


def _number(value, what):
    if isinstance(value, bool) or value is None:
        raise RecordProblem("malformed_record", f"{what} {value!r} is not a number")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RecordProblem("malformed_record", f"{what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise RecordProblem("non_finite_value", f"{what} {value!r} is not finite")
    return x


def parse_box(value):
    """``[x1, y1, x2, y2]`` (original pixels, XYXY absolute) as 4 finite floats.

    Numbers and numeric strings are accepted. Raises RecordProblem: "malformed_record" (not a 4-list, null or
    non-numeric coordinate) or "non_finite_value" (NaN, inf).
    """
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise RecordProblem("malformed_record", f"bbox {value!r} is not [x1, y1, x2, y2]")
    if all(type(v) is float or type(v) is int for v in value):  # the common case, without building messages
        box = [float(v) for v in value]
        if all(map(math.isfinite, box)):
            return box
    what = f"bbox {list(value)!r}: coordinate"
    return [_number(v, what) for v in value]


def parse_size(height, width):
    """A record's ``height``/``width`` as positive ints. Raises RecordProblem ("malformed_record")."""
    h, w = _number(height, "height"), _number(width, "width")
    if h <= 0 or w <= 0 or not h.is_integer() or not w.is_integer():
        raise RecordProblem("malformed_record", f"image size {width!r}x{height!r} is not two positive integers")
    return int(h), int(w)


def _fmt(box):
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def fit_box(box, width, height, tolerance):
    """Check a parsed box against a ``width`` x ``height`` image; clip it when it crosses the border by at most
    ``tolerance`` pixels.

    Returns:
        (list[float], bool): the (possibly clipped) box and whether it was clipped.

    Raises:
        RecordProblem: "degenerate_box" (x2 <= x1 or y2 <= y1, before or after clipping) or "box_outside_image".
    """
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        raise RecordProblem("degenerate_box", f"degenerate box {_fmt(box)} (x2 <= x1 or y2 <= y1)")
    overflow = max(-x1, -y1, x2 - width, y2 - height)
    if overflow <= 0:
        return list(box), False
    if overflow > tolerance:
        raise RecordProblem("box_outside_image", f"box {_fmt(box)} outside the {width}x{height} image "
                                                 f"(by {overflow:g} px; DATASETS.HOI.BOX_CLIP_TOLERANCE {tolerance:g})")
    clipped = [min(max(x1, 0.0), width), min(max(y1, 0.0), height), min(max(x2, 0.0), width),
               min(max(y2, 0.0), height)]
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        raise RecordProblem("degenerate_box", f"box {_fmt(box)} is empty once clipped to the {width}x{height} image")
    return clipped, True


def _list_field(raw, key):
    """``raw[key]`` as a list ([] when absent). Raises RecordProblem for null or a non-list."""
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise RecordProblem("malformed_record", f"{key!r} is {value!r}, not a list")
    return value


def _annotation(ann, thing_map, fit):
    if not isinstance(ann, dict):
        raise RecordProblem("malformed_record", f"{ann!r} is not an object")
    box = parse_box(ann.get("bbox"))
    try:
        cat = thing_map[parse_dataset_id(ann.get("category_id"))]
    except (KeyError, ValueError):
        raise RecordProblem("unknown_category", f"unknown object category_id {ann.get('category_id')!r}") from None
    return (fit(box) if fit is not None else box), cat


def parse_ppdm_record(raw, thing_map, verb_map, ignored_verbs=(), fit=None):
    """The boxes and HOI triplets of one PPDM/GGNet image record (module docstring).

    Args:
        raw (dict): the record (its ``file_name`` is the caller's).
        thing_map, verb_map (dict[int, int]): file id -> contiguous id of objects and verbs.
        ignored_verbs (Collection[int]): verb file ids left out (V-COCO's agent-only ids in a 25-verb setup).
        fit (callable | None): ``box -> box`` for each parsed box (the loaders check it against the image size and
            clip it, raising RecordProblem); None keeps the box as written.

    Returns:
        tuple(list, list): annotations [(box [x1, y1, x2, y2] floats, contiguous category)] and HOIs [(subject
        index, object index, contiguous verb)] in file order.

    Raises:
        RecordProblem: located (``.where``: " annotation #j" / " hoi #k") for a malformed field, a non-finite or
            non-numeric value, an unknown category or verb id, or an index outside the record's boxes.
    """
    annotations = []
    for j, ann in enumerate(_list_field(raw, "annotations")):
        try:
            annotations.append(_annotation(ann, thing_map, fit))
        except RecordProblem as p:
            raise p.at(f" annotation #{j}") from None
    hois = []
    for k, hoi in enumerate(_list_field(raw, "hoi_annotation")):
        where = f" hoi #{k}"
        if not isinstance(hoi, dict):
            raise RecordProblem("malformed_record", f"{hoi!r} is not an object").at(where)
        try:
            s, o = parse_dataset_id(hoi.get("subject_id")), parse_dataset_id(hoi.get("object_id"))
        except ValueError:
            raise RecordProblem("malformed_record", "subject_id/object_id are not integers").at(where) from None
        if not (0 <= s < len(annotations) and 0 <= o < len(annotations)):
            raise RecordProblem("hoi_index_out_of_range",
                                f"subject_id {s} / object_id {o} outside the {len(annotations)} boxes").at(where)
        try:
            verb_dataset_id = parse_dataset_id(hoi.get("category_id"))
            if verb_dataset_id in ignored_verbs:
                continue
            verb = verb_map[verb_dataset_id]
        except (KeyError, ValueError):
            raise RecordProblem("unknown_verb",
                                f"unknown verb category_id {hoi.get('category_id')!r}").at(where) from None
        hois.append((s, o, verb))
    return annotations, hois
