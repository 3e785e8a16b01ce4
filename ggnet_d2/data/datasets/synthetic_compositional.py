"""A second synthetic world for the compositional zero-shot check (issue 23): verbs share objects, and four
verb-object combinations are drawn only in the test split.

``register_synthetic_compositional_hoi()`` registers ``synth_hoi_compositional_train`` (800 images) and
``synth_hoi_compositional_test`` (200 images), generated on first use into ``$GGNET_D2_CACHE/
synth_hoi_compositional_v1`` (seeded, atomic: as the quickstart world, ``synthetic_hoi.py``, whose drawing
primitives, scene layout, people and postures this world reuses; that world and its files are unchanged).

In the quickstart world each verb has one object, so a held-out combination would be a held-out verb. Here a verb's
visual cue is the person's posture (``synthetic_hoi._POSES``) and where the object sits relative to the body (at
the hand, above the raised hand, on the ground at the foot, under the hips...); the object's own appearance (a red
ball 16-20 px across, an orange box about 18-27 x 16-23 px, a green bike) is drawn independently of the verb (only
a seat's and a pushed box's height follow the posture: 16-23 and 26-32 px), so a verb learnt with one object can be
recognised with another:

========  ===========  ======================================================================================
 verb     objects      rule (the object's box is placed by the rule, whatever the object)
========  ===========  ======================================================================================
 hold     ball, box    near arm stretched horizontally at chest height; object touching the hand, ahead
 throw    ball, box    near arm raised above the head; object in the air just above the hand
 kick     ball, box    near leg stretched forward; object on the ground, touching the foot
 ride     bike         sitting on the saddle, hands on the handlebar (the quickstart's rule)
 push     bike, box    both arms forward at chest height; bike: handlebar at the hands (quickstart's rule);
                       box: on the ground, its near side at the hands, its top just above them
 carry    ball, box    both arms bent forward; object held in front of the chest
 sit_on   ball, box    sitting, thighs horizontal, shins down to the ground; object under the hips
========  ===========  ======================================================================================

HOI classes (13, ``hoi_id`` order): the pairs above in verb order, then object order (``SYNTH_COMPOSITIONAL_HOIS``).
Held out (``SYNTH_COMPOSITIONAL_HELD_OUT``, ids 1, 5, 9, 11): hold box, kick box, carry ball, sit_on ball: each
held-out verb is seen with the other object, each object with other verbs. The training split draws its
interactions uniformly from the 9 other classes and never draws a held-out one, not even unannotated in the
background (so no training pixel teaches that they are "no interaction"); the test split draws from all 13.
``rare_hoi_ids`` are the held-out classes (fewer than 10 training instances: none). Verb and object ids are those of
the quickstart world (same 7 verbs, same 4 classes), so the two worlds' models have the same shape.
"""
import functools
from pathlib import Path

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog

from . import synthetic_hoi as sh
from .bad_records import PolicyLoader

__all__ = [
    "SYNTH_COMPOSITIONAL_VERSION",
    "SYNTH_COMPOSITIONAL_VERBS",
    "SYNTH_COMPOSITIONAL_HOIS",
    "SYNTH_COMPOSITIONAL_HELD_OUT",
    "synthetic_compositional_metadata",
    "render_compositional_scene",
    "generate_synthetic_compositional_hoi",
    "ensure_synthetic_compositional_hoi",
    "register_synthetic_compositional_hoi",
]

SYNTH_COMPOSITIONAL_VERSION = "synth_hoi_compositional_v1"
SYNTH_COMPOSITIONAL_VERBS = ["hold", "throw", "kick", "ride", "push", "carry", "sit_on"]
# (verb, object) per HOI class, hoi_id order
SYNTH_COMPOSITIONAL_HOIS = [
    ("hold", "ball"), ("hold", "box"),
    ("throw", "ball"), ("throw", "box"),
    ("kick", "ball"), ("kick", "box"),
    ("ride", "bike"),
    ("push", "bike"), ("push", "box"),
    ("carry", "ball"), ("carry", "box"),
    ("sit_on", "ball"), ("sit_on", "box"),
]
SYNTH_COMPOSITIONAL_HELD_OUT = [("hold", "box"), ("kick", "box"), ("carry", "ball"), ("sit_on", "ball")]
_COUNTS = {"train": 800, "test": 200}


def held_out_hoi_ids():
    """HOI ids (``SYNTH_COMPOSITIONAL_HOIS`` positions) of the held-out combinations: [1, 5, 9, 11]."""
    return [SYNTH_COMPOSITIONAL_HOIS.index(p) for p in SYNTH_COMPOSITIONAL_HELD_OUT]


