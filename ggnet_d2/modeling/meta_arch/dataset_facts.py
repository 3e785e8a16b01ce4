"""What GGNet needs from its datasets (the verb-object correspondence and the person class), found without reading a
dataset file, and checked once the data is loaded.

A model is built from its config alone (``GGNet.from_config``): the correspondence ``valid_verb_object`` (bool
(V, C), Sec. 3.4 / Eq. 8: an object is matched to an interaction only for a verb that admits its category) comes, in
this order, from the first dataset's metadata when it is known without reading a file (built-ins: HICO-DET's
official 600 classes, the HOI-W demo's pairs; custom data registered with it), from ``MODEL.GGNET.VALID_VERB_OBJECT``,
else it is unknown: the model then starts with every pair allowed, takes the one stored in its checkpoint, or adopts
the dataset's once the trainer has loaded the data (:func:`adopt_dataset_facts`).
"""
import logging

import numpy as np
from detectron2.data import MetadataCatalog

from ggnet_d2.data.datasets.lazy_metadata import resolved_value

__all__ = ["static_dataset_facts", "adopt_dataset_facts", "check_person_class_id"]

logger = logging.getLogger(__name__)


def _dataset_names(cfg):
    return list(cfg.DATASETS.TEST) + [n for n in cfg.DATASETS.TRAIN if n not in cfg.DATASETS.TEST]


def check_person_class_id(person_class_id, meta_person, dataset_name):
    """Raise ValueError when MODEL.GGNET.PERSON_CLASS_ID disagrees with a dataset's ``person_class_id``."""
    if meta_person is not None and int(meta_person) != int(person_class_id):
        raise ValueError(f"MODEL.GGNET.PERSON_CLASS_ID is {person_class_id} but dataset {dataset_name!r} has "
                         f"'person' at class {meta_person} (metadata person_class_id): set "
                         f"MODEL.GGNET.PERSON_CLASS_ID {meta_person}, or the humans are read from the wrong channel")


def _pairs_to_matrix(pairs, num_verbs, num_classes):
    valid = np.zeros((num_verbs, num_classes), dtype=bool)
    for pair in pairs:
        v, o = (int(x) for x in pair)
        if not (0 <= v < num_verbs and 0 <= o < num_classes):
            raise ValueError(f"MODEL.GGNET.VALID_VERB_OBJECT: pair {list(pair)} outside (NUM_VERBS, NUM_CLASSES) = "
                             f"({num_verbs}, {num_classes})")
        valid[v, o] = True
    return valid


def static_dataset_facts(cfg):
    """The correspondence of ``cfg``'s model without reading any dataset file, and the person-class check.

    Args:
        cfg (CfgNode): a GGNet config.

    Returns:
        (np.ndarray | None, str): ``valid_verb_object`` bool (NUM_VERBS, NUM_CLASSES) and its source
        ("metadata:<name>", "config"), or ``(None, "unknown")``.

    Raises:
        ValueError: PERSON_CLASS_ID disagrees with the ``person_class_id`` any train/test dataset states without a
            file read; a correspondence of the wrong shape; a config correspondence disagreeing with the metadata's.
    """
    g = cfg.MODEL.GGNET
    shape = (g.NUM_VERBS, g.NUM_CLASSES)
    names = _dataset_names(cfg)
    for name in names:
        check_person_class_id(g.PERSON_CLASS_ID, resolved_value(MetadataCatalog.get(name), "person_class_id"), name)
    from_config = _pairs_to_matrix(g.VALID_VERB_OBJECT, *shape) if len(g.VALID_VERB_OBJECT) else None
    if names:
        valid = resolved_value(MetadataCatalog.get(names[0]), "valid_verb_object")
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            if valid.shape != shape:
                raise ValueError(f"metadata '{names[0]}': valid_verb_object has shape {valid.shape}, expected "
                                 f"(NUM_VERBS, NUM_CLASSES) = {shape}")
            if from_config is not None and not np.array_equal(valid, from_config):
                raise ValueError(f"MODEL.GGNET.VALID_VERB_OBJECT disagrees with the valid_verb_object of dataset "
                                 f"{names[0]!r}; leave the key empty to use the dataset's")
            return valid, f"metadata:{names[0]}"
    if from_config is not None:
        return from_config, "config"
    return None, "unknown"


def adopt_dataset_facts(model, dataset_name):
    """Once ``dataset_name`` is loaded (its metadata may read files now): check the person class, and give a model
    whose correspondence is still unknown the dataset's.

    Args:
        model (GGNet | DistributedDataParallel): the model (``module`` is unwrapped).
        dataset_name (str): a registered dataset.

    Raises:
        ValueError: the dataset names "person" at a class other than the model's PERSON_CLASS_ID, or its
            correspondence has another shape than the model's.
    """
    model = getattr(model, "module", model)
    if not hasattr(model, "valid_verb_object_source"):
        return
    meta = MetadataCatalog.get(dataset_name)
    classes = meta.get("thing_classes", None)
    if classes is not None and "person" in classes:
        check_person_class_id(model.person_class_id, list(classes).index("person"), dataset_name)
    if model.valid_verb_object_source != "unknown":
        return
    valid = meta.get("valid_verb_object", None)
    if valid is None:
        return
    model.set_valid_verb_object(valid, f"metadata:{dataset_name}")
    logger.info(f"GGNet: verb-object correspondence taken from dataset {dataset_name!r} "
                f"({int(np.asarray(valid).sum())} valid pairs)")
