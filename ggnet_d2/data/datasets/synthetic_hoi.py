"""Embedded quickstart dataset: a small, deterministic, rendered HOI dataset that a CPU can learn in minutes.

``register_synthetic_hoi()`` registers ``synth_hoi_train`` (800 images) and ``synth_hoi_test`` (100 held-out images).
The images and PPDM-style JSON files are generated on first use into ``$GGNET_D2_CACHE/synth_hoi_v1`` (default
``~/.cache/ggnet_d2/synth_hoi_v1``); generation takes a few seconds, is seeded (same seed -> byte-identical files) and
atomic (written to a temporary folder then renamed, so an interrupted or concurrent run never leaves half a dataset).

Images are 128 x 128 BGR PNGs: a light, mildly noisy background (random tint, vertical gradient, pixel noise) with
2-4 stick-figure people (skin-coloured head, dark limbs 2-3 px thick, about 40-50 px tall). 1 or 2 of them interact
with an object; the others stand idle with their arms down, sometimes next to another person's object, so the
action-aware point matching (APM) has to pick the right partner. Every (person, verb, object) group is placed without
overlapping the others.

Objects (file category ids; contiguous id = file id - 1):

====  =======  ====================================================================
 id   name     rendering
====  =======  ====================================================================
 1    person   head circle, torso, two arms and two legs (boxes: exact extent of the drawn pixels)
 2    ball     filled red circle, 16-20 px diameter
 3    bike     two green wheels (16 px), green frame, saddle and handlebar, about 45 x 30 px
 4    box      filled orange rectangle with a dark outline and a tape stripe, about 18-24 x 14-20 px
====  =======  ====================================================================

Verbs (file verb ids; contiguous id = file id - 1) and their visual rules. Verbs sharing an object (hold / throw /
kick a ball, ride / push a bike, carry / sit_on a box) differ only by posture and layout, which gives the
hard-negative attentive loss (HNA) its hard negatives:

====  =======  ======  ==========================================================================================
 id   verb     object  rule
====  =======  ======  ==========================================================================================
 1    hold     ball    standing; the near arm stretched horizontally at chest height, the ball touching the hand
 2    throw    ball    standing; the near arm raised above the head, the ball in the air just above the hand
 3    kick     ball    one leg stretched forward at foot level, the ball on the ground at the foot, arms spread
 4    ride     bike    sitting on the saddle, feet on the pedal, hands on the handlebar (person box inside/above bike)
 5    push     bike    standing beside the bike, both arms forward holding the handlebar that faces the person
 6    carry    box     standing; both arms forward, the box held in front of the chest
 7    sit_on   box     sitting on top of the box, thighs horizontal, shins vertical down to the ground
====  =======  ======  ==========================================================================================

HOI (triplet) classes are the 7 (verb, object) pairs above, in verb order (``hoi_id`` = verb id - 1). Each verb is
drawn uniformly, so every triplet has well over 10 training instances: ``rare_hoi_ids`` is empty.

The compositional world of the zero-shot check (``synthetic_compositional.py``: verbs sharing objects) reuses this
module's primitives, postures (``_POSES``), people and scene layout (``render_hoi_scene``); this world's draws are
those of its first version.
"""
import functools
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog

from .bad_records import PolicyLoader

__all__ = [
    "SYNTH_HOI_OBJECTS",
    "SYNTH_HOI_VERBS",
    "SYNTH_HOI_VERSION",
    "default_cache_dir",
    "synthetic_hoi_metadata",
    "render_synthetic_scene",
    "render_hoi_scene",
    "generate_synthetic_hoi",
    "write_synthetic_splits",
    "ensure_synthetic_hoi",
    "ensure_generated",
    "register_synthetic_hoi",
]

logger = logging.getLogger(__name__)

SYNTH_HOI_VERSION = "synth_hoi_v1"
SYNTH_HOI_OBJECTS = ["person", "ball", "bike", "box"]
# (verb name, object name); the order gives the file verb ids (1-based) and the HOI class ids (0-based).
SYNTH_HOI_VERBS = [
    ("hold", "ball"),
    ("throw", "ball"),
    ("kick", "ball"),
    ("ride", "bike"),
    ("push", "bike"),
    ("carry", "box"),
    ("sit_on", "box"),
]
_SPLITS = {"train": (800, 0), "test": (100, 1)}  # split -> (default image count, seed offset)
_IMAGE_SIZE = 128