def synthetic_compositional_metadata():
    """Static metadata of ``synth_hoi_compositional_train`` / ``_test`` (docs/interfaces.md, "Metadata").

    Returns:
        dict with ``thing_classes`` (4, the quickstart's), ``verb_classes`` (7), ``person_class_id`` (0), the file ->
        contiguous id maps (file ids 1-based), ``hoi_classes`` (13 (verb, object) contiguous pairs),
        ``valid_verb_object`` (bool (7, 4): all 13 classes, held-out ones included), ``rare_hoi_ids`` (the
        held-out ids), ``non_rare_hoi_ids`` and ``evaluator_type`` ("hoi").
    """
    objects = sh.SYNTH_HOI_OBJECTS
    hoi_classes = [(SYNTH_COMPOSITIONAL_VERBS.index(v), objects.index(o)) for v, o in SYNTH_COMPOSITIONAL_HOIS]
    valid = np.zeros((len(SYNTH_COMPOSITIONAL_VERBS), len(objects)), dtype=bool)
    for v, o in hoi_classes:
        valid[v, o] = True
    rare = held_out_hoi_ids()
    return {
        "thing_classes": list(objects),
        "verb_classes": list(SYNTH_COMPOSITIONAL_VERBS),
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(objects))},
        "verb_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(SYNTH_COMPOSITIONAL_VERBS))},
        "valid_verb_object": valid,
        "hoi_classes": hoi_classes,
        "rare_hoi_ids": rare,
        "non_rare_hoi_ids": [i for i in range(len(hoi_classes)) if i not in rare],
        "evaluator_type": "hoi",
    }


def _thing(obj, box):
    """Primitives of a ball (the circle inscribed in ``box``) or a box filling ``box`` (x1, y1, x2, y2 in any x
    order), px."""
    x1, x2 = sorted((box[0], box[2]))
    y1, y2 = box[1], box[3]
    if obj == "ball":
        return [("circle", ((x1 + x2) / 2, (y1 + y2) / 2), min(x2 - x1, y2 - y1) / 2, -1, sh._BALL)]
    return sh._box(x1, y1, x2, y2)


def _object(verb, obj, d, s, rng, seat):
    """The object of ``verb`` placed by the verb's rule (module table), px relative to the hip.

    ``seat`` is sit_on's seat height in units (its posture depends on it). A ball is 16-20 px across wherever it is
    not a seat; a box 24-30 x 21-26 units (a pushed box reaches from the ground to above the hands).
    """
    if obj == "bike":  # the quickstart's bike rules
        return sh._bike((0, 2 * s), d, s) if verb == "ride" else sh._bike((d * 31 * s, -2 * s), -d, s)
    if verb == "sit_on":
        h = seat * s
        w = h if obj == "ball" else float(rng.uniform(24, 30)) * s
        cx = -d * 2 * s
        return _thing(obj, (cx - w / 2, 2 * s, cx + w / 2, 2 * s + h))
    if obj == "ball":
        w = h = 2 * float(rng.uniform(8, 10))
    else:
        w, h = float(rng.uniform(24, 30)) * s, float(rng.uniform(21, 26)) * s
    hand_x, hand_y = (c * s for c in sh._POSES[verb].get("hand_n", (0, 0)))
    if verb == "hold":  # near side touching the hand, centred on it vertically
        near, top = d * hand_x + d, hand_y - h / 2
    elif verb == "throw":  # centred 3 px ahead of the hand, bottom 3 px above it
        return _thing(obj, (d * hand_x + d * 3 - w / 2, hand_y - 3 - h, d * hand_x + d * 3 + w / 2, hand_y - 3))
    elif verb == "kick":  # on the ground (20 units under the hip), near side at the foot
        foot_x = sh._POSES["kick"]["foot_n"][0] * s
        near, top = d * foot_x + d, 20 * s - h
    elif verb == "push":  # box on the ground, near side at the hands, top 2 units above them
        near, top = d * hand_x, hand_y - 2 * s
        h = 20 * s - top
    elif verb == "carry":  # in front of the chest (as the quickstart's carried box)
        near, top = d * 9 * s, -16 * s - h / 2
    else:
        raise ValueError(f"synthetic_compositional: no rule for {verb!r} with {obj!r}")
    return _thing(obj, (near, top, near + d * w, top + h))


