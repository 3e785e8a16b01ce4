"""Users' own PPDM/GGNet-style HOI datasets named in the config (``DATASETS.HOI.CUSTOM``), registered per process,
with one class and verb table for all of their files.

Each file mapping its own ids to 0..n-1 let a test file that lacks one class of the training file shift every later
class by one (or end in a bare KeyError), so :func:`custom_hoi_table` builds one table -- from the config's names
(``DATASETS.HOI.CUSTOM_THING_CLASSES`` / ``CUSTOM_VERB_CLASSES``), else from the training files' ids -- and checks every
file against it; the person class is found by name, or checked against the classes of the HOI subjects.
"""
import logging
import os
from collections import Counter
from dataclasses import dataclass

from detectron2.data import DatasetCatalog, MetadataCatalog

from .bad_records import BadRecordError
from .hoi_json import parse_dataset_id, read_json_file
from .register_hoi import register_hoi_json

__all__ = ["register_custom_hoi_datasets", "custom_hoi_table", "CustomHOITable", "PERSON_NAMES"]

logger = logging.getLogger(__name__)

PERSON_NAMES = ("person", "human")  # compared lower-case and stripped


@dataclass(frozen=True)
class CustomHOITable:
    """The class and verb table shared by every ``DATASETS.HOI.CUSTOM`` file.

    Attributes:
        thing_ids, verb_ids (tuple[int]): file ids in contiguous order (ascending).
        thing_classes, verb_classes (tuple[str]): their names (the ids as strings when none are given).
        person_class_id (int): contiguous id of the person class (the HOI subjects).
        source (str): where the table comes from (config keys or training files), for messages.
    """

    thing_ids: tuple
    thing_classes: tuple
    verb_ids: tuple
    verb_classes: tuple
    person_class_id: int
    source: str

    def metadata(self):
        """The metadata keys the table fixes (docs/interfaces.md), for :func:`register_hoi_json`."""
        return {"thing_classes": list(self.thing_classes), "verb_classes": list(self.verb_classes),
                "thing_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(self.thing_ids)},
                "verb_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(self.verb_ids)},
                "person_class_id": self.person_class_id}


class _FileIds:
    """The class, verb and subject-class ids of one file, each with the first record that uses it."""

    def __init__(self, json_file):
        self.json_file = json_file
        self.things, self.verbs, self.subjects = {}, {}, Counter()
        raw = read_json_file(json_file)
        for i, rec in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(rec, dict):
                continue  # malformed records are the loader's to count or name
            where = f"{json_file}: image #{i} ({rec.get('file_name')})"
            anns = rec.get("annotations") if isinstance(rec.get("annotations"), list) else []
            ann_ids = [self._add(self.things, a.get("category_id"), f"{where} annotation #{j}")
                       if isinstance(a, dict) else None for j, a in enumerate(anns)]
            hois = rec.get("hoi_annotation") if isinstance(rec.get("hoi_annotation"), list) else []
            for k, h in enumerate(hois):
                if not isinstance(h, dict):
                    continue
                self._add(self.verbs, h.get("category_id"), f"{where} hoi #{k}")
                s = h.get("subject_id")
                if isinstance(s, int) and not isinstance(s, bool) and 0 <= s < len(ann_ids) and ann_ids[s] is not None:
                    self.subjects[ann_ids[s]] += 1

    @staticmethod
    def _add(table, value, where):
        try:
            d = parse_dataset_id(value)
        except ValueError:
            return None  # not an id at all: a bad record for the loader
        table.setdefault(d, where)
        return d


def _named(entries, key):
    """``[[file_id, name], ...]`` of a config key -> {file_id: name}. Raises ValueError for any other layout."""
    out = {}
    for e in entries:
        ok = isinstance(e, (list, tuple)) and len(e) == 2 and isinstance(e[1], str)
        try:
            d = parse_dataset_id(e[0]) if ok else None
        except ValueError:
            ok = False
        if not ok or d in out:
            raise ValueError(f"DATASETS.HOI.{key} entries are unique [file_id, name] pairs, e.g. "
                             f"[[1, 'person'], [3, 'ball']]; got {e!r}")
        out[d] = e[1]
    return out


