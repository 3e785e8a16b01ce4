"""Zero-shot HICO-DET training (issue 23 items 3-4): the unseen HOI classes of a split (the published lists are in
``ggnet_d2/formats/zero_shot_splits.py``, with their sources) removed from training, and the checks that nothing
suppresses them at test time.

Training without the unseen classes (``DATASETS.HOI.ZERO_SHOT_REMOVAL``):

- ``"pair"`` (GEN-VLKT, ``datasets/hico.py`` ``HICODetection.__init__``): every HOI annotation of a (subject,
  object) pair that carries an unseen HOI is dropped, so the pair teaches nothing; boxes used only by dropped pairs
  are dropped too (GEN-VLKT supervises boxes through pairs only); images left without any HOI are dropped.
- ``"label"`` (EoID, ``datasets/hico_ua_base.py`` / ``hico_uc_base.py``, "delete all unseen label"): only the unseen
  HOI annotations go; every image and box is kept.

The training mapper draws HNA hard negatives (Sec. 3.3) from the seen classes only (``zero_shot_mapper_overrides``).
A class is recognised by its (verb, object category) pair, so datasets whose ``hoi_id`` is -1 work too. The test
split is never filtered: it is scored on all classes, reported as Full / Seen / Unseen.
"""
import logging

import numpy as np

from ..formats.zero_shot_splits import ZERO_SHOT_SPLITS, unseen_hoi_ids

__all__ = ["ZERO_SHOT_SPLITS", "ZERO_SHOT_REMOVALS", "unseen_hoi_ids", "remove_unseen_hois", "annotated_verb_objects",
           "check_zero_shot_restriction", "check_model_zero_shot_restriction", "zero_shot_unseen_pairs",
           "zero_shot_train_dicts", "zero_shot_mapper_overrides"]

logger = logging.getLogger(__name__)

ZERO_SHOT_REMOVALS = ("pair", "label")


def remove_unseen_hois(dataset_dicts, unseen_pairs, removal="pair", dataset_name="dataset"):
    """Training dicts without the unseen HOI classes (module docstring); the input is not modified.

    Args:
        dataset_dicts (list[dict]): detectron2 dataset dicts with ``hoi_annotations`` (docs/interfaces.md).
        unseen_pairs (set[tuple[int, int]]): (verb id, object category id) of the unseen classes.
        removal (str): "pair" or "label".
        dataset_name (str): for the log line.

    Returns:
        (list[dict], dict): the dicts kept, and counts ``images``, ``images_kept``, ``hois``, ``hois_removed``,
        ``boxes_removed``.

    Raises:
        ValueError: unknown ``removal``.
    """
    if removal not in ZERO_SHOT_REMOVALS:
        raise ValueError(f"DATASETS.HOI.ZERO_SHOT_REMOVAL must be one of {ZERO_SHOT_REMOVALS}, got {removal!r}")
    kept, stats = [], dict(images=len(dataset_dicts), images_kept=0, hois=0, hois_removed=0, boxes_removed=0)
    for d in dataset_dicts:
        anns, hois = d.get("annotations", []), d.get("hoi_annotations", [])
        stats["hois"] += len(hois)

        def unseen(h):
            return (int(h["verb_id"]), int(anns[h["object_id"]]["category_id"])) in unseen_pairs

        if removal == "label":
            new_hois = [h for h in hois if not unseen(h)]
            stats["hois_removed"] += len(hois) - len(new_hois)
            kept.append(dict(d, hoi_annotations=new_hois))
            continue
        bad_pairs = {(h["subject_id"], h["object_id"]) for h in hois if unseen(h)}
        if not bad_pairs:
            kept.append(d)
            continue
        new_hois = [h for h in hois if (h["subject_id"], h["object_id"]) not in bad_pairs]
        stats["hois_removed"] += len(hois) - len(new_hois)
        if not new_hois:
            stats["boxes_removed"] += len(anns)
            continue
        used = {i for h in new_hois for i in (h["subject_id"], h["object_id"])}
        in_bad = {i for p in bad_pairs for i in p}
        keep_box = [i for i in range(len(anns)) if i in used or i not in in_bad]
        new_index = {old: new for new, old in enumerate(keep_box)}
        stats["boxes_removed"] += len(anns) - len(keep_box)
        kept.append(dict(d, annotations=[anns[i] for i in keep_box],
                         hoi_annotations=[dict(h, subject_id=new_index[h["subject_id"]],
                                               object_id=new_index[h["object_id"]]) for h in new_hois]))
    stats["images_kept"] = len(kept)
    logger.info(f"zero-shot training set from {dataset_name!r} ({removal!r} removal): {stats['hois_removed']} of "
                f"{stats['hois']} HOI annotations and {stats['boxes_removed']} boxes removed, "
                f"{stats['images_kept']} of {stats['images']} images kept")
    return kept, stats


