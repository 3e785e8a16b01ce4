"""Zero-shot HOI splits of HICO-DET and the removal of unseen HOIs from training (issue 23 items 3-4).

The splits are the published lists of unseen HOI classes, 0-based positions in HICO-DET's official 600-class order
(``list_action``; the order of ``HICO_HOI_LIST`` here, which is also the order of GEN-VLKT's ``hico_text_label``):

- ``rare_first`` (RF-UC, 120 classes), ``non_rare_first`` (NF-UC, 120), ``unseen_object`` (UO, 100: every class of
  12 objects), ``unseen_verb`` (UV, 84: every class of 20 verbs): GEN-VLKT's ``hico_unseen_index``,
  github.com/YueLiao/gen-vlkt ``datasets/hico_text_label.py``, commit a4773f54f1a9edec495a2c2b6785670ef284d1fc
  (the last change of that file; repository head 191fc74e967d6965e9ae7b3a5d423db501f38c79). The compositional
  splits were introduced by VCL (Hou et al., ECCV 2020), UO by FCL/ATL, UV by GEN-VLKT.
- ``unseen_action_eoid`` (UA, 100 classes: every class of 22 verbs): EoID's ``UA_HOI_IDX``, github.com/mrwu-mac/EoID
  ``datasets/static_hico.py``, commit 7212a557d6d1dbf5d99c90de6b813e38645e7dc8 (repository head
  6bc11d5821fd9a6be2f47e571eb4d57f81284095). EoID's NF-UC and UO lists equal GEN-VLKT's; EoID's "rare_first"
  (``RARE_HOI_IDX``) is all 138 rare classes, offered as ``rare_first_eoid``.
- ``custom``: ``DATASETS.HOI.ZERO_SHOT_UNSEEN`` (HOI class ids of the dataset's ``hoi_classes``), e.g. for the
  synthetic check.

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

from .datasets.constants import HICO_RARE_HOI_IDS

__all__ = ["ZERO_SHOT_SPLITS", "ZERO_SHOT_REMOVALS", "unseen_hoi_ids", "remove_unseen_hois",
           "check_zero_shot_restriction", "check_model_zero_shot_restriction", "zero_shot_unseen_pairs",
           "zero_shot_train_dicts", "zero_shot_mapper_overrides"]

logger = logging.getLogger(__name__)

ZERO_SHOT_REMOVALS = ("pair", "label")

_RARE_FIRST = (
    509, 279, 280, 402, 504, 286, 499, 498, 289, 485, 303, 311, 325, 439, 351, 358, 66, 427, 379, 418, 70, 416,
    389, 90, 395, 76, 397, 84, 135, 262, 401, 592, 560, 586, 548, 593, 526, 181, 257, 539, 535, 260, 596, 345,
    189, 205, 206, 429, 179, 350, 405, 522, 449, 261, 255, 546, 547, 44, 22, 334, 599, 239, 315, 317, 229, 158,
    195, 238, 364, 222, 281, 149, 399, 83, 127, 254, 398, 403, 555, 552, 520, 531, 440, 436, 482, 274, 8, 188,
    216, 597, 77, 407, 556, 469, 474, 107, 390, 410, 27, 381, 463, 99, 184, 100, 292, 517, 80, 333, 62, 354,
    104, 55, 50, 198, 168, 391, 192, 595, 136, 581,
)

_NON_RARE_FIRST = (
    38, 41, 20, 18, 245, 11, 19, 154, 459, 42, 155, 139, 60, 461, 577, 153, 582, 89, 141, 576, 75, 212, 472, 61,
    457, 146, 208, 94, 471, 131, 248, 544, 515, 566, 370, 481, 226, 250, 470, 323, 169, 480, 479, 230, 385, 73,
    159, 190, 377, 176, 249, 371, 284, 48, 583, 53, 162, 140, 185, 106, 294, 56, 320, 152, 374, 338, 29, 594,
    346, 456, 589, 45, 23, 67, 478, 223, 493, 228, 240, 215, 91, 115, 337, 559, 7, 218, 518, 297, 191, 266, 304,
    6, 572, 529, 312, 9, 308, 417, 197, 193, 163, 455, 25, 54, 575, 446, 387, 483, 534, 340, 508, 110, 329, 246,
    173, 506, 383, 93, 516, 64,
)

_UNSEEN_OBJECT = (
    111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 224, 225, 226,
    227, 228, 229, 230, 231, 290, 291, 292, 293, 294, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 323,
    324, 336, 337, 338, 339, 340, 341, 418, 419, 420, 421, 422, 423, 424, 425, 426, 427, 428, 429, 430, 431,
    432, 433, 453, 454, 455, 456, 457, 458, 459, 460, 461, 462, 463, 464, 465, 466, 467, 468, 469, 470, 471,
    472, 473, 533, 534, 535, 536, 537, 558, 559, 560, 561, 595, 596, 597, 598, 599,
)

_UNSEEN_VERB = (
    4, 6, 12, 15, 18, 25, 34, 38, 40, 49, 58, 60, 68, 69, 72, 73, 77, 82, 96, 97, 104, 113, 116, 118, 122, 129,
    139, 147, 150, 153, 165, 166, 172, 175, 176, 181, 190, 202, 210, 212, 219, 227, 228, 233, 235, 243, 298,
    313, 315, 320, 326, 336, 342, 345, 354, 372, 401, 404, 409, 431, 436, 459, 466, 470, 472, 479, 481, 488,
    491, 494, 498, 504, 519, 523, 535, 536, 541, 544, 562, 565, 569, 572, 591, 595,
)

_UNSEEN_ACTION_EOID = (
    2, 10, 14, 20, 27, 33, 36, 42, 46, 57, 68, 81, 82, 86, 90, 92, 101, 103, 109, 111, 116, 120, 121, 122, 123,
    136, 137, 138, 140, 141, 149, 152, 155, 160, 161, 170, 172, 174, 180, 188, 205, 208, 215, 222, 225, 236,
    247, 260, 265, 271, 273, 279, 283, 288, 295, 300, 301, 306, 310, 311, 315, 318, 319, 337, 344, 352, 356,
    363, 369, 373, 374, 419, 425, 427, 438, 453, 458, 461, 464, 468, 471, 475, 480, 486, 489, 490, 496, 504,
    506, 513, 516, 524, 528, 533, 542, 555, 565, 576, 590, 597,
)

ZERO_SHOT_SPLITS = {
    "rare_first": _RARE_FIRST,
    "non_rare_first": _NON_RARE_FIRST,
    "unseen_object": _UNSEEN_OBJECT,
    "unseen_verb": _UNSEEN_VERB,
    "unseen_action_eoid": _UNSEEN_ACTION_EOID,
    "rare_first_eoid": tuple(HICO_RARE_HOI_IDS),
}


def unseen_hoi_ids(split, custom=(), num_hoi_classes=600):
    """Sorted unseen HOI class ids of a split.

    Args:
        split (str): a key of ``ZERO_SHOT_SPLITS`` or "custom".
        custom (sequence[int]): the ids of "custom" (``DATASETS.HOI.ZERO_SHOT_UNSEEN``).
        num_hoi_classes (int): the dataset's number of HOI classes (ids must lie below).

    Returns:
        list[int].

    Raises:
        ValueError: unknown split, empty custom list, or an id outside 0..num_hoi_classes-1.
    """
    if split == "custom":
        ids = sorted({int(i) for i in custom})
        if not ids:
            raise ValueError("DATASETS.HOI.ZERO_SHOT_SPLIT 'custom' needs DATASETS.HOI.ZERO_SHOT_UNSEEN (HOI ids)")
    elif split in ZERO_SHOT_SPLITS:
        ids = sorted(ZERO_SHOT_SPLITS[split])
    else:
        raise ValueError(f"DATASETS.HOI.ZERO_SHOT_SPLIT must be one of {sorted(ZERO_SHOT_SPLITS)} or 'custom', "
                         f"got {split!r}")
    if ids[0] < 0 or ids[-1] >= num_hoi_classes:
        raise ValueError(f"zero-shot split {split!r}: HOI ids must lie in 0..{num_hoi_classes - 1}, got "
                         f"{ids[0]}..{ids[-1]} (a HICO-DET split on a dataset with another class list?)")
    return ids


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
