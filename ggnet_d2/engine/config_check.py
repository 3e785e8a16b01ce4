"""One check of a merged GGNet config, at start, before any data is read or any model is built (``setup_cfg``).

Every problem is collected and reported in one error: choice-valued keys against the table of
``ggnet_d2/config_choices.py`` (earlier value names replaced by the current ones, with a deprecation warning), counts
and ranges, and the sizes the backbone needs (the backbone is built on PyTorch's ``meta`` device, which allocates no
memory, to read its output stride and size divisibility).
"""
import math

import torch
from detectron2.modeling import BACKBONE_REGISTRY, build_backbone

from ggnet_d2.config_choices import CHOICES, choice_problem

from .deferred_metrics import check_metrics_sync_period

__all__ = ["ConfigError", "check_ggnet_config"]


class ConfigError(ValueError):
    """A config with bad values; the message lists every bad key with its value and what is allowed."""


# key: (lowest, highest, integer) -- inclusive bounds, None = unbounded.
_RANGES = {
    "MODEL.GGNET.NUM_CLASSES": (1, None, True),
    "MODEL.GGNET.NUM_VERBS": (1, None, True),
    "MODEL.GGNET.OUTPUT_STRIDE": (1, None, True),
    "MODEL.GGNET.HEAD_CONV": (1, None, True),
    "MODEL.GGNET.NUM_GAZE_STEPS": (0, None, True),
    "MODEL.GGNET.TEST.TOPK_INTERACTIONS": (1, None, True),
    "MODEL.GGNET.TEST.TOPK_HUMANS": (1, None, True),
    "MODEL.GGNET.TEST.TOPK_OBJECTS": (1, None, True),
    "MODEL.GGNET.TEST.SCORE_THRESH": (0, 1, False),
    "MODEL.GGNET.EXTERNAL_DETECTIONS.SCORE_THRESH": (0, 1, False),
    "MODEL.GGNET.LOSS.FOCAL_ALPHA": (0, None, False),
    "MODEL.GGNET.LOSS.HNA_BETA": (0, None, False),
    "MODEL.GGNET.LOSS.FOCAL_GAMMA": (0, None, False),
    **{f"MODEL.GGNET.LOSS.{k}_WEIGHT": (0, None, False) for k in (
        "FINAL_GAZE", "GLANCE", "INTERMEDIATE_GAZE", "APM_SUBJECT", "APM_OBJECT", "OBJ_HEATMAP", "WH", "OFFSET")},
    "INPUT.GGNET.INPUT_SIZE": (1, None, True),
    "INPUT.GGNET.TEST_SIZE": (1, None, True),
    "INPUT.GGNET.SIZE_DIVISIBILITY": (0, None, True),
    "INPUT.GGNET.MAX_OBJECTS": (1, None, True),
    "INPUT.GGNET.MAX_HOIS": (1, None, True),
    "INPUT.GGNET.MIN_OVERLAP": (0, 1, False),
    "INPUT.GGNET.HNA_RADIUS": (0, None, True),
    "INPUT.GGNET.SHIFT": (0, None, False),
    "INPUT.GGNET.FLIP_PROB": (0, 1, False),
    "INPUT.GGNET.COLOR_JITTER": (0, 1, False),
    "INPUT.GGNET.PCA_LIGHTING": (0, None, False),
    "INPUT.GGNET.CROP_BORDER": (0, None, True),
    "INPUT.GGNET.GAZE_SIGMA_FACTOR": (1e-6, None, False),
    "INPUT.GGNET.GAZE_NEGATIVE_SIGMA_FACTOR": (1e-6, None, False),
    "DATASETS.HOI.BOX_CLIP_TOLERANCE": (0, None, False),
    "SOLVER.IMS_PER_BATCH": (1, None, True),
    "SOLVER.BASE_LR": (0, None, False),
    "SOLVER.GLANCE_LR_FACTOR": (0, None, False),
    "SOLVER.FINITE_CHECK_PERIOD": (1, None, True),
    "MODEL.GGNET.TEXT.LOGIT_SCALE_INIT": (1e-6, None, False),
    "MODEL.GGNET.DISTILL.WEIGHT": (0, None, False),
    "MODEL.GGNET.DISTILL.IMAGE_SIZE": (1, None, True),
}


