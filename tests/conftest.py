"""Shared fixtures: a 4-image slice of the synthetic held-out split, for evaluation that must stay fast."""
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

TINY_TEST = "synth_hoi_test_first4"


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
