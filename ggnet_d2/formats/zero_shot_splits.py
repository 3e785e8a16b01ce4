"""Zero-shot HOI splits of HICO-DET (issue 23 item 3): the published lists of unseen HOI classes. Plain Python (no
numpy, torch or detectron2), shared by the training-set filter (``ggnet_d2/data/zero_shot.py``) and the scoring.

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
"""
from .vocabulary import HICO_RARE_HOI_IDS

__all__ = ["ZERO_SHOT_SPLITS", "unseen_hoi_ids"]

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
