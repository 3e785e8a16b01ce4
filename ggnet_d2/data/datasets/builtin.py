"""Built-in HOI datasets under ``$DETECTRON2_DATASETS`` (default ``datasets/``), registered lazily on import.

Layout (PPDM/GGNet annotation release; see datasets/README.md):
  hico_20160224_det/annotations/{trainval_hico.json, test_hico.json, corre_hico.npy}
  hico_20160224_det/images/{train2015, test2015}
  v-coco/annotations/{trainval_vcoco.json, test_vcoco.json, corre_vcoco.npy}
  v-coco/images/{train2014, val2014}
  v-coco/data/vcoco/vcoco_test.json, v-coco/data/splits/vcoco_test.ids, v-coco/data/instances_vcoco_all_2014.json
  hoiw_demo/{annotations.json, images/}   (the HOI-W demo sample, e.g. DETECTRON2_DATASETS=../shared/data)
"""
import os
from collections import Counter

import numpy as np

from .constants import (
    COCO_THING_DATASET_IDS,
    HICO_OBJECTS_COCO_ORDER,
    HOIW_DEMO_PAIRS,
    HOIW_OBJECTS,
    HOIW_VERBS,
    VCOCO_PPDM_VERB_IDS,
    VCOCO_PPDM_VERB_NAMES,
)
from .hico_det import hico_official_correspondence, hico_official_hoi_classes, hico_ppdm_static_metadata
from .hoi_json import parse_dataset_id, rare_split, read_json_file
from .register_hoi import register_hoi_json

__all__ = ["register_all_builtin_hoi", "count_hoi_pairs", "load_correspondence", "hoiw_metadata"]

_HICO = {
    "hico_det_train": ("hico_20160224_det/annotations/trainval_hico.json", "hico_20160224_det/images/train2015"),
    "hico_det_test": ("hico_20160224_det/annotations/test_hico.json", "hico_20160224_det/images/test2015"),
}
_VCOCO = {
    "vcoco_trainval": ("v-coco/annotations/trainval_vcoco.json", "v-coco/images/train2014"),
    "vcoco_test": ("v-coco/annotations/test_vcoco.json", "v-coco/images/val2014"),
}


def count_hoi_pairs(json_file, thing_map, verb_map):
    """Count HOI instances per (verb, object) contiguous pair in a PPDM/GGNet JSON, without image access.

    HOIs with an out-of-range box index or an unknown id are not counted (the loader reports them).

    Returns:
        collections.Counter: (verb_id, category_id) -> instances.
    """
    raw = read_json_file(json_file)
    counts = Counter()
    for r in raw if isinstance(raw, list) else ():
        if not isinstance(r, dict) or not isinstance(r.get("hoi_annotation"), list):
            continue
        anns = r.get("annotations")
        for h in r["hoi_annotation"]:
            try:
                o = parse_dataset_id(h["object_id"])
                if o < 0:
                    raise IndexError(o)
                pair = (verb_map[parse_dataset_id(h["category_id"])],
                        thing_map[parse_dataset_id(anns[o]["category_id"])])
            except (KeyError, ValueError, IndexError, TypeError):
                continue
            counts[pair] += 1
    return counts


def load_correspondence(npy_file, num_verbs, num_classes):
    """A PPDM ``corre_*.npy`` as bool (V, C); a (C, V) file is transposed.

    Raises:
        ValueError: naming the file when the shape is neither (V, C) nor (C, V).
    """
    m = np.load(npy_file)
    if m.shape == (num_verbs, num_classes):
        return m.astype(bool)
    if m.shape == (num_classes, num_verbs):
        return m.T.astype(bool)
    raise ValueError(f"{npy_file}: correspondence of shape {m.shape}, expected ({num_verbs}, {num_classes})")


def _resolver(static, corre_file, train_json, order, default_valid=None):
    """Lazy metadata of a built-in: correspondence from ``corre_file`` (else ``default_valid()``, else the training
    pairs), triplet list ``order(valid)``, rare = < 10 instances in ``train_json``."""
    def resolve():
        V, C = len(static["verb_classes"]), len(static["thing_classes"])
        counts = count_hoi_pairs(train_json, static["thing_dataset_id_to_contiguous_id"],
                                 static["verb_dataset_id_to_contiguous_id"])
        if os.path.isfile(corre_file):
            valid = load_correspondence(corre_file, V, C)
        elif default_valid is not None:
            valid = default_valid()
        else:
            valid = np.zeros((V, C), dtype=bool)
            for v, o in counts:
                valid[v, o] = True
        hoi_classes = order(valid)
        rare, non_rare = rare_split([counts.get(p, 0) for p in hoi_classes])
        return {"valid_verb_object": valid, "hoi_classes": hoi_classes, "rare_hoi_ids": rare,
                "non_rare_hoi_ids": non_rare}
    return resolve


