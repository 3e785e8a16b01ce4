"""The verb-object correspondence as the model reads it: from its config only (``MODEL.GGNET.VALID_VERB_OBJECT``,
which ``setup_cfg`` fills from the dataset metadata where that is known without a file read; see
``ggnet_d2.engine.dataset_facts`` for the precedence with checkpoints)."""
import numpy as np

__all__ = ["valid_verb_object_from_config"]


def _pairs_to_matrix(pairs, num_verbs, num_classes):
    valid = np.zeros((num_verbs, num_classes), dtype=bool)
    for pair in pairs:
        v, o = (int(x) for x in pair)
        if not (0 <= v < num_verbs and 0 <= o < num_classes):
            raise ValueError(f"MODEL.GGNET.VALID_VERB_OBJECT: pair {list(pair)} outside (NUM_VERBS, NUM_CLASSES) = "
                             f"({num_verbs}, {num_classes})")
        valid[v, o] = True
    return valid


def valid_verb_object_from_config(cfg):
    """``MODEL.GGNET.VALID_VERB_OBJECT`` ([verb, object] contiguous pairs) as a matrix, and its source.

    Returns:
        (np.ndarray | None, str): bool (NUM_VERBS, NUM_CLASSES) and ``MODEL.GGNET.VALID_VERB_OBJECT_SOURCE`` (e.g.
        "metadata:<name>"; "config" when that is empty), or ``(None, "unknown")`` when no pair is given.

    Raises:
        ValueError: a pair outside (NUM_VERBS, NUM_CLASSES).
    """
    g = cfg.MODEL.GGNET
    if not len(g.VALID_VERB_OBJECT):
        return None, "unknown"
    return _pairs_to_matrix(g.VALID_VERB_OBJECT, g.NUM_VERBS, g.NUM_CLASSES), g.VALID_VERB_OBJECT_SOURCE or "config"