def _get(cfg, key):
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _set(cfg, key, value):
    *parents, last = key.split(".")
    setattr(_get(cfg, ".".join(parents)), last, value)


def _range_problem(key, value, lowest, highest, integer):
    kind = "an integer" if integer else "a number"
    bounds = " and ".join(b for b in (f">= {lowest:g}" if lowest is not None else "",
                                      f"<= {highest:g}" if highest is not None else "") if b)
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)) or (
            lowest is not None and value < lowest) or (highest is not None and value > highest):
        return f"{key} = {value!r}: must be {kind} {bounds}"
    return None


def _choice_problems(cfg):
    """Choice-valued keys against ``CHOICES``; renamed values are replaced in ``cfg`` unless it is frozen."""
    problems = []
    for key in CHOICES:
        value, problem = choice_problem(key, _get(cfg, key))
        if problem:
            problems.append(problem)
        elif value != _get(cfg, key) and not cfg.is_frozen():
            _set(cfg, key, value)
    if cfg.MODEL.BACKBONE.NAME not in BACKBONE_REGISTRY:
        problems.append(f"MODEL.BACKBONE.NAME = {cfg.MODEL.BACKBONE.NAME!r}: not a registered backbone; one of "
                        f"{sorted(name for name, _ in BACKBONE_REGISTRY)}")
    return problems


