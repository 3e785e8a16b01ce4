"""Seen / Unseen class subsets of a zero-shot split, scored like Full / Rare / Non-rare (issue 23 item 3).

The zero-shot HOI papers (VCL, ATL, GEN-VLKT Table 1, HOICLIP, EoID) report Full / Seen / Unseen mAP: the mean AP
over all classes, over the classes left in training, and over the unseen ones, with the usual per-class AP (here
HICO-DET's official 11-point AP in Default and Known-Object mode). The evaluator adds ``mAP_<mode>_seen`` /
``mAP_<mode>_unseen`` (and mean recall) next to its other subsets.
"""
from collections import OrderedDict

import numpy as np

__all__ = ["seen_unseen_subsets"]


def seen_unseen_subsets(unseen_hoi_ids, num_hoi_classes):
    """``{"seen": ids, "unseen": ids}`` (int64 arrays) of HOI classes 0..num_hoi_classes-1.

    Raises:
        ValueError: an unseen id outside the class range, or no unseen class.
    """
    unseen = np.unique(np.asarray(list(unseen_hoi_ids), dtype=np.int64))
    if not len(unseen) or unseen[0] < 0 or unseen[-1] >= num_hoi_classes:
        raise ValueError(f"unseen HOI ids must be a non-empty subset of 0..{num_hoi_classes - 1}")
    seen = np.setdiff1d(np.arange(num_hoi_classes), unseen)
    return OrderedDict(seen=seen, unseen=unseen)

