"""Cheap checks of ggnet_d2.deploy (no export): refusals, the missing-extra message, export_mode's restore, the numpy
Pillow resize, the runtime's spec check."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from detectron2.config import get_cfg
from detectron2.modeling import build_model

from ggnet_d2 import add_ggnet_config
from ggnet_d2.deploy import runtime
from ggnet_d2.deploy.adapter import GGNetDeployAdapter, deploy_input_side, export_mode
from ggnet_d2.layers.deform_conv import ModulatedDeformConv
from ggnet_d2.layers.finite_guard import check_deform_conv_inputs

REPO = Path(__file__).resolve().parents[1]


def _tiny_cfg():
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.BACKBONE.NAME = "build_resnet_deconv_backbone"
    cfg.MODEL.RESNET_DECONV.DECONV_CHANNELS = [16, 16, 16]
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS, cfg.MODEL.GGNET.HEAD_CONV = 4, 7, 8
    cfg.MODEL.GGNET.NUM_ACTPOINTS = 9
    cfg.MODEL.DEFORM_CONV_BACKEND = "gather_gemm"
    cfg.INPUT.GGNET.TEST_SIZE = 64
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ()
    return cfg


def test_export_mode_uses_torchvision_without_the_finite_guard_and_restores():
    model = build_model(_tiny_cfg())
    convs = [m for m in model.modules() if isinstance(m, ModulatedDeformConv)]
    assert convs and all(m.backend == "gather_gemm" for m in convs)
    model.train()
    with export_mode(model):
        assert not model.training
        assert all(m.backend == "torchvision" for m in convs)
        assert not any(h is check_deform_conv_inputs for m in convs for h in m._forward_pre_hooks.values())
    assert model.training and all(m.backend == "gather_gemm" for m in convs)
    assert all(any(h is check_deform_conv_inputs for h in m._forward_pre_hooks.values()) for m in convs)


def test_export_refuses_what_the_graph_cannot_carry():
    cfg = _tiny_cfg()
    assert deploy_input_side(cfg) == 64
    cfg.INPUT.GGNET.TEST_SIZE = 100
    assert deploy_input_side(cfg) == 128  # padded to SIZE_DIVISIBILITY 32, as GGNet.preprocess_image does
    cfg.INPUT.GGNET.TEST_PAD_SQUARE = False
    with pytest.raises(ValueError, match="TEST_PAD_SQUARE"):
        deploy_input_side(cfg)
    model = build_model(_tiny_cfg())
    model.external_source = object()
    with pytest.raises(ValueError, match="EXTERNAL_DETECTIONS"):
        GGNetDeployAdapter(model)


def test_exporter_names_the_missing_extra(tmp_path):
    """onnxscript made unimportable: export_model.py --format onnx stops with the install command."""
    code = (
        "import importlib.abc, runpy, sys\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnxscript': raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, B())\n"
        f"sys.argv = ['export_model.py', '--config-file', {str(REPO / 'configs/quickstart/GGNet_R18_synth.yaml')!r},"
        f" '--format', 'onnx', '--output', {str(tmp_path / 'x')!r}]\n"
        f"runpy.run_path({str(REPO / 'tools/deploy/export_model.py')!r}, run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode != 0
    assert "onnxscript" in proc.stderr and "pip install -e '.[deploy]'" in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("shape,size", [((37, 91, 3), (40, 37)), ((200, 150, 3), (150, 64)),
                                        ((480, 640, 3), (512, 480)), ((33, 17, 3), (17, 90))])
def test_numpy_resize_is_pillow_bilinear_per_axis(shape, size):
    """Each pass alone (width-only and height-only resizes, down and up) equals Pillow's bilinear resize."""
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    new_w, new_h = size
    for w, h in ((new_w, shape[0]), (shape[1], new_h)):
        ref = np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))
        assert np.array_equal(runtime.resize_bilinear_pillow(img, w, h), ref), (w, h)


def test_runtime_box_clip_matches_the_models(tmp_path):
    from ggnet_d2.modeling.postprocess.decode import clip_boxes_authors

    boxes = np.array([[-5, -3, 20, 30], [90, 40, 130, 70], [10, 10, 12, 11], [-20, 50, 200, 60]], np.float32)
    got = runtime._clip_boxes(boxes, 60, 100, "authors")
    assert np.array_equal(got, clip_boxes_authors(torch.from_numpy(boxes), 60, 100).numpy())
    # by hand: x1/y1 into the image, sides in [10, image side], x2 = x1 + side
    assert got[1].tolist() == [90, 40, 130, 70] and got[2].tolist() == [10, 10, 20, 20]
    assert runtime._clip_boxes(boxes, 60, 100, "clip")[3].tolist() == [0, 50, 100, 60]


def test_runtime_spec_names_missing_keys(tmp_path):
    (tmp_path / runtime.DEPLOY_SPEC_FILE).write_text(json.dumps({"input_side": 64}))
    with pytest.raises(ValueError, match="missing keys .*test_size"):
        runtime.load_deploy_spec(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="export_model.py --format onnx"):
        runtime.find_model_file(str(tmp_path), "onnx")


def test_runtime_package_import_needs_no_torch():
    """``import ggnet_d2.deploy.runtime`` through the package with torch, torchvision and detectron2 unimportable."""
    code = (
        "import importlib.abc, sys\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'torchvision', 'detectron2'): raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, B())\n"
        "from ggnet_d2.deploy.runtime import HOIRuntimePredictor, preprocess, postprocess\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'detectron2')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