def _hico_order(valid):
    return hico_official_hoi_classes()


def _object_then_verb(valid):
    return sorted(((int(v), int(o)) for v, o in np.argwhere(valid)), key=lambda p: (p[1], p[0]))


def hoiw_metadata():
    """Class lists and id maps of HOI-W ("HOI in the Wild", PIC challenge): 11 objects and 10 verbs, file ids 1-based."""
    return {
        "thing_classes": list(HOIW_OBJECTS),
        "verb_classes": list(HOIW_VERBS),
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(HOIW_OBJECTS))},
        "verb_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(HOIW_VERBS))},
    }


def hoiw_demo_correspondence():
    """bool (10, 11): the (verb, object) pairs of the built-in HOI-W demo sample (``HOIW_DEMO_PAIRS``)."""
    valid = np.zeros((len(HOIW_VERBS), len(HOIW_OBJECTS)), dtype=bool)
    for verb, obj in HOIW_DEMO_PAIRS:
        valid[HOIW_VERBS.index(verb), HOIW_OBJECTS.index(obj)] = True
    return valid


def register_all_builtin_hoi(root=None, prefix=""):
    """Register hico_det_train, hico_det_test, vcoco_trainval, vcoco_test and hoiw_demo under ``root`` without reading
    anything.

    Known without any file (static metadata, what a model needs to be built): class and verb lists, person id, and
    the correspondence ``valid_verb_object`` of HICO-DET (its official 600 HOI classes) and of the HOI-W demo sample.
    V-COCO has none: its definition (Gupta & Malik 2015) does not restrict the object category of a role, and the
    correspondence PPDM uses (``corre_vcoco.npy``) is counted from its training data, so V-COCO's is resolved with
    the data (``corre_vcoco.npy`` when present, else the training pairs), and a model gets it from its checkpoint or
    from the data when the trainer loads it.

    Args:
        root (str | None): default ``$DETECTRON2_DATASETS`` or "datasets".
        prefix (str): prepended to the names (tests register a second copy under a temporary root).
    """
    root = root or os.getenv("DETECTRON2_DATASETS", "datasets")
    hico_static = hico_ppdm_static_metadata()
    hico_static.update(valid_verb_object=hico_official_correspondence(), hoi_classes=hico_official_hoi_classes())
    hico_train = os.path.join(root, _HICO["hico_det_train"][0])
    for name, (json_file, image_root) in _HICO.items():
        # The official 600 classes are HICO-DET's correspondence (PPDM's corre_hico.npy holds the same pairs); only
        # the rare split is counted from the training file, when first read.
        register_hoi_json(prefix + name, os.path.join(root, json_file), os.path.join(root, image_root),
                          dict(hico_static),
                          resolve=_resolver(hico_static, "", hico_train, _hico_order, hico_official_correspondence))

    vcoco_static = {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        "verb_classes": [VCOCO_PPDM_VERB_NAMES[i] for i in VCOCO_PPDM_VERB_IDS],
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(COCO_THING_DATASET_IDS)},
        "verb_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(VCOCO_PPDM_VERB_IDS)},
        "ignored_verb_dataset_ids": sorted(set(VCOCO_PPDM_VERB_NAMES) - set(VCOCO_PPDM_VERB_IDS)),
        "evaluator_type": "vcoco",
        "vcoco_ann_file": os.path.join(root, "v-coco/data/vcoco/vcoco_test.json"),
        "vcoco_ids_file": os.path.join(root, "v-coco/data/splits/vcoco_test.ids"),
        "coco_annotation_file": os.path.join(root, "v-coco/data/instances_vcoco_all_2014.json"),
    }
    vcoco_train = os.path.join(root, _VCOCO["vcoco_trainval"][0])
    vcoco_corre = os.path.join(root, "v-coco/annotations/corre_vcoco.npy")
    for name, (json_file, image_root) in _VCOCO.items():
        register_hoi_json(prefix + name, os.path.join(root, json_file), os.path.join(root, image_root),
                          dict(vcoco_static),
                          resolve=_resolver(vcoco_static, vcoco_corre, vcoco_train, _object_then_verb))
    register_hoi_json(prefix + "hoiw_demo", os.path.join(root, "hoiw_demo", "annotations.json"),
                      os.path.join(root, "hoiw_demo", "images"),
                      dict(hoiw_metadata(), valid_verb_object=hoiw_demo_correspondence()))
