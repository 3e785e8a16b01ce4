"""``python -m ggnet_d2.collect_env``: detectron2's environment table plus the detectron2 variant in use."""
from tabulate import tabulate

from detectron2.utils.collect_env import collect_env_info

from ggnet_d2.utils.detectron2_variant import detectron2_variant


def collect_ggnet_env_info():
    """Return detectron2's environment table followed by a ggnet_d2 table (str)."""
    info = detectron2_variant()
    import ggnet_d2

    rows = [
        ("ggnet_d2", ggnet_d2.__version__),
        ("detectron2 variant", info["variant"]),
        ("detectron2 compiled ops (_C)", "present" if info["compiled_ops"] else "absent (torchvision.ops used)"),
    ]
    return collect_env_info() + "\n" + tabulate(rows)


if __name__ == "__main__":
    print(collect_ggnet_env_info())
