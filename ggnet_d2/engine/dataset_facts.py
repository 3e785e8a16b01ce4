"""What GGNet needs to know about its datasets, found by the engine (never by the model, which reads only its
config): the verb-object correspondence, the person class, and the class mapping of an external detector.

``setup_cfg`` calls :func:`add_dataset_facts` before freezing the config: the correspondence ``valid_verb_object``
(bool (V, C), Sec. 3.4 / Eq. 8: an object is matched to an interaction only for a verb that admits its category) is
copied into ``MODEL.GGNET.VALID_VERB_OBJECT`` (with ``VALID_VERB_OBJECT_SOURCE`` "metadata:<name>") from the first
dataset's metadata when it is known without reading a file (built-ins: HICO-DET's official 600 classes, the HOI-W
demo's pairs; custom data registered with it); pairs given in the config must agree with it. Else the model starts
with every pair allowed, takes the one stored in its checkpoint, or adopts the dataset's once the trainer has loaded
the data (:func:`adopt_dataset_facts`).

Precedence (``GGNet.valid_verb_object_source``): a correspondence known when the model is built ("metadata:<name>" or
"config") is kept when a checkpoint carries another (with a warning); an "unknown" one is replaced by the checkpoint's
("checkpoint") or, once the data is loaded, by the dataset's ("metadata:<name>").
"""
import logging

import numpy as np
from detectron2.data import MetadataCatalog

from ggnet_d2.data.datasets.lazy_metadata import resolved_value
from ggnet_d2.data.external_detections import build_external_inputs
from ggnet_d2.modeling.meta_arch.verb_object import valid_verb_object_from_config
from ggnet_d2.utils.external_detections import class_table_by_name, detector_config

__all__ = ["add_dataset_facts", "static_dataset_facts", "adopt_dataset_facts", "check_person_class_id"]

logger = logging.getLogger(__name__)


def _dataset_names(cfg):
    return list(cfg.DATASETS.TEST) + [n for n in cfg.DATASETS.TRAIN if n not in cfg.DATASETS.TEST]


def check_person_class_id(person_class_id, meta_person, dataset_name):
    """Raise ValueError when MODEL.GGNET.PERSON_CLASS_ID disagrees with a dataset's ``person_class_id``."""
    if meta_person is not None and int(meta_person) != int(person_class_id):
        raise ValueError(f"MODEL.GGNET.PERSON_CLASS_ID is {person_class_id} but dataset {dataset_name!r} has "
                         f"'person' at class {meta_person} (metadata person_class_id): set "
                         f"MODEL.GGNET.PERSON_CLASS_ID {meta_person}, or the humans are read from the wrong channel")


def static_dataset_facts(cfg):
    """The correspondence of ``cfg``'s datasets without reading any dataset file, and the person-class check.

    Args:
        cfg (CfgNode): a GGNet config.

    Returns:
        (np.ndarray | None, str): ``valid_verb_object`` bool (NUM_VERBS, NUM_CLASSES) and its source
        ("metadata:<name>", or the config's: ``valid_verb_object_from_config``), or ``(None, "unknown")``.

    Raises:
        ValueError: PERSON_CLASS_ID disagrees with the ``person_class_id`` any train/test dataset states without a
            file read; a correspondence of the wrong shape; a config correspondence disagreeing with the metadata's.
    """
    g = cfg.MODEL.GGNET
    shape = (g.NUM_VERBS, g.NUM_CLASSES)
    names = _dataset_names(cfg)
    for name in names:
        check_person_class_id(g.PERSON_CLASS_ID, resolved_value(MetadataCatalog.get(name), "person_class_id"), name)
    from_config, config_source = valid_verb_object_from_config(cfg)
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
    return from_config, config_source


def _external_class_map(cfg):
    """EXTERNAL_DETECTIONS.CLASS_MAP of a detectron2 detector by class name: the detector's ``thing_classes``
    (metadata of its ``DATASETS.TEST[0]``, e.g. COCO's 80) against the GGNet dataset's (``DATASETS.TEST[0]``).

    Raises:
        ValueError: either dataset lacks ``thing_classes``.
    """
    det = detector_config(cfg)
    det_name = (list(det.DATASETS.TEST) or list(det.DATASETS.TRAIN) or [None])[0]
    name = (list(cfg.DATASETS.TEST) or list(cfg.DATASETS.TRAIN) or [None])[0]
    det_classes = MetadataCatalog.get(det_name).get("thing_classes", None) if det_name else None
    classes = MetadataCatalog.get(name).get("thing_classes", None) if name else None
    if det_classes is None or classes is None:
        raise ValueError(f"EXTERNAL_DETECTIONS: cannot map detector classes by name (detector dataset {det_name!r}, "
                         f"GGNet dataset {name!r} need thing_classes metadata); set EXTERNAL_DETECTIONS.CLASS_MAP")
    table = class_table_by_name(det_classes, classes)
    logger.info(f"External detector classes mapped by name: {int((table >= 0).sum())} of {len(det_classes)} "
                f"({det_name}) found among {len(classes)} ({name})")
    return table.tolist()


def add_dataset_facts(cfg):
    """Write into the (unfrozen) ``cfg`` the dataset facts its model reads: the correspondence known without a file
    read (``static_dataset_facts``) and, for a detectron2 detector without CLASS_MAP, its class mapping by name; the
    external source's keys are checked here, before any data is read.

    Returns:
        CfgNode: ``cfg``, changed in place.

    Raises:
        ValueError: see ``static_dataset_facts`` and ``_external_class_map``; a bad external source (its message).
        KeyError: an unknown EXTERNAL_DETECTIONS.SOURCE.
    """
    g = cfg.MODEL.GGNET
    valid, source = static_dataset_facts(cfg)
    if valid is not None:
        g.VALID_VERB_OBJECT = [[int(v), int(o)] for v, o in np.argwhere(valid)]
        g.VALID_VERB_OBJECT_SOURCE = source
    if g.EXTERNAL_DETECTIONS.SOURCE == "detectron2" and not list(g.EXTERNAL_DETECTIONS.CLASS_MAP):
        g.EXTERNAL_DETECTIONS.CLASS_MAP = _external_class_map(cfg)
    build_external_inputs(cfg)
    return cfg


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
