"""Register a PPDM/GGNet-style HOI JSON (a user's own dataset or a built-in) with detectron2's catalogs, lazily."""
import functools
import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from .bad_records import PolicyLoader, registered_policy
from .hoi_json import _load, derive_hoi_metadata, log_verb_histogram
from .lazy_metadata import register_lazy_metadata, set_missing_metadata

__all__ = ["register_hoi_json", "METADATA_KEYS"]

# Every key of docs/interfaces.md's metadata table that a dataset has (V-COCO's official files are added by builtin).
METADATA_KEYS = (
    "thing_classes", "verb_classes", "person_class_id", "thing_dataset_id_to_contiguous_id",
    "verb_dataset_id_to_contiguous_id", "valid_verb_object", "hoi_classes", "rare_hoi_ids", "non_rare_hoi_ids",
    "evaluator_type", "json_file", "image_root",
)


def _drop_non_person_subjects(records, json_file, person, thing_classes, skips):
    """Records whose every HOI subject is of class ``person``; the others go to ``skips`` ("subject_not_person")."""
    kept = []
    for r in records:
        for k, h in enumerate(r["hoi_annotations"]):
            cat = r["annotations"][h["subject_id"]]["category_id"]
            if cat != person:
                skips.bad("subject_not_person",
                          f"{json_file}: image #{r['image_id']} ({os.path.basename(r['file_name'])}) hoi #{k}: subject "
                          f"box #{h['subject_id']} is class {cat} ({thing_classes[cat]!r}), not the person class "
                          f"{person} ({thing_classes[person]!r})")
                break
        else:
            kept.append(r)
    return kept


def _load_checked(name, json_file, image_root, metadata, policy, log, check_subjects):
    """``hoi_json._load``, plus (``check_subjects``) images with a non-person subject counted and dropped (or
    BadRecordError under "error") before the metadata is derived and the summary logged."""
    if not check_subjects:
        return _load(json_file, image_root, name, metadata, policy, log)
    records, full, skips = _load(json_file, image_root, name, metadata, policy, log=False)
    total = len(records) + skips.num_skipped
    records = _drop_non_person_subjects(records, json_file, full["person_class_id"], full["thing_classes"], skips)
    derived = derive_hoi_metadata(records, len(full["thing_classes"]), len(full["verb_classes"]),
                                  metadata.get("valid_verb_object"), metadata.get("hoi_classes"))
    full.update({k: v for k, v in derived.items() if k not in metadata or k in ("valid_verb_object", "hoi_classes")})
    skips.summary(total, log=log)
    if log:
        log_verb_histogram(records, full["verb_classes"], name or json_file)
    return records, full, skips


def _load_registered(name, json_file, image_root, metadata, lazy_resolve, check_subjects, policy, log):
    given = dict(metadata)
    if lazy_resolve:
        # Built-ins define the correspondence and triplet order elsewhere (official HOI list, corre_*.npy).
        meta = MetadataCatalog.get(name)
        given["valid_verb_object"] = meta.valid_verb_object
        given["hoi_classes"] = meta.hoi_classes
    records, full, _ = _load_checked(name, json_file, image_root, given, policy, log, check_subjects)
    set_missing_metadata(name, full)  # as load_hoi_json does
    return records


def register_hoi_json(name, json_file, image_root, metadata=None, resolve=None, policy=None, check_subjects=False):
    """Register ``name`` in DatasetCatalog (loads with :func:`load_hoi_json` on first use) and MetadataCatalog.

    Nothing is read at registration. Metadata keys given in ``metadata`` are set at once (``evaluator_type``
    defaults to "hoi"; ``person_class_id`` is the position of "person" in a given ``thing_classes``); the others of
    docs/interfaces.md (class lists and id maps when not given, ``valid_verb_object`` and ``hoi_classes`` from the
    annotations, rare = < 10 instances in the file) are computed when first read.

    The DatasetCatalog entry is a :class:`~ggnet_d2.data.datasets.bad_records.PolicyLoader`: ``setup_cfg`` /
    ``configure_hoi_datasets(cfg)`` re-register it with the bad-record policy of ``cfg.DATASETS.HOI``.

    Args:
        name (str): dataset name, e.g. "hoiw_demo".
        json_file (str): PPDM/GGNet-style JSON.
        image_root (str): folder of the images.
        metadata (dict | None): see :func:`load_hoi_json`; any extra keys (e.g. evaluator files) are stored as given.
        resolve (callable | None): returns the lazy metadata dict; default loads ``json_file`` (built-ins pass one
            that reads their training files instead).
        policy (BadRecordPolicy | None): initial bad-record policy (default ``BadRecordPolicy()``).
        check_subjects (bool): an image with an HOI whose subject is not of the person class (``person_class_id``) is
            a bad record ("subject_not_person": counted and dropped, or BadRecordError under "error");
            ``DATASETS.HOI.CUSTOM`` datasets have it on. Off by default: the built-in files keep their published
            content (the HOI-W demo sample has one subject of another class).

    Raises:
        AssertionError: (detectron2) if ``name`` is already registered.
    """
    metadata = dict(metadata or {})
    classes = metadata.get("thing_classes")
    if classes is not None and "person_class_id" not in metadata and "person" in classes:
        metadata["person_class_id"] = list(classes).index("person")

    DatasetCatalog.register(name, PolicyLoader(functools.partial(
        _load_registered, name, json_file, image_root, metadata, resolve is not None, check_subjects), policy))
    static = {"evaluator_type": "hoi", "json_file": json_file, "image_root": image_root}
    static.update(metadata)

    def resolve_from_file():
        # The dataset load logs the skip summary and verb histogram; resolving metadata alone stays quiet.
        return _load_checked(name, json_file, image_root, metadata, registered_policy(name), False, check_subjects)[1]

    register_lazy_metadata(name, resolve or resolve_from_file, METADATA_KEYS, **static)
