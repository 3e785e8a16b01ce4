"""Loading weights for inference (``train_net.py --eval-only``, the demo): every parameter must come from them."""
import logging

from .checkpointer import GGNetCheckpointer

__all__ = ["UninitialisedWeightsError", "load_inference_weights"]

logger = logging.getLogger(__name__)


class UninitialisedWeightsError(ValueError):
    """Inference weights left some of the model's parameters at their initialisation (the message lists them)."""


def load_inference_weights(model, cfg, resume=False):
    """Load ``cfg.MODEL.WEIGHTS`` (ours or a reference checkpoint, see ``GGNetCheckpointer``) for inference.

    Evaluating or drawing a model part of which is random gives meaningless numbers, so unless
    ``cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL`` is set this refuses weights that leave any parameter or buffer at
    initialisation: an empty ``MODEL.WEIGHTS``, a COCO CenterNet detector (no HOI heads), or a checkpoint of a
    differently configured model. BatchNorm ``num_batches_tracked`` counters are not required (inference never reads
    them). Training from a COCO model is unaffected: the trainer does not call this.

    Args:
        model (nn.Module): the built GGNet model (unwrapped or DDP).
        cfg (CfgNode): reads MODEL.WEIGHTS, OUTPUT_DIR and MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL.
        resume (bool): as ``Checkpointer.resume_or_load`` (load the last checkpoint of OUTPUT_DIR when present).

    Returns:
        GGNetCheckpointer: the checkpointer used (its ``uninitialised`` lists what was left at initialisation).

    Raises:
        UninitialisedWeightsError: some parameters were left at initialisation and partial loading is not allowed.
        IncompleteCheckpointError: a reference checkpoint did not convert completely (same override).
    """
    allow = bool(cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL)
    checkpointer = GGNetCheckpointer(model, save_dir=cfg.OUTPUT_DIR, allow_partial=allow)
    checkpointer.resume_or_load(cfg.MODEL.WEIGHTS, resume=resume)
    if checkpointer.uninitialised is None:
        left = [k for k in checkpointer.model.state_dict() if _is_weight(k)]
        reason = "no weights were loaded (MODEL.WEIGHTS is empty)"
    else:
        left = [k for k in checkpointer.uninitialised if _is_weight(k)]
        reason = f"{cfg.MODEL.WEIGHTS} does not provide them"
    if left:
        text = (f"{len(left)} parameters are left at initialisation for inference: {reason}:\n  "
                + "\n  ".join(left))
        if not allow:
            raise UninitialisedWeightsError(text + "\nSet MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL True to run anyway.")
        logger.warning(text + "\n(allowed by MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL)")
    return checkpointer


def _is_weight(key):
    # BatchNorm's step counters are unused at inference; valid_verb_object is a dataset fact (config, metadata or a
    # checkpoint of ours: GGNet.from_config), not a learned weight.
    return not key.endswith(("num_batches_tracked", "valid_verb_object"))
