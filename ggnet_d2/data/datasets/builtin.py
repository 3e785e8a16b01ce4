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

from ...formats.ids import parse_dataset_id
from ...formats.vocabulary import (
    COCO_THING_DATASET_IDS,
    HICO_OBJECTS_COCO_ORDER,
    HICO_RARE_HOI_IDS,
    HOIW_DEMO_PAIRS,
    HOIW_OBJECTS,
    HOIW_VERBS,
    VCOCO_PPDM_VERB_IDS,
    VCOCO_PPDM_VERB_NAMES,
)
from .hico_det import hico_official_correspondence, hico_official_hoi_classes, hico_ppdm_static_metadata
from .hoi_json import rare_split, read_json_file
from .register_hoi import register_hoi_json

__all__ = ["register_all_builtin_hoi", "count_hoi_pairs", "load_correspondence", "load_vcoco_correspondence",
           "hoiw_metadata"]

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


def load_vcoco_correspondence(npy_file, num_verbs, num_classes):
    """V-COCO's ``corre_vcoco.npy`` as bool (29, C) over PPDM's 29 verb ids: PPDM's file covers its 25 trained
    action-roles (``VCOCO_PPDM_VERB_IDS``, in that order); the 4 agent-only actions pair the person with itself.

    Raises:
        ValueError: naming the file when its shape is neither (29 or 25, C) nor its transpose.
    """
    trained = len(VCOCO_PPDM_VERB_IDS)
    if np.load(npy_file).size != trained * num_classes:
        return load_correspondence(npy_file, num_verbs, num_classes)
    part = load_correspondence(npy_file, trained, num_classes)
    valid = np.zeros((num_verbs, num_classes), dtype=bool)
    valid[list(VCOCO_PPDM_VERB_IDS)] = part
    agent_only = sorted(set(VCOCO_PPDM_VERB_NAMES) - set(VCOCO_PPDM_VERB_IDS))
    valid[agent_only, 0] = True
    return valid


def _resolver(static, corre_file, train_json, order, default_valid=None, fixed_rare=None, load=None):
    """Lazy metadata of a built-in: correspondence from ``corre_file`` (else ``default_valid()``, else the training
    pairs), triplet list ``order(valid)``, rare = ``fixed_rare`` (HICO-DET's official split) or < 10 instances in
    ``train_json``. Without the training file, a split with a fixed rare list and a correspondence resolves all the
    same (scoring needs only the test annotations); otherwise there is no rare split (keys None)."""
    load = load or load_correspondence

    def resolve():
        V, C = len(static["verb_classes"]), len(static["thing_classes"])
        if fixed_rare is not None and (os.path.isfile(corre_file) or default_valid is not None):
            valid = load(corre_file, V, C) if os.path.isfile(corre_file) else default_valid()
            hoi_classes = order(valid)
            rare = sorted(int(i) for i in fixed_rare)
            return {"valid_verb_object": valid, "hoi_classes": hoi_classes, "rare_hoi_ids": rare,
                    "non_rare_hoi_ids": sorted(set(range(len(hoi_classes))) - set(rare))}
        if not os.path.isfile(train_json) and os.path.isfile(corre_file):
            valid = load(corre_file, V, C)
            return {"valid_verb_object": valid, "hoi_classes": order(valid), "rare_hoi_ids": None,
                    "non_rare_hoi_ids": None}
        counts = count_hoi_pairs(train_json, static["thing_dataset_id_to_contiguous_id"],
                                 static["verb_dataset_id_to_contiguous_id"])
        if os.path.isfile(corre_file):
            valid = load(corre_file, V, C)
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
    """Register hico_det_train, hico_det_test, vcoco_trainval, vcoco_test (all 26 actions: 29 verbs),
    vcoco_trainval_ppdm25, vcoco_test_ppdm25 (PPDM's 25 trained verbs, for the authors' released models) and hoiw_demo
    under ``root`` without reading anything.

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
        # The official 600 classes are HICO-DET's correspondence (PPDM's corre_hico.npy holds the same pairs) and the
        # official rare list its rare split: neither needs a file. HICO's image-level labels: Known-Object mode uses
        # them when the file is there (hico_det_evaluation.py).
        static = dict(hico_static, hico_split=name.rsplit("_", 1)[1],
                      hico_image_labels_file=os.path.join(root, "hico_20160224_det", "anno.mat"))
        register_hoi_json(prefix + name, os.path.join(root, json_file), os.path.join(root, image_root), static,
                          resolve=_resolver(hico_static, "", hico_train, _hico_order, hico_official_correspondence,
                                            HICO_RARE_HOI_IDS))

    vcoco_static = {
        "thing_classes": list(HICO_OBJECTS_COCO_ORDER),
        # all 26 actions: the 25 action-roles and the 4 agent-only actions (verb = PPDM's id; vcoco_evaluation.py)
        "verb_classes": [VCOCO_PPDM_VERB_NAMES[i] for i in sorted(VCOCO_PPDM_VERB_NAMES)],
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {d: i for i, d in enumerate(COCO_THING_DATASET_IDS)},
        "verb_dataset_id_to_contiguous_id": {d: d for d in sorted(VCOCO_PPDM_VERB_NAMES)},
        "evaluator_type": "vcoco",
        "vcoco_ann_file": os.path.join(root, "v-coco/data/vcoco/vcoco_test.json"),
        "vcoco_ids_file": os.path.join(root, "v-coco/data/splits/vcoco_test.ids"),
        "coco_annotation_file": os.path.join(root, "v-coco/data/instances_vcoco_all_2014.json"),
    }
    vcoco_train = os.path.join(root, _VCOCO["vcoco_trainval"][0])
    vcoco_corre = os.path.join(root, "v-coco/annotations/corre_vcoco.npy")
    # PPDM's / GGNet's 25 trained action-roles (agent-only actions ignored): the verb space of their released models
    ppdm25 = dict(vcoco_static, verb_classes=[VCOCO_PPDM_VERB_NAMES[i] for i in VCOCO_PPDM_VERB_IDS],
                  verb_dataset_id_to_contiguous_id={d: i for i, d in enumerate(VCOCO_PPDM_VERB_IDS)},
                  ignored_verb_dataset_ids=sorted(set(VCOCO_PPDM_VERB_NAMES) - set(VCOCO_PPDM_VERB_IDS)))
    for name, (json_file, image_root) in _VCOCO.items():
        for suffix, static, load in (("", vcoco_static, load_vcoco_correspondence),
                                     ("_ppdm25", ppdm25, load_correspondence)):
            register_hoi_json(prefix + name + suffix, os.path.join(root, json_file), os.path.join(root, image_root),
                              dict(static), resolve=_resolver(static, vcoco_corre, vcoco_train, _object_then_verb,
                                                              load=load))
    register_hoi_json(prefix + "hoiw_demo", os.path.join(root, "hoiw_demo", "annotations.json"),
                      os.path.join(root, "hoiw_demo", "images"),
                      dict(hoiw_metadata(), valid_verb_object=hoiw_demo_correspondence()))
