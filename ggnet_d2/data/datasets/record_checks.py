"""Checks of single annotation values shared by the HOI loaders: boxes, image sizes, image files.

Each check raises :class:`RecordProblem` (a reason key for the skip counts plus a message); the loader prefixes the
file and record and hands it to its ``SkipLog`` (skip or ``BadRecordError``, docs/interfaces.md).
"""
import math
import os
import stat

from ..image_io import ImageReadError, image_size

__all__ = ["RecordProblem", "parse_box", "fit_box", "parse_size", "image_file_problem", "image_size_from_file",
           "size_mismatch"]


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
    return [_number(v, f"bbox {list(value)!r}: coordinate") for v in value]


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


def image_file_problem(path):
    """Cheap file check (one ``stat``): raises RecordProblem "missing_image" (absent) or "unreadable_image" (empty
    or not a regular file). Decoding is left to the mapper, which reads the image anyway."""
    try:
        st = os.stat(path)
    except OSError:
        raise RecordProblem("missing_image", f"image file {path} does not exist") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        raise RecordProblem("unreadable_image", f"image file {path} is empty or not a regular file")


def image_size_from_file(path):
    """(height, width) as shown, after the EXIF orientation (``image_io.image_size``: header only), which is the
    frame of the annotation boxes. Raises RecordProblem "unreadable_image"."""
    try:
        return image_size(path)
    except ImageReadError as e:
        raise RecordProblem("unreadable_image", str(e)) from None


def size_mismatch(path, height, width):
    """None when the image at ``path`` is ``width`` x ``height`` (or cannot be read); else a RecordProblem
    "size_mismatch" to raise in place of a box-outside-image report."""
    try:
        real_h, real_w = image_size_from_file(path)
    except RecordProblem:
        return None
    if (real_h, real_w) == (height, width):
        return None
    return RecordProblem("size_mismatch", f"record size {width}x{height} differs from the image file's "
                                          f"{real_w}x{real_h} ({path})")
