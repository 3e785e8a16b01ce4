"""Issue 2: the package installs, detectron2 imports, config defaults and registrations."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from detectron2.config import get_cfg

import ggnet_d2
from ggnet_d2 import add_ggnet_config
from ggnet_d2.utils.detectron2_variant import detectron2_variant

REPO = Path(__file__).resolve().parents[1]


def _load_installer():
    spec = importlib.util.spec_from_file_location("install_detectron2", REPO / "tools" / "install_detectron2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_defaults_are_the_papers():
    cfg = add_ggnet_config(get_cfg())
    g = cfg.MODEL.GGNET
    assert cfg.MODEL.META_ARCHITECTURE == "GGNet"
    assert cfg.INPUT.GGNET.INPUT_SIZE == 512 and g.OUTPUT_STRIDE == 4
    assert g.NUM_ACTPOINTS == 25 and g.NUM_GAZE_STEPS == 2 and g.APM_PER_VERB
    assert (g.LOSS.FOCAL_ALPHA, g.LOSS.HNA_BETA, g.LOSS.FOCAL_GAMMA) == (2.0, 7.0, 4.0)
    assert g.LOSS.GLANCE_WEIGHT == g.LOSS.INTERMEDIATE_GAZE_WEIGHT == g.LOSS.APM_SUBJECT_WEIGHT == 0.1
    assert g.LOSS.WH_WEIGHT == 0.1 and g.LOSS.FINAL_GAZE_WEIGHT == 1.0
    assert g.TEST.TOPK_INTERACTIONS == g.TEST.TOPK_HUMANS == g.TEST.TOPK_OBJECTS == 100
    assert cfg.SOLVER.OPTIMIZER == "ADAM" and cfg.SOLVER.BASE_LR == 1.5e-4 and cfg.SOLVER.IMS_PER_BATCH == 23
    # LR x0.1 at epoch 90 of 120: the step sits at 3/4 of the schedule.
    assert cfg.SOLVER.GAMMA == 0.1
    assert abs(cfg.SOLVER.STEPS[0] / cfg.SOLVER.MAX_ITER - 90 / 120) < 1e-4


def test_yaml_dump_and_merge_round_trip(tmp_path):
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.GGNET.NUM_ACTPOINTS = 49
    cfg.MODEL.GGNET.LOSS.HNA_ON = False
    cfg.INPUT.GGNET.SCALE_RANGE = (0.7, 1.3)
    path = tmp_path / "cfg.yaml"
    path.write_text(cfg.dump())
    again = add_ggnet_config(get_cfg())
    again.merge_from_file(str(path))
    assert yaml.safe_load(again.dump()) == yaml.safe_load(cfg.dump())
    assert again.MODEL.GGNET.NUM_ACTPOINTS == 49 and again.MODEL.GGNET.LOSS.HNA_ON is False


def test_base_config_file_merges():
    cfg = add_ggnet_config(get_cfg())
    cfg.merge_from_file(str(REPO / "configs" / "Base-GGNet.yaml"))
    assert cfg.MODEL.META_ARCHITECTURE == "GGNet"


def test_import_registers_ggnet_components():
    from detectron2.data import DatasetCatalog
    from detectron2.modeling import BACKBONE_REGISTRY, META_ARCH_REGISTRY

    assert "GGNet" in META_ARCH_REGISTRY
    for name in ("build_dla34_backbone", "build_hourglass104_backbone", "build_resnet_deconv_backbone"):
        assert name in BACKBONE_REGISTRY
    registered = set(DatasetCatalog.list())
    for name in ("hico_det_train", "hico_det_test", "vcoco_trainval", "vcoco_test", "synth_hoi_train", "synth_hoi_test"):
        assert name in registered


def test_offline_build_reports_missing_compiled_ops():
    info = detectron2_variant()
    if info["compiled_ops"]:
        pytest.skip("official detectron2 build with compiled ops")
    assert info["variant"].startswith("offline v0.6 build")
    from detectron2 import _C
    from detectron2.layers.rotated_boxes import pairwise_iou_rotated

    with pytest.raises(_C.CompiledOpsMissingError, match="box_iou_rotated is a compiled op.*offline v0.6 build"):
        pairwise_iou_rotated(torch.zeros(1, 5), torch.zeros(1, 5))
    assert not hasattr(_C, "deform_conv_forward")


def test_collect_env_names_the_variant():
    out = subprocess.run([sys.executable, "-m", "ggnet_d2.collect_env"], capture_output=True, text=True, check=True)
    info = detectron2_variant()
    assert "detectron2 variant" in out.stdout and info["variant"] in out.stdout
    assert ("present" if info["compiled_ops"] else "absent") in out.stdout


def test_installer_patches_setup_and_adds_stub(tmp_path):
    installer = _load_installer()
    src = tmp_path / "pb1-detectron2-0.6"
    (src / "detectron2" / "data" / "transforms").mkdir(parents=True)
    (src / "setup.py").write_text(
        'install_requires=["Pillow>=7.1", "black==21.4b2",]\n'
        "ext_modules=get_extensions(),\n"
        'cmdclass={"build_ext": torch.utils.cpp_extension.BuildExtension},\n'
    )
    transform = src / "detectron2" / "data" / "transforms" / "transform.py"
    transform.write_text("def __init__(self, src_rect, output_size, interp=Image.LINEAR, fill=0):\n"
                         "    x = Image.LINEARITY, Image.BILINEAR\n")
    installer.patch_sources(str(src))
    text = (src / "setup.py").read_text()
    assert "ext_modules=[]," in text and "get_extensions()" not in text and "BuildExtension" not in text
    assert '"Pillow>=7.1",' in text and "black==21.4b2" not in text  # no Pillow pin: any Pillow works
    assert transform.read_text() == ("def __init__(self, src_rect, output_size, interp=Image.BILINEAR, fill=0):\n"
                                     "    x = Image.LINEARITY, Image.BILINEAR\n")
    assert installer.is_current_offline_build(str(src / "detectron2"))
    (src / "setup.py").write_text("something else\n")
    with pytest.raises(SystemExit, match="unexpected setup.py"):
        installer.patch_sources(str(src))


def test_installed_detectron2_imports_with_pillow_10_names():
    """The installed transform module must not reference Image.LINEAR (gone in Pillow 10)."""
    import inspect

    from detectron2.data.transforms import transform
    if "Image.LINEAR" in inspect.getsource(transform):
        pytest.skip("detectron2 installed before the Image.LINEAR patch (run tools/install_detectron2.py again)")
    from PIL import Image
    assert transform.ExtentTransform.__init__.__defaults__[0] == Image.BILINEAR


def test_installer_version_gate():
    installer = _load_installer()
    assert installer.version_at_least("0.6") and installer.version_at_least("0.6+cu113")
    assert installer.version_at_least("0.7.1") and not installer.version_at_least("0.5")


def test_package_version_is_the_declared_one():
    # tomllib is Python 3.11+; the project supports 3.10
    declared = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert ggnet_d2.__version__ == declared
