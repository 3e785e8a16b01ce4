"""detectron2 checkpointer that also loads the reference CenterNet / PPDM / GGNet checkpoints."""
import logging

from detectron2.checkpoint import DetectionCheckpointer

from .convert import convert_reference_state_dict, looks_like_reference_state_dict

__all__ = ["GGNetCheckpointer"]

logger = logging.getLogger(__name__)


class GGNetCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` whose ``load`` recognises reference checkpoints (``{"state_dict": ...}`` or a bare
    state dict named as in CenterNet/PPDM/GGNet, see ``convert.py``) and renames them onto the model, logging every
    reference tensor that has no counterpart. Our own checkpoints load unchanged."""

    def _load_file(self, filename):
        loaded = super()._load_file(filename)
        state = loaded.get("model", loaded)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not (isinstance(state, dict) and looks_like_reference_state_dict(state)):
            return loaded
        converted, report = convert_reference_state_dict(state, self.model.state_dict())
        logger.info(f"{filename}: converted {len(converted)} reference tensors onto GGNet names")
        for kind in ("unmatched", "shape_mismatch"):
            if report[kind]:
                logger.warning(f"{filename}: {len(report[kind])} {kind} reference tensors: {report[kind]}")
        return {"model": converted, "__author__": "reference (CenterNet/PPDM/GGNet)", "matching_heuristics": False}