def annotated_verb_objects(dataset_dicts, num_verbs, num_classes):
    """The verb-object restriction one would take from annotations: the (verb, object category) pairs that occur.

    Taken from the training dicts of a zero-shot split it lacks every unseen class, which is why
    :func:`check_zero_shot_restriction` refuses it; ``tools/zero_shot_training_restriction.py`` evaluates a model
    under it to show what it costs.

    Args:
        dataset_dicts (list[dict]): detectron2 dataset dicts with ``annotations`` and ``hoi_annotations``
            (contiguous ids, docs/interfaces.md).
        num_verbs, num_classes (int): the shape (V, C).

    Returns:
        np.ndarray: bool (num_verbs, num_classes), True where the pair is annotated at least once.

    Raises:
        ValueError: a verb or object id outside the shape (naming the image).
    """
    valid = np.zeros((num_verbs, num_classes), dtype=bool)
    for d in dataset_dicts:
        anns = d.get("annotations", [])
        for h in d.get("hoi_annotations", []):
            v, o = int(h["verb_id"]), int(anns[h["object_id"]]["category_id"])
            if not (0 <= v < num_verbs and 0 <= o < num_classes):
                raise ValueError(f"{d.get('file_name', '?')}: (verb, object) {(v, o)} outside (V, C) = "
                                 f"{(num_verbs, num_classes)}")
            valid[v, o] = True
    return valid


def check_zero_shot_restriction(valid_verb_object, source, unseen_pairs, split):
    """Under a zero-shot split the test-time verb-object restriction must admit every unseen class: one taken from
    training annotations would suppress them all, silently. Logs where it comes from.

    Args:
        valid_verb_object (array bool (V, C) | None): the model's restriction (None: off).
        source (str): where it came from (``GGNet.valid_verb_object_source``).
        unseen_pairs (iterable[tuple[int, int]]): (verb, object) of the unseen classes.
        split (str): the split's name, for the messages.

    Raises:
        ValueError: the restriction excludes an unseen class.
    """
    unseen_pairs = list(unseen_pairs)
    if valid_verb_object is None:
        logger.info(f"zero-shot split {split!r}: no verb-object restriction at test time")
        return
    valid = np.asarray(valid_verb_object, dtype=bool)
    blocked = [(v, o) for v, o in unseen_pairs if not (v < valid.shape[0] and o < valid.shape[1] and valid[v, o])]
    if blocked:
        raise ValueError(f"zero-shot split {split!r}: the verb-object restriction (from {source}) excludes "
                         f"{len(blocked)} unseen (verb, object) classes, e.g. {blocked[:5]}; it must come from the "
                         f"full HOI class list, never from the training annotations (or set "
                         f"MODEL.GGNET.TEST.MATCH_VALID_OBJECTS_ONLY False)")
    logger.info(f"zero-shot split {split!r}: verb-object restriction at test time from {source} "
                f"({int(valid.sum())} pairs, the full HOI class list: all {len(unseen_pairs)} unseen classes "
                f"admitted), not from the training annotations")


