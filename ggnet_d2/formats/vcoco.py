"""V-COCO's official files (Gupta & Malik 2015, s-gupta/v-coco): ``vcoco_*.json``, ``vcoco_*.ids`` and the COCO
instances JSON they refer to; read by the V-COCO evaluation (metrics/vcoco_protocol.py) and tools/convert_vcoco.py.

``vcoco_*.json`` lists one dict per action: ``action_name``, ``role_name`` (``"agent"`` first), and per annotated
person ``image_id``, ``ann_id`` (the agent's COCO annotation), ``label`` (1 = does the action) and the flattened
``role_object_id`` (role-major: the k-th block of len(image_id) entries holds role k's COCO annotation id, 0 = none).
"""
import numpy as np

from .json_file import FormatError, load_json

__all__ = ["read_vcoco_actions", "read_vcoco_image_ids", "read_coco_instances"]

_ACTION_LISTS = ("image_id", "ann_id", "label", "role_object_id")


def _int_list(values, where):
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise FormatError(f"{where} is not a list of integers") from None


def read_vcoco_actions(path):
    """The action list of an official ``vcoco_*.json``, checked.

    Returns:
        list[dict]: per action ``action_name`` (str), ``role_name`` (list[str], "agent" first), and int lists
        ``image_id``, ``ann_id``, ``label`` (N each) and ``role_object_id`` (N x number of roles, role-major).

    Raises:
        FormatError: naming the file and action for text that is not JSON, a file that is not a list of action
            dicts, a missing key, non-integer ids, or lists whose lengths disagree.
    """
    raw = load_json(path)
    if not isinstance(raw, list):
        raise FormatError(f"{path}: not V-COCO's vcoco_*.json (a JSON list of actions), got {type(raw).__name__}")
    actions = []
    for i, a in enumerate(raw):
        where = f"{path}: action #{i}"
        missing = [k for k in ("action_name", "role_name") + _ACTION_LISTS if not isinstance(a, dict) or k not in a]
        if missing:
            raise FormatError(f"{where}: not an action dict with {missing}")
        roles = a["role_name"]
        if not (isinstance(roles, list) and roles and all(isinstance(r, str) for r in roles)):
            raise FormatError(f"{where} ({a['action_name']}): role_name {roles!r} is not a list of role names")
        action = {"action_name": str(a["action_name"]), "role_name": list(roles)}
        for key in _ACTION_LISTS:
            action[key] = _int_list(a[key], f"{where} ({a['action_name']}): {key}")
        n = len(action["ann_id"])
        if (len(action["role_object_id"]) != n * len(roles) or len(action["label"]) != n
                or len(action["image_id"]) != n):
            raise FormatError(f"{path}: action {a['action_name']} (record {i}) has inconsistent lengths")
        actions.append(action)
    return actions


def read_vcoco_image_ids(path):
    """The COCO image ids of an official ``vcoco_*.ids`` file (one per line).

    Raises:
        FormatError: naming the file when it cannot be read or holds anything but integers.
    """
    try:
        values = np.atleast_1d(np.loadtxt(path))
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: not a V-COCO image id list, one integer per line ({e})") from None
    if not np.all(values == np.floor(values)):
        raise FormatError(f"{path}: not a V-COCO image id list, one integer per line")
    return [int(x) for x in values]


def read_coco_instances(path):
    """A COCO instances JSON, checked for what V-COCO uses.

    Returns:
        dict: the file's content (``images`` with id, file_name, width, height; ``annotations`` with id, image_id,
        bbox, category_id; ``categories`` with id, name, [] when absent).

    Raises:
        FormatError: naming the file and record for text that is not JSON, a missing list or a record without
            one of those keys.
    """
    raw = load_json(path)
    needed = {"images": ("id", "file_name", "width", "height"),
              "annotations": ("id", "image_id", "bbox", "category_id"), "categories": ("id", "name")}
    if not isinstance(raw, dict):
        raise FormatError(f"{path}: not a COCO instances file (a JSON object), got {type(raw).__name__}")
    raw.setdefault("categories", [])
    for key, fields in needed.items():
        if not isinstance(raw.get(key), list):
            raise FormatError(f"{path}: no {key!r} list; not a COCO instances file")
        for i, record in enumerate(raw[key]):
            if not isinstance(record, dict) or any(f not in record for f in fields):
                raise FormatError(f"{path}: {key}[{i}] is not a record with {list(fields)}")
    return raw
