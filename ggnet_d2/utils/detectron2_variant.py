"""Which detectron2 is installed: an official build, or the offline v0.6 build made by tools/install_detectron2.py."""
import importlib


def detectron2_variant():
    """Describe the importable detectron2.

    Returns:
        dict: ``version`` (str), ``variant`` ("official build" or "offline v0.6 build (pb1-detectron2 sdist)"),
        ``compiled_ops`` (bool: whether ``detectron2._C`` is a real compiled extension).

    Raises:
        ImportError: when detectron2 is not installed.
    """
    import detectron2

    try:
        c_ext = importlib.import_module("detectron2._C")
    except ImportError:
        c_ext = None
    offline = bool(c_ext is not None and getattr(c_ext, "GGNET_D2_OFFLINE_V06_BUILD", False))
    return {
        "version": detectron2.__version__,
        "variant": "offline v0.6 build (pb1-detectron2 sdist)" if offline else "official build",
        "compiled_ops": c_ext is not None and not offline,
    }
