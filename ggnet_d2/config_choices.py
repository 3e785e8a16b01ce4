"""The one table of GGNet's choice-valued config keys: allowed values, renamed values, and the check of one value.

Every string (or small-integer) key that selects a behaviour is listed in :data:`CHOICES`; the code that acts on a
key compares against the names defined here. ``check_ggnet_config`` (``ggnet_d2/engine/config_check.py``, called by
``setup_cfg``) validates all of them once, at start; constructors that take such a value as a Python argument
normalise it with :func:`resolve_choice`. Values are named by behaviour; :data:`RENAMED` keeps the earlier names
(named after the authors) working with a deprecation warning. The source of each value is documented next to its key
in ``ggnet_d2/config.py``.
"""
import logging

from detectron2.utils.logger import log_first_n

__all__ = ["CHOICES", "RENAMED", "CASE_INSENSITIVE", "resolve_choice", "choice_problem",
           "MATCH_EQ8", "MATCH_SCORE_OVER_OFFSET_AREA", "BOX_CLIP_CUT", "BOX_CLIP_CLAMP_CORNER_MIN_SIDE",
           "PLACEMENT_TOP_LEFT", "PLACEMENT_CENTER", "GAZE_TARGET_GLANCE", "GAZE_TARGET_SHARP",
           "CROP_CENTER_AFFINE", "CROP_RANDOM_BORDER", "APM_INPUT_GLANCE", "APM_INPUT_BACKBONE",
           "APM_STACK_MEAN", "APM_STACK_SUM", "POLICY_SKIP", "POLICY_ERROR", "UP_CONV_DCN", "UP_CONV_PLAIN",
           "OPTIMIZER_ADAM", "OPTIMIZER_SGD", "COLOR_AUG_DETECTRON2_OPS", "COLOR_AUG_RANDOM_ORDER_SHARED_GRAY",
           "HARD_NEGATIVES_PER_PAIR", "HARD_NEGATIVES_PER_HOI_IN_ORDER", "HEAD_BIAS_ZERO", "HEAD_BIAS_PYTORCH_DEFAULT",
           "AGGREGATION_GLANCE_GAZE", "AGGREGATION_HUMAN_POINT", "AGGREGATION_OBJECT_POINT",
           "AGGREGATION_HUMAN_OBJECT_POINTS", "AGGREGATION_ACTPOINTS"]

# MODEL.GGNET.TEST.MATCH_RULE: paper Eq. 8 (argmin distance / score) or argmax score / ((|dx|+1)(|dy|+1)).
MATCH_EQ8, MATCH_SCORE_OVER_OFFSET_AREA = "eq8", "score_over_offset_area"
# MODEL.GGNET.TEST.BOX_CLIP: cut boxes to the image, or clamp the top-left corner into it and each side to [10, side].
BOX_CLIP_CUT, BOX_CLIP_CLAMP_CORNER_MIN_SIDE = "clip", "clamp_corner_min_side"
# INPUT.GGNET.TEST_PLACEMENT: resized image at the top left of the test square, or centred by an affine warp.
PLACEMENT_TOP_LEFT, PLACEMENT_CENTER = "top_left", "center"
# MODEL.GGNET.LOSS.GAZE_TARGET: gaze steps trained on the glance map, or on the sharper gaze map.
GAZE_TARGET_GLANCE, GAZE_TARGET_SHARP = "glance", "sharp"
# INPUT.GGNET.CROP: CenterNet's random scale + shift affine, or CornerNet's random crop away from the border.
CROP_CENTER_AFFINE, CROP_RANDOM_BORDER = "center_affine", "random_crop_border"
# MODEL.GGNET.APM_INPUT: what the APM regressors read.
APM_INPUT_GLANCE, APM_INPUT_BACKBONE = "glance", "backbone"
# MODEL.GGNET.LOSS.APM_STACK_REDUCTION: APM losses averaged or summed over Hourglass stacks.
APM_STACK_MEAN, APM_STACK_SUM = "mean", "sum"
# DATASETS.HOI.BAD_RECORD_POLICY: count and drop bad records, or raise.
POLICY_SKIP, POLICY_ERROR = "skip", "error"
# MODEL.DLA.UP_CONV: modulated deformable convolutions in DLAUp/IDAUp, or plain 3x3 convolutions.
UP_CONV_DCN, UP_CONV_PLAIN = "dcn", "conv"
# INPUT.GGNET.COLOR_AUG: detectron2's ops in a fixed order on uint8, or random order against the input's grayscale.
COLOR_AUG_DETECTRON2_OPS, COLOR_AUG_RANDOM_ORDER_SHARED_GRAY = "detectron2_ops", "random_order_shared_gray"
# INPUT.GGNET.HARD_NEGATIVE_RULE: hard negatives per human-object pair, or per HOI in annotation order.
HARD_NEGATIVES_PER_PAIR, HARD_NEGATIVES_PER_HOI_IN_ORDER = "per_pair", "per_hoi_in_order"
# MODEL.GGNET.HEAD_BIAS_INIT: head conv biases at 0, or at nn.Conv2d's default (heatmap priors and offsets kept).
HEAD_BIAS_ZERO, HEAD_BIAS_PYTORCH_DEFAULT = "zero", "pytorch_default"
# MODEL.GGNET.INTERACTION_AGGREGATION: GGNet's glance and gaze steps, or a Table 3 alternative on the PPDM baseline.
AGGREGATION_GLANCE_GAZE, AGGREGATION_HUMAN_POINT = "glance_gaze", "human_point"
AGGREGATION_OBJECT_POINT = "object_point"
AGGREGATION_HUMAN_OBJECT_POINTS, AGGREGATION_ACTPOINTS = "human_object_points", "actpoints"
# SOLVER.OPTIMIZER (compared upper-case, as detectron2 users write either).
OPTIMIZER_ADAM, OPTIMIZER_SGD = "ADAM", "SGD"

