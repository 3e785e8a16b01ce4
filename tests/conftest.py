"""Shared fixtures: the quickstart config shrunk for CPU tests, the paper backbones shrunk, and a 4-image slice of the
synthetic held-out split, for evaluation that must stay fast."""
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from ggnet_d2.engine import setup_cfg

TINY_TEST = "synth_hoi_test_first4"
QUICKSTART = str(Path(__file__).resolve().parents[1] / "configs" / "quickstart" / "GGNet_R18_synth.yaml")
# The quickstart's ResNet-18 GGNet at 64 pixels with 16-channel deconvolutions and heads, batch 2, no loader workers:
# a training step takes well under a second on 2 CPU cores.
TINY_R18_OPTS = (
    "INPUT.GGNET.INPUT_SIZE", "64", "INPUT.GGNET.TEST_SIZE", "64", "SOLVER.IMS_PER_BATCH", "2",
    "DATALOADER.NUM_WORKERS", "0", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]", "MODEL.GGNET.HEAD_CONV", "16",
)
# The paper-size backbones narrowed (same depth, same strides) so that every config builds and steps on 2 CPU cores.
SHRINK_BACKBONE_OPTS = {
    "build_dla34_backbone": ("MODEL.DLA.CHANNELS", "[8, 8, 16, 16, 32, 32]"),
    "build_hourglass104_backbone": ("MODEL.HOURGLASS.DIMS", "[16, 16, 24, 24, 24, 32]",
                                    "MODEL.HOURGLASS.MODULES", "[1, 1, 1, 1, 1, 1]",
                                    "MODEL.HOURGLASS.STEM_CHANNELS", "16"),
    "build_resnet_deconv_backbone": ("MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]"),
}


@pytest.fixture(scope="session")
def quickstart_config():
    """Path of configs/quickstart/GGNet_R18_synth.yaml."""
    return QUICKSTART


@pytest.fixture(scope="session")
def tiny_r18_opts():
    """KEY VALUE list shrinking the quickstart config (``TINY_R18_OPTS``), for setup_cfg or a command line."""
    return list(TINY_R18_OPTS)


@pytest.fixture(scope="session")
def tiny_r18_cfg():
    """``tiny_r18_cfg(*opts)``: the frozen quickstart config with ``TINY_R18_OPTS`` and then ``opts`` (setup_cfg)."""
    return lambda *opts: setup_cfg(QUICKSTART, [*TINY_R18_OPTS, *opts])


@pytest.fixture(scope="session")
def shrink_backbone_opts():
    """``shrink_backbone_opts(backbone_name)``: KEY VALUE list narrowing that backbone (``SHRINK_BACKBONE_OPTS``)."""
    return lambda name: list(SHRINK_BACKBONE_OPTS[name])


@pytest.fixture(scope="session")
def tiny_synth_test():
    """Name of a registered dataset holding the first 4 images of ``synth_hoi_test`` (same metadata)."""
    if TINY_TEST not in DatasetCatalog.list():
        DatasetCatalog.register(TINY_TEST, lambda: DatasetCatalog.get("synth_hoi_test")[:4])
        metadata = MetadataCatalog.get("synth_hoi_test").as_dict()
        metadata.pop("name")
        # the subset is not the split's annotation file: its ground truth must come from its own dataset dicts
        metadata.pop("json_file", None)
        MetadataCatalog.get(TINY_TEST).set(**metadata)
    return TINY_TEST
