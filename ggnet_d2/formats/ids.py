"""Class, verb and HOI ids of annotation and prediction files: parsing and the maps between id spaces.

A file's ids (COCO object ids, PPDM verb ids 1..117, a custom file's own) map to contiguous ids through the
metadata's ``*_dataset_id_to_contiguous_id``; a (verb, object) pair maps to its HOI class through ``hoi_classes``.
"""
import re

import numpy as np

__all__ = ["parse_dataset_id", "int_map", "invert_id_map", "id_lookup", "hoi_class_lookup"]


def parse_dataset_id(value):
    """A file's class id as int: ints (and integral floats) stay, strings such as ``"3"`` or ``"3\\n"`` (HOI-W) are
    parsed; a JSON boolean is not an id.

    Raises:
        ValueError: for anything else (the caller adds the file and record).
    """
    if isinstance(value, bool):
        raise ValueError(f"id {value!r} is not an integer")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"id {value!r} is not an integer")


def int_map(mapping):
    """A metadata id map with int keys and values (JSON and YAML give strings or numpy ints)."""
    return {int(k): int(v) for k, v in mapping.items()}


def invert_id_map(mapping, what):
    """Invert a ``*_dataset_id_to_contiguous_id`` metadata map.

    Args:
        mapping (dict[int, int]): file id -> contiguous id.
        what (str): name used in the error message.

    Returns:
        dict[int, int]: contiguous id -> file id.

    Raises:
        ValueError: when two file ids map to the same contiguous id.
    """
    inverse = {}
    for file_id, contiguous in mapping.items():
        if int(contiguous) in inverse:
            raise ValueError(f"{what}: contiguous id {contiguous} has two dataset ids")
        inverse[int(contiguous)] = int(file_id)
    return inverse


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


def hoi_class_lookup(hoi_classes, num_verbs=0, num_objects=0):
    """(verb, object) -> HOI class as an int64 table, -1 for pairs that are no class.

    Args:
        hoi_classes (Sequence[tuple[int, int]]): (verb, object) contiguous ids; position = HOI class.
        num_verbs, num_objects (int): minimum table size (the table also covers every pair of ``hoi_classes``).

    Returns:
        np.ndarray: (V, O) int64.
    """
    pairs = np.asarray(hoi_classes, dtype=np.int64).reshape(-1, 2)
    shape = (max(num_verbs, int(pairs[:, 0].max()) + 1 if len(pairs) else 0),
             max(num_objects, int(pairs[:, 1].max()) + 1 if len(pairs) else 0))
    table = np.full(shape, -1, dtype=np.int64)
    table[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
    return table
