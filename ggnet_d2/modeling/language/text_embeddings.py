"""The text-embeddings file: the one place it is written and read (``tools/build_text_embeddings.py`` writes it,
the text verb classifier and the CLIP distillation read it). numpy only: inference needs neither CLIP nor open_clip.

Layout (``.npz``, no pickled objects):

- ``verb_embeddings``: float32 (V, D), rows L2-normalised;
- ``hoi_embeddings``: float32 (N, D), rows L2-normalised, one per HOI class (N may be 0);
- ``hoi_classes``: int64 (N, 2), (verb id, object id) of each HOI class, ids into the lists below;
- ``meta``: a JSON string with ``verb_classes`` (V), ``object_classes``, ``verb_prompts`` (V lists: the prompts
  averaged into each verb), ``hoi_prompts`` (N), ``prompt_kind``, ``model`` (open_clip model name),
  ``pretrained`` (open_clip pretrained tag, "" = random initialisation), ``open_clip_version`` and ``dataset``.
"""
import dataclasses
import json
import logging
import os

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["TextEmbeddings", "load_text_embeddings", "save_text_embeddings", "apply_text_verb_list"]

_META_KEYS = ("verb_classes", "object_classes", "verb_prompts", "hoi_prompts", "prompt_kind", "model", "pretrained",
              "open_clip_version", "dataset")


@dataclasses.dataclass
class TextEmbeddings:
    """Contents of a text-embeddings file (module docstring). Shapes: verb_embeddings (V, D), hoi_embeddings (N, D),
    hoi_classes (N, 2)."""

    verb_embeddings: np.ndarray
    verb_classes: list
    verb_prompts: list
    model: str
    pretrained: str
    prompt_kind: str
    hoi_embeddings: np.ndarray = None
    hoi_classes: np.ndarray = None
    hoi_prompts: list = dataclasses.field(default_factory=list)
    object_classes: list = dataclasses.field(default_factory=list)
    open_clip_version: str = ""
    dataset: str = ""

    def __post_init__(self):
        self.verb_embeddings = np.asarray(self.verb_embeddings, dtype=np.float32)
        dim = self.verb_embeddings.shape[1] if self.verb_embeddings.ndim == 2 else 0
        if self.hoi_embeddings is None:
            self.hoi_embeddings = np.zeros((0, dim), np.float32)
        if self.hoi_classes is None:
            self.hoi_classes = np.zeros((0, 2), np.int64)
        self.hoi_embeddings = np.asarray(self.hoi_embeddings, dtype=np.float32)
        self.hoi_classes = np.asarray(self.hoi_classes, dtype=np.int64).reshape(-1, 2)

    @property
    def dim(self):
        return self.verb_embeddings.shape[1]

    def check(self, source="text embeddings"):
        """Raise ValueError naming ``source`` when shapes or lists disagree or an embedding is not finite."""
        v = self.verb_embeddings
        if v.ndim != 2 or v.shape[0] == 0:
            raise ValueError(f"{source}: verb_embeddings must be (V, D) with V > 0, got {v.shape}")
        if len(self.verb_classes) != v.shape[0] or len(self.verb_prompts) != v.shape[0]:
            raise ValueError(f"{source}: {v.shape[0]} verb embeddings but {len(self.verb_classes)} verb classes and "
                             f"{len(self.verb_prompts)} verb prompt lists")
        h = self.hoi_embeddings
        if h.ndim != 2 or h.shape[1] != v.shape[1] or len(self.hoi_classes) != h.shape[0] or (
                len(self.hoi_prompts) != h.shape[0]):
            raise ValueError(f"{source}: hoi_embeddings {h.shape}, hoi_classes {self.hoi_classes.shape} and "
                             f"{len(self.hoi_prompts)} HOI prompts disagree (embedding dim {v.shape[1]})")
        for name, x in (("verb_embeddings", v), ("hoi_embeddings", h)):
            if not np.isfinite(x).all():
                raise ValueError(f"{source}: {name} has non-finite values")
        if len(self.hoi_classes) and (self.hoi_classes[:, 0].max() >= v.shape[0] or self.hoi_classes.min() < 0):
            raise ValueError(f"{source}: hoi_classes has a verb id outside 0..{v.shape[0] - 1}")


def save_text_embeddings(path, emb):
    """Write ``emb`` (TextEmbeddings, checked first) to ``path`` (.npz; parent folders created)."""
    emb.check(str(path))
    meta = {k: getattr(emb, k) for k in _META_KEYS}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        np.savez(f, verb_embeddings=emb.verb_embeddings, hoi_embeddings=emb.hoi_embeddings,
                 hoi_classes=emb.hoi_classes, meta=np.array(json.dumps(meta)))


def load_text_embeddings(path):
    """Read a file written by :func:`save_text_embeddings`.

    Returns:
        TextEmbeddings.

    Raises:
        FileNotFoundError: no file at ``path`` (the message says how to make one).
        ValueError: a missing array or meta key, or inconsistent contents (naming the file).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"text-embeddings file {path!r} not found (MODEL.GGNET.TEXT.EMBEDDINGS_FILE); "
                                f"write one with tools/build_text_embeddings.py")
    with np.load(path, allow_pickle=False) as z:
        missing = {"verb_embeddings", "hoi_embeddings", "hoi_classes", "meta"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: not a text-embeddings file, missing {sorted(missing)}")
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in ("verb_embeddings", "hoi_embeddings", "hoi_classes")}
    absent = [k for k in _META_KEYS if k not in meta]
    if absent:
        raise ValueError(f"{path}: meta lacks {absent}")
    emb = TextEmbeddings(**arrays, **{k: meta[k] for k in _META_KEYS})
    emb.check(path)
    return emb


def apply_text_verb_list(cfg):
    """With MODEL.GGNET.VERB_CLASSIFIER "text", set MODEL.GGNET.NUM_VERBS to the number of verbs in
    MODEL.GGNET.TEXT.EMBEDDINGS_FILE (the verb list is data: a model trained on one list can be evaluated on another).

    Args:
        cfg (CfgNode): not frozen.

    Returns:
        CfgNode: ``cfg`` (changed in place, a log line when NUM_VERBS changes).

    Raises:
        FileNotFoundError / ValueError: as :func:`load_text_embeddings`.
    """
    g = cfg.MODEL.GGNET
    if g.VERB_CLASSIFIER != "text":
        return cfg
    emb = load_text_embeddings(g.TEXT.EMBEDDINGS_FILE)
    if len(emb.verb_classes) != g.NUM_VERBS:
        logger.info(f"MODEL.GGNET.NUM_VERBS {g.NUM_VERBS} -> {len(emb.verb_classes)}: the verbs of "
                    f"{g.TEXT.EMBEDDINGS_FILE}")
        g.NUM_VERBS = len(emb.verb_classes)
    return cfg
