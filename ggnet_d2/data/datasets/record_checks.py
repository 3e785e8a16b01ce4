"""Checks of a record against its image file, for the HOI loaders: file present, image size (the value checks --
boxes, sizes, ids -- are in ggnet_d2/formats/records.py, re-exported here).

Each check raises :class:`RecordProblem` (a reason key for the skip counts plus a message); the loader prefixes the
file and record and hands it to its ``SkipLog`` (skip or ``BadRecordError``, docs/interfaces.md).
"""
import os
import stat

from ..image_io import ImageReadError, image_size

from ...formats.records import RecordProblem, fit_box, parse_box, parse_size

__all__ = ["RecordProblem", "parse_box", "fit_box", "parse_size", "image_file_problem", "image_size_from_file",
           "size_mismatch"]


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
