"""ggnet_d2: GGNet (Glance and Gaze, CVPR 2021) one-stage HOI detection as a detectron2 extension.

``import ggnet_d2`` is light: it imports neither torch nor detectron2, so the torch-free parts
(:mod:`ggnet_d2.formats`, :mod:`ggnet_d2.metrics`, tools/evaluate_hoi.py on HICO-DET) start fast. The detectron2 parts
register themselves when imported, as detectron2's own projects do: ``ggnet_d2.data`` (the built-in HOI datasets),
``ggnet_d2.modeling`` (GGNet and its backbones), ``ggnet_d2.evaluation`` and ``ggnet_d2.engine`` (all three).
``from ggnet_d2 import add_ggnet_config`` imports and registers all of them (PEP 562 module ``__getattr__``).
"""
import importlib

__version__ = "0.1.0"
__all__ = ["add_ggnet_config"]

_SUBPACKAGES = ("config", "data", "engine", "evaluation", "formats", "layers", "metrics", "modeling", "utils")


def __getattr__(name):
    if name == "add_ggnet_config":
        for registering in ("data", "modeling", "evaluation"):
            importlib.import_module(f"{__name__}.{registering}")
        return importlib.import_module(f"{__name__}.config").add_ggnet_config
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"add_ggnet_config"} | set(_SUBPACKAGES))