def zero_shot_unseen_pairs(cfg, dataset_name):
    """(verb, object) pairs of the unseen classes of ``cfg.DATASETS.HOI.ZERO_SHOT_SPLIT`` in ``dataset_name``'s
    ``hoi_classes`` (metadata; may resolve it from its files); an empty set when no split is set.

    Raises:
        ValueError: as :func:`unseen_hoi_ids`, or a dataset without ``hoi_classes``.
    """
    from detectron2.data import MetadataCatalog

    h = cfg.DATASETS.HOI
    if not h.ZERO_SHOT_SPLIT:
        return set()
    hoi_classes = MetadataCatalog.get(dataset_name).get("hoi_classes", None)
    if not hoi_classes:
        raise ValueError(f"zero-shot split {h.ZERO_SHOT_SPLIT!r}: dataset {dataset_name!r} has no hoi_classes")
    ids = unseen_hoi_ids(h.ZERO_SHOT_SPLIT, h.ZERO_SHOT_UNSEEN, len(hoi_classes))
    return {tuple(int(x) for x in hoi_classes[i]) for i in ids}


def zero_shot_train_dicts(cfg):
    """The dicts of ``cfg.DATASETS.TRAIN`` (detectron2's ``get_detection_dataset_dicts``) without the unseen classes
    of ``cfg.DATASETS.HOI.ZERO_SHOT_SPLIT``, removed per ``ZERO_SHOT_REMOVAL``.

    Returns:
        list[dict].
    """
    from detectron2.data import get_detection_dataset_dicts

    out = []
    for name in cfg.DATASETS.TRAIN:
        dicts = get_detection_dataset_dicts([name], filter_empty=cfg.DATALOADER.FILTER_EMPTY_ANNOTATIONS)
        kept, _ = remove_unseen_hois(dicts, zero_shot_unseen_pairs(cfg, name), cfg.DATASETS.HOI.ZERO_SHOT_REMOVAL,
                                     name)
        out.extend(kept)
    return out


def check_model_zero_shot_restriction(model, cfg, dataset_name):
    """:func:`check_zero_shot_restriction` on a GGNet (or its DDP wrapper) before testing on ``dataset_name``; a
    no-op without a zero-shot split. The restriction is off when MODEL.GGNET.TEST.MATCH_VALID_OBJECTS_ONLY is False.
    """
    if not cfg.DATASETS.HOI.ZERO_SHOT_SPLIT:
        return
    model = getattr(model, "module", model)
    valid = getattr(model, "valid_verb_object", None)
    if not getattr(model, "match_valid_objects_only", True):
        valid = None
    check_zero_shot_restriction(None if valid is None else valid.cpu().numpy(),
                                getattr(model, "valid_verb_object_source", "unknown"),
                                zero_shot_unseen_pairs(cfg, dataset_name), cfg.DATASETS.HOI.ZERO_SHOT_SPLIT)


def zero_shot_mapper_overrides(cfg):
    """HOIDatasetMapper overrides for training under a zero-shot split: its ``valid_verb_object`` (which verbs are
    hard negatives of a pair, Sec. 3.3) without the unseen classes, so the HNA loss does not push the unseen
    compositions down at the seen pairs of the same objects (training knows only the seen classes). ``{}`` without a
    split or without a correspondence in the training metadata.
    """
    if not cfg.DATASETS.HOI.ZERO_SHOT_SPLIT or not len(cfg.DATASETS.TRAIN):
        return {}
    from detectron2.data import MetadataCatalog

    name = cfg.DATASETS.TRAIN[0]
    valid = MetadataCatalog.get(name).get("valid_verb_object", None)
    if valid is None:
        return {}
    seen = np.array(valid, dtype=bool, copy=True)
    pairs = zero_shot_unseen_pairs(cfg, name)
    for v, o in pairs:
        seen[v, o] = False
    logger.info(f"zero-shot split {cfg.DATASETS.HOI.ZERO_SHOT_SPLIT!r}: hard negatives of training pairs drawn from "
                f"the {int(seen.sum())} seen (verb, object) classes only ({len(pairs)} unseen left out)")
    return {"valid_verb_object": seen}