CHOICES = {
    "INPUT.GGNET.CROP": (CROP_CENTER_AFFINE, CROP_RANDOM_BORDER),
    "INPUT.GGNET.TEST_PLACEMENT": (PLACEMENT_TOP_LEFT, PLACEMENT_CENTER),
    "MODEL.GGNET.APM_INPUT": (APM_INPUT_GLANCE, APM_INPUT_BACKBONE),
    "MODEL.GGNET.LOSS.GAZE_TARGET": (GAZE_TARGET_GLANCE, GAZE_TARGET_SHARP),
    "MODEL.GGNET.LOSS.APM_STACK_REDUCTION": (APM_STACK_MEAN, APM_STACK_SUM),
    "MODEL.GGNET.TEST.MATCH_RULE": (MATCH_EQ8, MATCH_SCORE_OVER_OFFSET_AREA),
    "MODEL.GGNET.TEST.BOX_CLIP": (BOX_CLIP_CUT, BOX_CLIP_CLAMP_CORNER_MIN_SIDE),
    "MODEL.DLA.UP_CONV": (UP_CONV_DCN, UP_CONV_PLAIN),
    "MODEL.RESNET_DECONV.DEPTH": (18, 50),
    # "auto" = per device type (layers/deform_conv.py AUTO_BACKEND_BY_DEVICE); the others name DEFORM_CONV_BACKENDS.
    "MODEL.DEFORM_CONV_BACKEND": ("auto", "torchvision", "gather_gemm"),
    "DATASETS.HOI.BAD_RECORD_POLICY": (POLICY_SKIP, POLICY_ERROR),
    "SOLVER.OPTIMIZER": (OPTIMIZER_ADAM, OPTIMIZER_SGD),
    "INPUT.GGNET.COLOR_AUG": (COLOR_AUG_DETECTRON2_OPS, COLOR_AUG_RANDOM_ORDER_SHARED_GRAY),
    "INPUT.GGNET.HARD_NEGATIVE_RULE": (HARD_NEGATIVES_PER_PAIR, HARD_NEGATIVES_PER_HOI_IN_ORDER),
    "MODEL.GGNET.HEAD_BIAS_INIT": (HEAD_BIAS_ZERO, HEAD_BIAS_PYTORCH_DEFAULT),
    "MODEL.GGNET.INTERACTION_AGGREGATION": (AGGREGATION_GLANCE_GAZE, AGGREGATION_HUMAN_POINT, AGGREGATION_OBJECT_POINT,
                                            AGGREGATION_HUMAN_OBJECT_POINTS, AGGREGATION_ACTPOINTS),
    "MODEL.GGNET.VERB_CLASSIFIER": ("conv", "text"),
    "MODEL.GGNET.TEXT.PROMPT": ("hoi", "verb", "description"),
    # "" = no zero-shot split (data/zero_shot.py names the published ones)
    "DATASETS.HOI.ZERO_SHOT_SPLIT": ("", "rare_first", "non_rare_first", "unseen_object", "unseen_verb",
                                     "unseen_action_eoid", "rare_first_eoid", "custom"),
    "DATASETS.HOI.ZERO_SHOT_REMOVAL": ("pair", "label"),
}

# Earlier names, accepted with a deprecation warning and replaced by the new one.
RENAMED = {
    "MODEL.GGNET.TEST.MATCH_RULE": {"authors": MATCH_SCORE_OVER_OFFSET_AREA},
    "MODEL.GGNET.TEST.BOX_CLIP": {"authors": BOX_CLIP_CLAMP_CORNER_MIN_SIDE},
    "INPUT.GGNET.CROP": {"authors": CROP_RANDOM_BORDER},
}

# Keys whose values are compared case-insensitively (upper-cased).
CASE_INSENSITIVE = frozenset({"SOLVER.OPTIMIZER"})

logger = logging.getLogger(__name__)


def choice_problem(key, value):
    """Normalise one value of a choice-valued key.

    Args:
        key (str): a key of :data:`CHOICES`, e.g. ``"MODEL.GGNET.TEST.MATCH_RULE"``.
        value: the configured value.

    Returns:
        tuple[object, str | None]: the value under its current name (renamed values replaced, with a deprecation
        warning logged once per key and value; CASE_INSENSITIVE keys upper-cased) and None, or the value unchanged
        and a message naming the key, the value and the allowed values.
    """
    allowed = CHOICES[key]
    renamed = RENAMED.get(key, {})
    if isinstance(value, str) and value in renamed:
        new = renamed[value]
        log_first_n(logging.WARNING, f"{key} {value!r} is deprecated; it is now called {new!r} (same behaviour)",
                    n=1, name=__name__, key="message")
        return new, None
    if key in CASE_INSENSITIVE and isinstance(value, str) and value.upper() in allowed:
        return value.upper(), None
    if value in allowed and type(value) is type(allowed[0]):  # True == 1 would otherwise pass as an integer choice
        return value, None
    old = f" (or the earlier names {sorted(renamed)})" if renamed else ""
    return value, f"{key} = {value!r}: must be one of {list(allowed)}{old}"


def resolve_choice(key, value, argument=None):
    """:func:`choice_problem` for a single value: returns its current name.

    Args:
        key (str): a key of :data:`CHOICES`.
        value: the value.
        argument (str | None): the name of the Python argument that carried the value, for the message.

    Raises:
        ValueError: the value is not allowed for ``key`` (the message lists the allowed values).
    """
    value, problem = choice_problem(key, value)
    if problem:
        raise ValueError(f"{argument} ({problem})" if argument else problem)
    return value
