"""detectron2 checkpointer that also loads the reference CenterNet / PPDM / GGNet checkpoints, strictly."""
import logging

from detectron2.checkpoint import DetectionCheckpointer

from .convert import (check_conversion, convert_reference_state_dict, format_conversion_report,
                      looks_like_reference_state_dict)
from .weights_file import LOAD_ERRORS, WeightsFileError, check_weights_file, translate_load_error

__all__ = ["GGNetCheckpointer"]

logger = logging.getLogger(__name__)


def _apm_input(model):
    heads = getattr(model, "heads", None)
    return getattr(heads[0], "apm_input", None) if heads is not None and len(heads) else None


class GGNetCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` whose ``load`` recognises reference checkpoints (``{"state_dict": ...}`` or a bare
    state dict named as in CenterNet/PPDM/GGNet, see ``convert.py``) and renames them onto the model. Our own
    checkpoints load unchanged.

    A reference checkpoint must map completely (the recognised source and the report are logged): an unmapped
    reference tensor, a shape mismatch, or a parameter of ours the source should provide raises
    ``IncompleteCheckpointError`` unless ``allow_partial`` (``MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL``). Gaps declared
    for the source (the HOI heads of a COCO CenterNet detector) are accepted and logged.

    A file that is not a checkpoint (text, random bytes, truncated, not a state dict) or a checkpoint of another model
    (no tensor name in common) raises :class:`WeightsFileError` naming the file and what it holds.

    After ``load``, ``uninitialised`` lists the model's state-dict keys the checkpoint left at initialisation (its
    missing keys and those dropped for a shape mismatch, except GGNet's ``valid_verb_object`` buffer, a dataset fact);
    None when nothing was loaded (empty path).

    Args:
        model, save_dir, checkpointables: as ``DetectionCheckpointer``.
        allow_partial (bool): load incomplete reference conversions anyway (their report is still logged).
    """

    def __init__(self, model, save_dir="", *, allow_partial=False, **checkpointables):
        super().__init__(model, save_dir, **checkpointables)
        self.allow_partial = allow_partial
        self.uninitialised = None
        self._loading = None  # the file being loaded, for _load_model's messages

    def _load_file(self, filename):
        check_weights_file(filename)  # a text file, random bytes, a cut download: named, not torch's advice
        try:
            loaded = super()._load_file(filename)
        except LOAD_ERRORS as e:
            raise translate_load_error(filename, e) from None
        self._loading = filename
        if not isinstance(loaded, dict) or not isinstance(loaded.get("model", loaded), dict):
            raise WeightsFileError(filename, f"holds a {type(loaded.get('model', loaded)).__name__}, not a state "
                                             "dict (name -> tensor)")
        state = loaded.get("model", loaded)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not (isinstance(state, dict) and looks_like_reference_state_dict(state)):
            return loaded
        converted, report = convert_reference_state_dict(state, self.model.state_dict(),
                                                         apm_input=_apm_input(self.model))
        text = format_conversion_report(report, filename)
        (logger.info if report["complete"] else logger.warning)(text)
        check_conversion(report, self.allow_partial, filename)
        return {"model": converted, "__author__": f"reference ({report['source'].key})",
                "matching_heuristics": False}

    def _load_model(self, checkpoint):
        theirs = {k[len("module."):] if k.startswith("module.") else k for k in checkpoint["model"]}
        ours = set(self.model.state_dict())
        if theirs and not theirs & ours and not checkpoint.get("matching_heuristics", False):
            raise WeightsFileError(self._loading, (
                f"a checkpoint of another model: none of its {len(theirs)} tensors is a parameter of this model "
                f"(its names: {sorted(theirs)[:4]}...; this model's: {sorted(ours)[:4]}...)"))
        incompatible = super()._load_model(checkpoint)
        dropped = [k for k, _, _ in incompatible.incorrect_shapes]
        # valid_verb_object is a dataset fact (config or metadata when absent from the file), not a learned weight
        self.uninitialised = sorted(k for k in set(incompatible.missing_keys) | set(dropped)
                                    if not k.endswith("valid_verb_object"))
        return incompatible