def _table_ids(files, key, names, what, num_expected, count_key):
    """(ids, names, source) of one table (classes or verbs), checked against every file."""
    training = [f for f in files if f.training] or files
    if names:
        ids, source = sorted(names), f"DATASETS.HOI.{key}"
    else:
        ids = sorted(set().union(*(getattr(f.ids, what) for f in training)))
        source = "the ids of " + ", ".join(f.ids.json_file for f in training)
    for f in files:
        unknown = sorted(set(getattr(f.ids, what)) - set(ids))
        if unknown:
            first = getattr(f.ids, what)[unknown[0]]
            raise BadRecordError(
                f"{first}: {'object category_id' if what == 'things' else 'verb category_id'} {unknown[0]} is not "
                f"in the table of DATASETS.HOI.CUSTOM (ids {ids} from {source}); unknown ids in this file: {unknown}. "
                f"Give every id a name in DATASETS.HOI.{key}, or list the training file in DATASETS.TRAIN")
    if len(ids) != num_expected:
        raise ValueError(f"DATASETS.HOI.CUSTOM: {len(ids)} {'classes' if what == 'things' else 'verbs'} (ids {ids} "
                         f"from {source}) but MODEL.GGNET.{count_key} is {num_expected}")
    return ids, [names.get(d, str(d)) for d in ids] if names else [str(d) for d in ids], source


def _person(cfg, thing_ids, thing_classes, named, files):
    """Contiguous person class: by name, else MODEL.GGNET.PERSON_CLASS_ID checked against the subjects' classes."""
    given = int(cfg.MODEL.GGNET.PERSON_CLASS_ID)
    if named:
        found = [i for i, n in enumerate(thing_classes) if n.strip().lower() in PERSON_NAMES]
        if len(found) > 1:
            raise ValueError(f"DATASETS.HOI.CUSTOM_THING_CLASSES names more than one person class "
                             f"{[thing_classes[i] for i in found]}: keep one, or set MODEL.GGNET.PERSON_CLASS_ID")
        if found:
            if given not in (0, found[0]):
                logger.warning(f"MODEL.GGNET.PERSON_CLASS_ID {given} ({thing_classes[given]!r}) overrides the class "
                               f"named {thing_classes[found[0]]!r} ({found[0]}) as the person class")
                return given
            return found[0]
    subjects = Counter()
    for f in [f for f in files if f.training] or files:
        subjects.update(f.ids.subjects)
    if subjects:
        file_id, n = subjects.most_common(1)[0]
        common = thing_ids.index(file_id)
        if common != given:
            raise ValueError(
                f"DATASETS.HOI.CUSTOM: the person class is {given} (MODEL.GGNET.PERSON_CLASS_ID) but the HOI subjects "
                f"are mostly file class id {file_id} = class {common} ({n} of {sum(subjects.values())}): set "
                f"MODEL.GGNET.PERSON_CLASS_ID {common}, or name the classes (DATASETS.HOI.CUSTOM_THING_CLASSES, "
                f"'person' or 'human')")
    return given


class _File:
    def __init__(self, name, json_file, image_root, training):
        self.name, self.json_file, self.image_root, self.training = name, json_file, image_root, training
        self.ids = _FileIds(json_file)