def _group(spec, rng):
    """One person doing ``spec`` = (verb, object) with that object, or idle (``spec`` None), hip at (0, 0).

    Returns:
        (person primitives, object primitives or None, (object file id, verb file id) or None).

    Raises:
        ValueError: a (verb, object) that is not a class of this world.
    """
    if spec is None:
        return sh._group_with_ids(None, rng)  # idle people are the quickstart's
    if tuple(spec) not in SYNTH_COMPOSITIONAL_HOIS:
        raise ValueError(f"synthetic_compositional: {spec!r} is not one of {SYNTH_COMPOSITIONAL_HOIS}")
    verb, obj = spec
    d, s, skin, clothes, thick = sh._draw_style(rng)
    kp = sh._standing_keypoints()
    seat = None
    if verb == "sit_on":
        seat = float(rng.uniform(21, 26))
        kp.update(sh._sit_pose(seat))
    else:
        kp.update(sh._POSES[verb])
    obj_prims = _object(verb, obj, d, s, rng, seat)
    ids = (sh.SYNTH_HOI_OBJECTS.index(obj) + 1, SYNTH_COMPOSITIONAL_VERBS.index(verb) + 1)
    return sh._person(kp, d, s, skin, clothes, thick), obj_prims, ids


def render_compositional_scene(rng, image_size=sh._IMAGE_SIZE, hois=None):
    """One image of this world (layout as the quickstart's: ``synthetic_hoi.render_hoi_scene``).

    Args:
        rng (numpy.random.Generator): the only source of randomness.
        image_size (int): square side, px (>= 96).
        hois (sequence[tuple[str, str]] | None): the (verb, object) classes interactions are drawn from,
            uniformly; default all 13.

    Returns:
        as ``synthetic_hoi.render_synthetic_scene`` (PPDM layout, 1-based file ids).

    Raises:
        ValueError: image_size < 96, or a class of ``hois`` that is not one of this world's.
    """
    pool = list(hois) if hois is not None else list(SYNTH_COMPOSITIONAL_HOIS)
    return sh.render_hoi_scene(rng, image_size, lambda r: pool[r.integers(len(pool))], _group)


def _seen_hois():
    return [p for p in SYNTH_COMPOSITIONAL_HOIS if p not in SYNTH_COMPOSITIONAL_HELD_OUT]


def generate_synthetic_compositional_hoi(out_dir, num_train=_COUNTS["train"], num_test=_COUNTS["test"],
                                         image_size=sh._IMAGE_SIZE, seed=0):
    """Write this world's splits into ``out_dir`` (layout and seeds of ``synthetic_hoi.generate_synthetic_hoi``;
    not atomic): train from the 9 seen classes, test from all 13.

    Returns:
        pathlib.Path: ``out_dir``.
    """
    splits = {"train": (num_train, functools.partial(render_compositional_scene, hois=_seen_hois())),
              "test": (num_test, render_compositional_scene)}
    return sh.write_synthetic_splits(out_dir, splits, image_size, seed)


def ensure_synthetic_compositional_hoi(root=None, num_train=_COUNTS["train"], num_test=_COUNTS["test"],
                                       image_size=sh._IMAGE_SIZE, seed=0):
    """This world's folder ``root/synth_hoi_compositional_v1`` (non-default arguments: suffix
    ``_n{train}-{test}_s{size}_seed{seed}``), generated first if absent (atomically:
    ``synthetic_hoi.ensure_generated``).

    Returns:
        pathlib.Path of the folder holding ``train.json``, ``test.json`` and ``images/``.
    """
    root = Path(root) if root is not None else sh.default_cache_dir()
    name = SYNTH_COMPOSITIONAL_VERSION
    if (num_train, num_test, image_size, seed) != (_COUNTS["train"], _COUNTS["test"], sh._IMAGE_SIZE, 0):
        name += f"_n{num_train}-{num_test}_s{image_size}_seed{seed}"
    return sh.ensure_generated(root / name, lambda tmp: generate_synthetic_compositional_hoi(
        tmp, num_train, num_test, image_size, seed))


def register_synthetic_compositional_hoi(root=None):
    """Register ``synth_hoi_compositional_train`` and ``_test`` (as ``synthetic_hoi.register_synthetic_hoi``: static
    metadata at once, images generated when a loader first runs; names already registered are left alone).

    Args:
        root (str or Path or None): cache folder, default ``synthetic_hoi.default_cache_dir()`` (resolved now).
    """
    root = Path(root) if root is not None else sh.default_cache_dir()
    sh.register_synthetic_world("synth_hoi_compositional", root / SYNTH_COMPOSITIONAL_VERSION, _COUNTS,
                                ensure_synthetic_compositional_hoi, synthetic_compositional_metadata, root)
