"""Issue 19: modeling reads only its config and inputs (no data package, no catalogs), one gather op in layers/, the
loss's target keys agree with the mapper's, and the glance parameters come from the model."""
import ast
from pathlib import Path

import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.data.targets import TRAINING_TARGET_KEYS
from ggnet_d2.layers import gather_at_index
from ggnet_d2.modeling.losses.ggnet_loss import GAZE_TARGET_KEY, TARGET_KEYS
from ggnet_d2.modeling.postprocess.decode import _gather_points

from test_modeling_helpers import tiny_cfg

MODELING = Path(__file__).resolve().parents[1] / "ggnet_d2" / "modeling"


def _violations(path):
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            # relative "from ...data" (level 3 from a sub-package, 2 from modeling itself) reaches ggnet_d2.data
            if module.startswith("ggnet_d2.data") or (module.split(".")[0] == "data" and node.level >= 2):
                found.append(f"{path.name}:{node.lineno} imports {module}")
        if isinstance(node, ast.Import):
            found += [f"{path.name}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name.startswith("ggnet_d2.data")]
        if isinstance(node, ast.Name) and node.id in ("DatasetCatalog", "MetadataCatalog"):
            found.append(f"{path.name}:{node.lineno} uses {node.id}")
    return found


def test_modeling_imports_no_data_and_no_catalog():
    files = sorted(MODELING.rglob("*.py"))
    assert len(files) > 20
    assert sorted(set(v for f in files for v in _violations(f))) == []


def test_the_violation_check_sees_a_catalog_and_a_data_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ...data.targets import X\n"
                   "from detectron2.data import MetadataCatalog\nMetadataCatalog.get('a')\n")
    assert len(_violations(bad)) == 2


def test_gather_reads_flat_positions_and_decoding_uses_it():
    fmap = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    ys, xs = torch.tensor([[0, 3], [2, 1]]), torch.tensor([[4, 0], [2, 3]])
    # by hand: image b, point k, channel c -> fmap[b, c, y, x]
    expected = torch.stack([torch.stack([fmap[b, :, ys[b, k], xs[b, k]] for k in range(2)]) for b in range(2)])
    torch.testing.assert_close(gather_at_index(fmap, ys * 5 + xs), expected)
    torch.testing.assert_close(_gather_points(fmap, ys, xs), expected)
    with pytest.raises(ValueError, match=r"outside the 4x5 feature map: range \[-1, 3\]"):
        gather_at_index(fmap, torch.tensor([[-1, 3], [0, 0]]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA only: the bounds check must not synchronise")
def test_gather_on_cuda_does_not_synchronise():
    fmap = torch.randn(2, 3, 8, 8, device="cuda")
    index = torch.randint(0, 64, (2, 5), device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = gather_at_index(fmap, index)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.shape == (2, 5, 3)


def test_loss_target_keys_are_the_mappers():
    assert set(TARGET_KEYS) | {GAZE_TARGET_KEY} == set(TRAINING_TARGET_KEYS)
    assert len(TARGET_KEYS) + 1 == len(TRAINING_TARGET_KEYS)


@pytest.mark.parametrize("backbone", ["resnet", "hourglass"])
def test_glance_parameters_are_the_glance_convs_of_every_head(backbone):
    model = build_model(tiny_cfg(backbone))
    names = {id(p): n for n, p in model.named_parameters()}
    got = sorted(names[id(p)] for p in model.glance_parameters())
    heads = len(model.heads)
    assert heads == (2 if backbone == "hourglass" else 1)
    assert got == sorted(f"heads.{i}.interaction.{m}.{w}" for i in range(heads)
                         for m in ("glance_conv", "glance_cls") for w in ("weight", "bias"))


def test_missing_external_detections_are_an_error_naming_the_image():
    model = build_model(tiny_cfg("resnet", EXTERNAL_DETECTIONS={"SOURCE": "file"})).eval()
    with pytest.raises(ValueError, match="a.jpg.*external_detections"):
        model.external_detections([{"file_name": "a.jpg"}])
