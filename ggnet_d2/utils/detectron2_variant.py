"""Which detectron2 is installed: an official build, or the offline v0.6 build made by tools/install_detectron2.py;
and the API differences between v0.6 and current detectron2 that GGNet's extensions depend on."""
import importlib
import inspect


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


def write_metrics_takes_iter():
    """Whether ``SimpleTrainer._write_metrics`` takes ``iter`` (detectron2 after April 2023: ``_write_metrics(
    loss_dict, data_time, prefix="", iter=None)`` calling ``write_metrics(loss_dict, data_time, cur_iter, prefix)``,
    which puts the scalars under ``cur_iter``). v0.6 has ``_write_metrics(loss_dict, data_time, prefix="")`` and puts
    them under the event storage's ``iter``.

    Returns:
        bool.
    """
    from detectron2.engine import SimpleTrainer

    return "iter" in inspect.signature(SimpleTrainer._write_metrics).parameters
