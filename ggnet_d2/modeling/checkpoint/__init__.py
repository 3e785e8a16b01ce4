"""Checkpoint loading and conversion from the reference implementations."""
from .checkpointer import GGNetCheckpointer
from .convert import (REFERENCE_SOURCES, IncompleteCheckpointError, ReferenceSource, check_conversion,
                      convert_reference_state_dict, detect_reference_source, format_conversion_report,
                      looks_like_reference_state_dict, strip_module_prefix)
from .inference_weights import UninitialisedWeightsError, load_inference_weights
from .weights_file import WeightsFileError, load_weights_file

__all__ = ["GGNetCheckpointer", "REFERENCE_SOURCES", "IncompleteCheckpointError", "ReferenceSource",
           "UninitialisedWeightsError", "WeightsFileError", "check_conversion", "convert_reference_state_dict",
           "detect_reference_source", "format_conversion_report", "load_inference_weights",
           "load_weights_file", "looks_like_reference_state_dict", "strip_module_prefix"]
