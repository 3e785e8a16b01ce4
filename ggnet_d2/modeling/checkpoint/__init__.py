"""Checkpoint loading and conversion from the reference implementations."""
from .checkpointer import GGNetCheckpointer
from .convert import convert_reference_state_dict, looks_like_reference_state_dict, strip_module_prefix

__all__ = ["GGNetCheckpointer", "convert_reference_state_dict", "looks_like_reference_state_dict",
           "strip_module_prefix"]