def custom_hoi_table(cfg, entries):
    """Build the table of ``entries`` (``(name, json_file, image_root)``, files read once) and check every file.

    Classes: ``DATASETS.HOI.CUSTOM_THING_CLASSES`` when given, else the object ids of the entries named in
    ``DATASETS.TRAIN`` (all entries when none is); verbs likewise. Person: the class named "person" or "human" (any
    case) when the classes are named, unless ``MODEL.GGNET.PERSON_CLASS_ID`` is set to another non-zero class (that
    wins, with a warning); else ``PERSON_CLASS_ID``, which must be the class of most HOI subjects.

    Returns:
        CustomHOITable.

    Raises:
        BadRecordError: a file uses an id outside the table (names the file, record and id), or is not valid JSON.
        ValueError: malformed name lists, a table size other than MODEL.GGNET.NUM_CLASSES / NUM_VERBS, two person
            names, or a person class that disagrees with the HOI subjects when no name settles it.
    """
    training = set(cfg.DATASETS.TRAIN)
    files = [_File(name, json_file, root, name in training) for name, json_file, root in entries]
    hoi = cfg.DATASETS.HOI
    thing_names = _named(hoi.get("CUSTOM_THING_CLASSES", []), "CUSTOM_THING_CLASSES")
    verb_names = _named(hoi.get("CUSTOM_VERB_CLASSES", []), "CUSTOM_VERB_CLASSES")
    g = cfg.MODEL.GGNET
    thing_ids, thing_classes, source = _table_ids(files, "CUSTOM_THING_CLASSES", thing_names, "things",
                                                  g.NUM_CLASSES, "NUM_CLASSES")
    verb_ids, verb_classes, verb_source = _table_ids(files, "CUSTOM_VERB_CLASSES", verb_names, "verbs",
                                                     g.NUM_VERBS, "NUM_VERBS")
    person = _person(cfg, thing_ids, thing_classes, bool(thing_names), files)
    return CustomHOITable(tuple(thing_ids), tuple(thing_classes), tuple(verb_ids), tuple(verb_classes), person,
                          source if source == verb_source else f"{source}; verbs: {verb_source}")


def _entries(cfg):
    hoi = cfg.DATASETS.get("HOI", None)
    out = []
    for entry in (hoi.get("CUSTOM", ()) if hoi is not None else ()):
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and all(isinstance(x, str) for x in entry)):
            raise ValueError(f"DATASETS.HOI.CUSTOM entries are (name, json_file, image_root) strings, got {entry!r}")
        out.append((entry[0], os.path.abspath(entry[1]), os.path.abspath(entry[2])))
    return out


def register_custom_hoi_datasets(cfg):
    """Register every ``(name, json_file, image_root)`` entry of ``cfg.DATASETS.HOI.CUSTOM`` with
    :func:`register_hoi_json`, all with one class/verb table (:func:`custom_hoi_table`; each file's ids are read now),
    subjects of another class than the person class counted and skipped (an error under "error").

    ``setup_cfg`` calls it in every process (training workers start from a fresh interpreter, so a registration made
    only in the launching process is missing there), before freezing the config: ``MODEL.GGNET.PERSON_CLASS_ID`` is
    set to the table's person class. An entry already registered with the same files is left alone.

    Args:
        cfg (CfgNode): a GGNet config, not frozen when there are entries.

    Returns:
        list[str]: the names registered by this call.

    Raises:
        ValueError: an entry that is not three strings, or a name already registered for other files (or by
            another loader); see also :func:`custom_hoi_table`.
        BadRecordError: see :func:`custom_hoi_table`.
    """
    entries = _entries(cfg)
    if not entries:
        return []
    for name, json_file, image_root in entries:
        if name in DatasetCatalog.list():
            meta = MetadataCatalog.get(name)
            if (meta.get("json_file", None), meta.get("image_root", None)) != (json_file, image_root):
                raise ValueError(f"DATASETS.HOI.CUSTOM: dataset {name!r} is already registered "
                                 f"(json_file {meta.get('json_file', None)!r}); choose another name")
    table = custom_hoi_table(cfg, entries)
    if cfg.MODEL.GGNET.PERSON_CLASS_ID != table.person_class_id:
        logger.info(f"MODEL.GGNET.PERSON_CLASS_ID {table.person_class_id}: the class named "
                    f"{table.thing_classes[table.person_class_id]!r}")
        cfg.MODEL.GGNET.PERSON_CLASS_ID = table.person_class_id
    logger.info(f"DATASETS.HOI.CUSTOM: {len(table.thing_ids)} classes, {len(table.verb_ids)} verbs from "
                f"{table.source}; person class {table.person_class_id} ({table.thing_classes[table.person_class_id]!r})")
    added = []
    for name, json_file, image_root in entries:
        if name in DatasetCatalog.list():
            continue
        register_hoi_json(name, json_file, image_root, table.metadata(), check_subjects=True)
        added.append(name)
    return added