def _model_problems(cfg):
    """Counts that must agree with each other: ActPoints, the person channel, the verb-object pairs."""
    g, problems = cfg.MODEL.GGNET, []
    classes_ok, verbs_ok = (not _range_problem(k, _get(cfg, k), *_RANGES[k]) for k in (
        "MODEL.GGNET.NUM_CLASSES", "MODEL.GGNET.NUM_VERBS"))
    n = g.NUM_ACTPOINTS
    side = math.isqrt(n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0
    if side * side != n or side % 2 == 0:
        problems.append(f"MODEL.GGNET.NUM_ACTPOINTS = {n!r}: must be the square of an odd number (1, 9, 25, 49, ...: "
                        "the gaze steps' sqrt(n) x sqrt(n) deformable kernel is centred on the point)")
    if classes_ok and not (isinstance(g.PERSON_CLASS_ID, int) and 0 <= g.PERSON_CLASS_ID < g.NUM_CLASSES):
        problems.append(f"MODEL.GGNET.PERSON_CLASS_ID = {g.PERSON_CLASS_ID!r}: must be a class id in "
                        f"[0, MODEL.GGNET.NUM_CLASSES = {g.NUM_CLASSES})")
    bad_pairs = [p for p in g.VALID_VERB_OBJECT if classes_ok and verbs_ok and not (
        len(p) == 2 and all(isinstance(i, int) for i in p) and 0 <= p[0] < g.NUM_VERBS and 0 <= p[1] < g.NUM_CLASSES)]
    if bad_pairs:
        problems.append(f"MODEL.GGNET.VALID_VERB_OBJECT: pairs {bad_pairs[:5]} are not [verb, object] with verb in "
                        f"[0, NUM_VERBS = {g.NUM_VERBS}) and object in [0, NUM_CLASSES = {g.NUM_CLASSES})")
    scale = tuple(cfg.INPUT.GGNET.SCALE_RANGE)
    if not (len(scale) == 2 and 0 < scale[0] <= scale[1]):
        problems.append(f"INPUT.GGNET.SCALE_RANGE = {scale!r}: must be (low, high) with 0 < low <= high")
    if not cfg.INPUT.GGNET.CROP_SCALES or min(cfg.INPUT.GGNET.CROP_SCALES) <= 0:
        problems.append(f"INPUT.GGNET.CROP_SCALES = {tuple(cfg.INPUT.GGNET.CROP_SCALES)!r}: must be positive factors")
    if len(cfg.MODEL.PIXEL_MEAN) != 3 or len(cfg.MODEL.PIXEL_STD) != 3 or min(cfg.MODEL.PIXEL_STD) <= 0:
        problems.append(f"MODEL.PIXEL_MEAN / PIXEL_STD = {list(cfg.MODEL.PIXEL_MEAN)} / {list(cfg.MODEL.PIXEL_STD)}: "
                        "must be three values each, standard deviations > 0")
    return problems


def _solver_problems(cfg):
    """SOLVER.METRICS_SYNC_PERIOD: a divisor of detectron2's writer period (``check_metrics_sync_period``)."""
    try:
        check_metrics_sync_period(cfg.SOLVER.METRICS_SYNC_PERIOD)
    except ValueError as e:
        return [str(e)]
    return []


def _backbone_geometry(cfg):
    """(output stride, size divisibility) of the configured backbone, built on the meta device; None if it cannot
    be built there (its own build error then comes when the model is built)."""
    meta_cfg = cfg.clone()
    meta_cfg.defrost()
    meta_cfg.MODEL.RESNET_DECONV.IMAGENET_PRETRAINED = False  # no download for a shape check
    try:
        with torch.device("meta"):
            backbone = build_backbone(meta_cfg)
    except Exception:  # noqa: BLE001 -- any build failure is reported by the real build, with its own message
        return None
    strides = {s.stride for s in backbone.output_shape().values()}
    return (strides.pop() if len(strides) == 1 else None), int(getattr(backbone, "size_divisibility", 0) or 0)


def _size_problems(cfg):
    """INPUT_SIZE against the output stride and the padding multiple; OUTPUT_STRIDE against the backbone."""
    g = cfg.INPUT.GGNET
    stride = cfg.MODEL.GGNET.OUTPUT_STRIDE
    geometry = _backbone_geometry(cfg)
    problems = []
    divisibility = g.SIZE_DIVISIBILITY
    if geometry is not None:
        backbone_stride, backbone_div = geometry
        if backbone_stride is not None and backbone_stride != stride:
            problems.append(f"MODEL.GGNET.OUTPUT_STRIDE = {stride}: the backbone {cfg.MODEL.BACKBONE.NAME} has output "
                            f"stride {backbone_stride}")
        divisibility = max(divisibility, backbone_div)
    # training crops are padded to the padding multiple before the backbone, so the feature map would no longer be
    # INPUT_SIZE / OUTPUT_STRIDE, the size of the targets
    multiple = math.lcm(stride, max(divisibility, 1))
    if g.INPUT_SIZE % multiple:
        problems.append(f"INPUT.GGNET.INPUT_SIZE = {g.INPUT_SIZE}: must be a multiple of {multiple} (OUTPUT_STRIDE "
                        f"{stride}, padding multiple {divisibility}: INPUT.GGNET.SIZE_DIVISIBILITY and the backbone's)")
    return problems


def check_ggnet_config(cfg):
    """Check a merged GGNet config once, before any data is read; replace earlier value names by current ones.

    Checked: every choice-valued key (``ggnet_d2/config_choices.py`` CHOICES) and MODEL.BACKBONE.NAME; every count
    and range (top-K >= 1, NUM_CLASSES / NUM_VERBS >= 1, NUM_GAZE_STEPS >= 0, loss weights >= 0, probabilities in
    [0, 1], SOLVER.METRICS_SYNC_PERIOD a divisor of 20, ...); NUM_ACTPOINTS the square of an odd number;
    PERSON_CLASS_ID a class; VALID_VERB_OBJECT pairs in range; OUTPUT_STRIDE the backbone's; INPUT_SIZE a multiple of
    the output stride and of the padding multiple (training crops are padded before the backbone, so another size
    would no longer match the targets). TEST_SIZE needs no multiple: test inputs are padded and decoded boxes mapped
    back by scale (TEST_SIZE 130 decodes with both placements).

    Args:
        cfg (CfgNode): a config with GGNet's keys (``add_ggnet_config``), merged; when it is not frozen, renamed
            values are replaced in place (a deprecation warning names key, old and new value).

    Returns:
        CfgNode: ``cfg``.

    Raises:
        ConfigError: (a ValueError) listing every bad key with its value and what is allowed.
    """
    problems = _choice_problems(cfg)
    problems += [p for key, spec in _RANGES.items() if (p := _range_problem(key, _get(cfg, key), *spec))]
    problems += _model_problems(cfg) + _solver_problems(cfg)
    if not any(p.startswith(("INPUT.GGNET.INPUT_SIZE", "MODEL.GGNET.OUTPUT_STRIDE", "INPUT.GGNET.SIZE_DIV",
                             "MODEL.BACKBONE.NAME")) for p in problems):
        problems += _size_problems(cfg)
    if problems:
        raise ConfigError(f"{len(problems)} bad config value(s):\n  " + "\n  ".join(problems))
    return cfg