_SKIN = [(150, 180, 225), (110, 150, 200), (80, 110, 160), (170, 200, 235)]
_CLOTHES = [(90, 40, 20), (40, 40, 40), (30, 50, 90), (80, 30, 80), (20, 70, 30)]
_BALL = (30, 30, 220)
_BIKE = (40, 160, 40)
_BOX = (40, 130, 230)
_BOX_EDGE = (20, 60, 120)


def default_cache_dir():
    """Folder that holds generated datasets: ``$GGNET_D2_CACHE``, else ``~/.cache/ggnet_d2``.

    Returns:
        pathlib.Path (not created here).
    """
    env = os.environ.get("GGNET_D2_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ggnet_d2"


def synthetic_hoi_metadata():
    """Static metadata of ``synth_hoi_train`` / ``synth_hoi_test`` (docs/interfaces.md, "Metadata"); no generation.

    Returns:
        dict with ``thing_classes`` (4), ``verb_classes`` (7), ``person_class_id`` (0), the file -> contiguous id maps
        (file ids are 1-based), ``valid_verb_object`` (bool (7, 4)), ``hoi_classes`` (7 (verb, object) pairs),
        ``rare_hoi_ids`` ([]), ``non_rare_hoi_ids`` (0..6) and ``evaluator_type`` ("hoi").
    """
    obj_index = {name: i for i, name in enumerate(SYNTH_HOI_OBJECTS)}
    hoi_classes = [(v, obj_index[obj]) for v, (_, obj) in enumerate(SYNTH_HOI_VERBS)]
    valid = np.zeros((len(SYNTH_HOI_VERBS), len(SYNTH_HOI_OBJECTS)), dtype=bool)
    for v, o in hoi_classes:
        valid[v, o] = True
    return {
        "thing_classes": list(SYNTH_HOI_OBJECTS),
        "verb_classes": [verb for verb, _ in SYNTH_HOI_VERBS],
        "person_class_id": 0,
        "thing_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(SYNTH_HOI_OBJECTS))},
        "verb_dataset_id_to_contiguous_id": {i + 1: i for i in range(len(SYNTH_HOI_VERBS))},
        "valid_verb_object": valid,
        "hoi_classes": hoi_classes,
        "rare_hoi_ids": [],
        "non_rare_hoi_ids": list(range(len(hoi_classes))),
        "evaluator_type": "hoi",
    }


# ---------------------------------------------------------------------------------------------------------------
# Scene construction. A group is built around a person whose hip is at (0, 0); x is multiplied by the facing
# direction d (+1 right, -1 left) and every length by the scale s (px per unit), then the group is translated.
# Entities are lists of primitives ("line", p, q, thickness) / ("circle", c, r, thickness) / ("rect", p, q, thickness),
# each with a colour, so the same list renders the image and the per-entity masks that give exact boxes.

_STAND_LEGS = {"knee_n": (3, 10), "foot_n": (5, 20), "knee_f": (-3, 10), "foot_f": (-5, 20)}
_IDLE_ARMS = {"elbow_n": (4, -13), "hand_n": (6, -4), "elbow_f": (-4, -13), "hand_f": (-6, -4)}


def _person(kp, d, s, skin, clothes, thick):
    """Stick figure from unit keypoints ``kp`` (hip-relative); returns primitives."""
    def p(name):
        x, y = kp[name]
        return (d * x * s, y * s)

    prims = [("line", (0, 0), p("neck"), thick, clothes)]
    for side in ("n", "f"):
        prims.append(("line", p("neck"), p("elbow_" + side), thick, clothes))
        prims.append(("line", p("elbow_" + side), p("hand_" + side), thick, clothes))
        prims.append(("line", (0, 0), p("knee_" + side), thick, clothes))
        prims.append(("line", p("knee_" + side), p("foot_" + side), thick, clothes))
    prims.append(("circle", p("head"), 6 * s, -1, skin))
    return prims


def _bike(saddle, db, s):
    """Bike primitives; ``saddle`` in px, ``db`` = direction the bike faces, 22 units from saddle to ground."""
    sx, sy = saddle
    rear = (sx - db * 6 * s, sy + 14 * s)
    front = (rear[0] + db * 26 * s, rear[1])
    pedal = (rear[0] + db * 11 * s, rear[1])
    bar = (front[0] - db * 4 * s, front[1] - 24 * s)
    return [
        ("circle", rear, 8 * s, 2, _BIKE),
        ("circle", front, 8 * s, 2, _BIKE),
        ("line", rear, pedal, 2, _BIKE),
        ("line", pedal, (sx, sy), 2, _BIKE),
        ("line", (sx, sy), (bar[0] - db * 2 * s, sy + 2 * s), 2, _BIKE),
        ("line", pedal, (bar[0] - db * 2 * s, sy + 2 * s), 2, _BIKE),
        ("line", front, bar, 2, _BIKE),
        ("line", (sx - db * 3 * s, sy - 1), (sx + db * 3 * s, sy - 1), 3, _BIKE),
        ("line", bar, (bar[0] - db * 4 * s, bar[1]), 3, _BIKE),
    ]


def _box(x1, y1, x2, y2):
    ym = (y1 + y2) / 2
    return [
        ("rect", (x1, y1), (x2, y2), -1, _BOX),
        ("rect", (x1, y1), (x2, y2), 1, _BOX_EDGE),
        ("line", (x1, ym), (x2, ym), 1, _BOX_EDGE),
    ]


# Each verb's posture (unit keypoints replacing the standing, idle ones): the verb's visual cue. sit_on's depends on
# the height of the seat (``_sit_pose``). The compositional world (synthetic_compositional.py) reuses them with
# other objects.
_POSES = {
    "hold": dict(elbow_n=(8, -19), hand_n=(16, -18)),
    "throw": dict(elbow_n=(6, -31), hand_n=(8, -41), elbow_f=(-5, -14), hand_f=(-9, -7)),
    "kick": dict(knee_n=(8, 9), foot_n=(17, 14), knee_f=(-2, 10), foot_f=(-3, 20),
                 elbow_n=(6, -16), hand_n=(12, -12), elbow_f=(-6, -16), hand_f=(-12, -12)),
    # hip on the saddle; the bike's saddle/pedal/handlebar positions fix the limbs.
    "ride": dict(knee_n=(9, 5), foot_n=(5, 16), knee_f=(7, 6), foot_f=(4, 16),
                 elbow_n=(9, -17), hand_n=(16, -8), elbow_f=(8, -16), hand_f=(15, -8)),
    "push": dict(elbow_n=(8, -18), hand_n=(15, -13), elbow_f=(7, -17), hand_f=(14, -12)),
    "carry": dict(elbow_n=(7, -14), hand_n=(13, -16), elbow_f=(5, -13), hand_f=(11, -15)),
}


def _sit_pose(h):
    """sit_on's keypoints on a seat ``h`` units high whose top is 2 units under the hip: thighs horizontal, shins
    down to the ground."""
    return dict(knee_n=(11, 0), foot_n=(12, h + 2), knee_f=(9, 1), foot_f=(10, h + 2),
                elbow_n=(5, -12), hand_n=(10, -2), elbow_f=(3, -12), hand_f=(8, -2))


def _draw_style(rng):
    """A person's facing direction d (+1 / -1), scale s (px per unit), skin and clothes colours, limb thickness."""
    d = 1 if rng.random() < 0.5 else -1
    s = float(rng.uniform(0.75, 0.9))
    skin = _SKIN[rng.integers(len(_SKIN))]
    clothes = _CLOTHES[rng.integers(len(_CLOTHES))]
    thick = int(rng.integers(2, 4))
    return d, s, skin, clothes, thick


def _standing_keypoints():
    return {"neck": (0, -22), "head": (0, -29), **_STAND_LEGS, **_IDLE_ARMS}


def _group(verb, rng):
    """One person (interacting with ``verb``'s object, or idle when ``verb`` is None), hip at (0, 0).

    Returns:
        (person primitives, object primitives or None, object name or None)
    """
    d, s, skin, clothes, thick = _draw_style(rng)
    kp = _standing_keypoints()
    obj = None
    if verb in _POSES:
        kp.update(_POSES[verb])
    if verb == "hold":
        r = float(rng.uniform(8, 10))
        hx, hy = d * 16 * s, -18 * s
        obj = [("circle", (hx + d * (r + 1), hy), r, -1, _BALL)]
    elif verb == "throw":
        r = float(rng.uniform(8, 10))
        hx, hy = d * 8 * s, -41 * s
        obj = [("circle", (hx + d * 3, hy - r - 3), r, -1, _BALL)]
    elif verb == "kick":
        r = float(rng.uniform(8, 10))
        fx, ground = d * 17 * s, 20 * s
        obj = [("circle", (fx + d * (r + 1), ground - r), r, -1, _BALL)]
    elif verb == "ride":
        obj = _bike((0, 2 * s), d, s)
    elif verb == "push":
        # the bike faces the person so its handlebar (16 units ahead of and 10 above the saddle) meets the hands;
        # its saddle sits 22 units above the ground, which is 20 units under the hip.
        saddle = (d * (15 + 16) * s, -2 * s)
        obj = _bike(saddle, -d, s)
    elif verb == "carry":
        w, h = float(rng.uniform(24, 30)) * s, float(rng.uniform(21, 26)) * s
        x_near = d * 9 * s
        x_far = x_near + d * w
        obj = _box(min(x_near, x_far), -16 * s - h / 2, max(x_near, x_far), -16 * s + h / 2)
    elif verb == "sit_on":
        h = float(rng.uniform(21, 26))  # box height in units; the hip rests 2 units above its top
        w = float(rng.uniform(24, 30)) * s
        kp.update(_sit_pose(h))
        cx = -d * 2 * s
        obj = _box(cx - w / 2, 2 * s, cx + w / 2, (h + 2) * s)
    elif verb is not None:
        raise ValueError(f"synthetic_hoi: unknown verb {verb!r}")
    obj_name = None if verb is None else dict(SYNTH_HOI_VERBS)[verb]
    return _person(kp, d, s, skin, clothes, thick), obj, obj_name


def _extent(prims):
    """Conservative (x1, y1, x2, y2) of primitives, px."""
    xs, ys = [], []
    for kind, a, b, t, _ in prims:
        pad = max(t, 1) / 2 + 1
        if kind == "circle":
            pad += b
            pts = [a]
        else:
            pts = [a, b]
        for x, y in pts:
            xs += [x - pad, x + pad]
            ys += [y - pad, y + pad]
    return min(xs), min(ys), max(xs), max(ys)


def _draw(canvas, prims, offset, color=None):
    ox, oy = offset
    for kind, a, b, t, c in prims:
        col = c if color is None else color
        if kind == "line":
            cv2.line(canvas, (round(a[0] + ox), round(a[1] + oy)), (round(b[0] + ox), round(b[1] + oy)), col, t)
        elif kind == "circle":
            cv2.circle(canvas, (round(a[0] + ox), round(a[1] + oy)), max(1, round(b)), col, t)
        else:
            cv2.rectangle(canvas, (round(a[0] + ox), round(a[1] + oy)), (round(b[0] + ox), round(b[1] + oy)), col, t)


def _mask_box(prims, offset, size):
    mask = np.zeros((size, size), dtype=np.uint8)
    _draw(mask, prims, offset, color=255)
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def _background(rng, size):
    tint = rng.uniform(170, 235, size=3)
    grad = np.linspace(-12, 12, size)[:, None, None]
    noise = rng.normal(0, 6, size=(size, size, 3))
    return np.clip(tint[None, None, :] + grad + noise, 0, 255).astype(np.uint8)


def render_synthetic_scene(rng, image_size=_IMAGE_SIZE):
    """Render one synthetic HOI image.

    Args:
        rng (numpy.random.Generator): the only source of randomness (determinism).
        image_size (int): side of the square image, px (>= 96 so that 2 people always fit).

    Returns:
        (image, annotations, hoi_annotation): ``image`` uint8 (image_size, image_size, 3) BGR; ``annotations`` a list
        of {"bbox": [x1, y1, x2, y2] (XYXY abs, original pixels, exact extent of the drawn pixels), "category_id"
        (1-based file id)}; ``hoi_annotation`` a list of {"subject_id", "object_id" (indices into annotations),
        "category_id" (1-based verb id)} -- the PPDM layout.

    Raises:
        ValueError: image_size < 96.
    """
    return render_hoi_scene(rng, image_size, _draw_verb, _group_with_ids)


def _draw_verb(rng):
    return SYNTH_HOI_VERBS[rng.integers(len(SYNTH_HOI_VERBS))][0]


def _group_with_ids(verb, rng):
    """``_group`` with the object and verb as 1-based file ids (None for an idle person)."""
    person, obj, obj_name = _group(verb, rng)
    if verb is None:
        return person, obj, None
    return person, obj, (SYNTH_HOI_OBJECTS.index(obj_name) + 1, [v for v, _ in SYNTH_HOI_VERBS].index(verb) + 1)


def render_hoi_scene(rng, image_size, draw_interaction, group):
    """Render one image of a synthetic world: background, 2-4 people of whom 1-2 interact, groups placed without
    overlap (a group that finds no room in 30 tries is dropped; fewer than 2 people: the scene is drawn again),
    objects drawn first and people on top.

    Args:
        rng (numpy.random.Generator): the only source of randomness.
        image_size (int): square side, px (>= 96).
        draw_interaction (callable): ``rng -> spec``, one interacting group's spec (e.g. a verb name).
        group (callable): ``(spec or None, rng) -> (person primitives, object primitives or None, ids)`` with
            ``ids`` = (object file id, verb file id), None for an idle person (spec None); hip-relative px.

    Returns:
        as :func:`render_synthetic_scene`.

    Raises:
        ValueError: image_size < 96.
    """
    if image_size < 96:
        raise ValueError(f"synthetic_hoi: image_size must be >= 96 px, got {image_size}")
    image = _background(rng, image_size)
    num_people = int(rng.integers(2, 5))
    num_interacting = int(rng.integers(1, 3))
    specs = [draw_interaction(rng) for _ in range(num_interacting)]
    specs += [None] * (num_people - num_interacting)
    placed = []  # (extent in image px, person prims, obj prims, ids, offset)
    for spec in specs:
        for _attempt in range(30):
            person, obj, ids = group(spec, rng)
            x1, y1, x2, y2 = _extent(person + (obj or []))
            if x2 - x1 > image_size - 2 or y2 - y1 > image_size - 2:
                continue
            ox = float(rng.uniform(1 - x1, image_size - 1 - x2))
            oy = float(rng.uniform(1 - y1, image_size - 1 - y2))
            ext = (x1 + ox, y1 + oy, x2 + ox, y2 + oy)
            if all(ext[0] > e[2] + 2 or ext[2] < e[0] - 2 or ext[1] > e[3] + 2 or ext[3] < e[1] - 2
                   for e, *_ in placed):
                placed.append((ext, person, obj, ids, (ox, oy)))
                break
        # a group that finds no room is dropped (the scene then has fewer people)
    if len(placed) < 2:
        # fewer than 2 people would break the "several people per image" rule: draw a fresh scene instead
        return render_hoi_scene(rng, image_size, draw_interaction, group)
    annotations, hoi_annotation = [], []
    for _, person, obj, ids, off in placed:
        if obj is not None:
            _draw(image, obj, off)
    for _, person, obj, ids, off in placed:
        _draw(image, person, off)  # people on top: hands over the box/handlebar
        annotations.append({"bbox": _mask_box(person, off, image_size), "category_id": 1})
        if obj is not None:
            object_id, verb_id = ids
            annotations.append({"bbox": _mask_box(obj, off, image_size), "category_id": object_id})
            hoi_annotation.append({"subject_id": len(annotations) - 2, "object_id": len(annotations) - 1,
                                   "category_id": verb_id})
    return image, annotations, hoi_annotation


def generate_synthetic_hoi(out_dir, num_train=800, num_test=100, image_size=_IMAGE_SIZE, seed=0):
    """Write the dataset into ``out_dir`` (not atomic; see ``ensure_synthetic_hoi``).

    Layout: ``out_dir/{train,test}.json`` (PPDM-style list of {file_name, height, width, annotations,
    hoi_annotation}) and ``out_dir/images/{train,test}/NNNNNN.png``. Split ``train`` uses seed ``seed``, ``test``
    uses ``seed + 1``, so the splits never share an image.

    Args:
        out_dir (str or Path): created if missing.
        num_train, num_test (int): image counts.
        image_size (int): square image side, px.
        seed (int): base seed.

    Returns:
        pathlib.Path: ``out_dir``.
    """
    return write_synthetic_splits(out_dir, {"train": (num_train, render_synthetic_scene),
                                            "test": (num_test, render_synthetic_scene)}, image_size, seed)


def write_synthetic_splits(out_dir, splits, image_size, seed):
    """Write the splits of a synthetic world into ``out_dir`` (layout of :func:`generate_synthetic_hoi`).

    Args:
        out_dir (str or Path): created if missing.
        splits (dict): "train" / "test" -> (image count, ``render(rng, image_size)`` returning what
            :func:`render_synthetic_scene` returns); split ``train`` draws from seed ``seed``, ``test`` from
            ``seed + 1``.
        image_size (int): square image side, px.
        seed (int): base seed.

    Returns:
        pathlib.Path: ``out_dir``.

    Raises:
        RuntimeError: a PNG could not be encoded.
    """
    out_dir = Path(out_dir)
    for split, (count, render) in splits.items():
        rng = np.random.default_rng(seed + _SPLITS[split][1])
        img_dir = out_dir / "images" / split
        img_dir.mkdir(parents=True, exist_ok=True)
        records = []
        for i in range(count):
            image, anns, hois = render(rng, image_size)
            name = f"{i:06d}.png"
            ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
            if not ok:
                raise RuntimeError(f"synthetic_hoi: PNG encoding failed for {img_dir / name}")
            (img_dir / name).write_bytes(buf.tobytes())
            records.append({"file_name": name, "height": image_size, "width": image_size,
                            "annotations": anns, "hoi_annotation": hois})
        (out_dir / f"{split}.json").write_text(json.dumps(records))
    return out_dir


def ensure_synthetic_hoi(root=None, num_train=800, num_test=100, image_size=_IMAGE_SIZE, seed=0):
    """Return the dataset folder, generating it first if absent.

    The folder is ``root/synth_hoi_v1`` (``root`` defaults to ``default_cache_dir()``); non-default arguments get
    their own folder (suffix ``_n{train}-{test}_s{size}_seed{seed}``). Generation happens in a temporary sibling
    folder that is then renamed into place, so readers only ever see complete datasets; a concurrent run that
    loses the rename race discards its copy.

    Returns:
        pathlib.Path of the folder holding ``train.json``, ``test.json`` and ``images/``.
    """
    root = Path(root) if root is not None else default_cache_dir()
    name = SYNTH_HOI_VERSION
    if (num_train, num_test, image_size, seed) != (800, 100, _IMAGE_SIZE, 0):
        name += f"_n{num_train}-{num_test}_s{image_size}_seed{seed}"
    # generate_synthetic_hoi is looked up when called (tests replace it)
    return ensure_generated(root / name, lambda tmp: generate_synthetic_hoi(tmp, num_train, num_test, image_size,
                                                                            seed))


def ensure_generated(final, generate):
    """``final`` once it holds a complete dataset: ``generate(tmp)`` writes into a temporary sibling folder that is
    then renamed into place, so readers only ever see complete datasets; a concurrent run that loses the rename
    race discards its copy, and an interrupted one leaves nothing behind.

    Args:
        final (Path): the dataset folder (complete when it has ``test.json``).
        generate (callable): ``Path -> None``, writes the dataset into the folder it is given.

    Returns:
        pathlib.Path: ``final``.
    """
    if (final / "test.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        logger.info("Generating the synthetic HOI dataset into %s", final)
        generate(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "test.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _load_split(ensure, metadata, root, split, name, policy=None, log=True):
    from ggnet_d2.data import load_hoi_json  # late import: ggnet_d2.data imports this module

    path = ensure(root)
    return load_hoi_json(str(path / f"{split}.json"), str(path / "images" / split), dataset_name=name,
                         metadata=metadata(), policy=policy, log=log)


def register_synthetic_world(prefix, folder, splits, ensure, metadata, root):
    """Register ``<prefix>_<split>`` for each split of a generated world (shared by the synthetic worlds).

    Args:
        prefix (str): dataset name prefix; folder (Path): the world's cache folder (``root / version``);
        splits: split names; ensure (callable root -> Path): generates the world on first use and returns its folder;
        metadata (callable -> dict): the world's static metadata; root: passed to ``ensure`` when a loader runs.
    """
    for split in splits:
        name = f"{prefix}_{split}"
        if name in DatasetCatalog.list():
            continue
        # a PolicyLoader, like every HOI dataset: the config's bad-record policy applies, and the verb histogram
        # is logged on the first load only (the test loader and the evaluator both load the test split)
        DatasetCatalog.register(name, PolicyLoader(functools.partial(_load_split, ensure, metadata, root, split, name)))
        MetadataCatalog.get(name).set(json_file=str(folder / f"{split}.json"),
                                      image_root=str(folder / "images" / split), **metadata())


def register_synthetic_hoi(root=None):
    """Register ``synth_hoi_train`` and ``synth_hoi_test`` in detectron2's catalogs.

    Metadata is set at once (``synthetic_hoi_metadata()`` plus ``json_file`` / ``image_root``); the images are only
    generated when a loader runs (``DatasetCatalog.get``), which then parses the files with
    ``ggnet_d2.data.load_hoi_json`` under the static id maps and triplet list. Names already registered are left
    alone (so calling it twice is harmless).

    Args:
        root (str or Path or None): cache folder, default ``default_cache_dir()`` (resolved now).
    """
    root = Path(root) if root is not None else default_cache_dir()
    register_synthetic_world("synth_hoi", root / SYNTH_HOI_VERSION, _SPLITS, ensure_synthetic_hoi,
                             synthetic_hoi_metadata, root)
