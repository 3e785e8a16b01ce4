"""--eval-only and the demo refuse weights that leave parameters at initialisation, unless the override is set."""
import importlib.util
from pathlib import Path

import pytest
import torch
from detectron2.engine import default_argument_parser
from detectron2.modeling import build_model

from ggnet_d2.modeling.checkpoint import GGNetCheckpointer, UninitialisedWeightsError, load_inference_weights

from test_modeling_helpers import tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _cfg(tmp_path, weights, allow=False):
    cfg = tiny_cfg("resnet")
    cfg.OUTPUT_DIR = str(tmp_path / "out")
    cfg.MODEL.WEIGHTS = str(weights)
    cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL = allow
    return cfg


def _own_checkpoint(tmp_path, drop=()):
    model = build_model(tiny_cfg("resnet"))
    state = {k: v for k, v in model.state_dict().items() if k not in drop}
    path = tmp_path / "own.pth"
    torch.save({"model": state}, path)
    return path, model


def test_complete_weights_load(tmp_path):
    path, trained = _own_checkpoint(tmp_path)
    model = build_model(tiny_cfg("resnet"))
    checkpointer = load_inference_weights(model, _cfg(tmp_path, path))
    assert checkpointer.uninitialised == []
    for k, v in trained.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


def test_empty_weights_are_refused(tmp_path):
    with pytest.raises(UninitialisedWeightsError, match="MODEL.WEIGHTS is empty"):
        load_inference_weights(build_model(tiny_cfg("resnet")), _cfg(tmp_path, ""))
    load_inference_weights(build_model(tiny_cfg("resnet")), _cfg(tmp_path, "", allow=True))  # the override


def test_a_checkpoint_missing_tensors_is_refused_listing_them(tmp_path):
    drop = ("heads.0.interaction.gaze_cls.1.2.weight", "heads.0.apm.object.0.bias")
    path, _ = _own_checkpoint(tmp_path, drop)
    with pytest.raises(UninitialisedWeightsError) as err:
        load_inference_weights(build_model(tiny_cfg("resnet")), _cfg(tmp_path, path))
    assert "2 parameters are left at initialisation" in str(err.value)
    assert all(name in str(err.value) for name in drop)
    checkpointer = load_inference_weights(build_model(tiny_cfg("resnet")), _cfg(tmp_path, path, allow=True))
    assert sorted(checkpointer.uninitialised) == sorted(drop)


def test_a_coco_detector_trains_but_does_not_evaluate(tmp_path):
    model = build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))
    detector = {"module." + k[len("backbone."):]: v for k, v in model.state_dict().items()
                if k.startswith("backbone.")}
    for ours, ref in (("object.hm", "hm"), ("object.wh", "wh"), ("object.reg", "reg")):
        for i in ("0", "2"):
            for p in ("weight", "bias"):
                detector[f"module.{ref}.{i}.{p}"] = model.state_dict()[f"heads.0.{ours}.{i}.{p}"]
    path = tmp_path / "ctdet_coco.pth"
    torch.save({"epoch": 70, "state_dict": detector}, path)
    GGNetCheckpointer(build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))).load(str(path))  # training's start: fine
    cfg = _cfg(tmp_path, path)
    cfg.MODEL.BACKBONE.NAME, cfg.MODEL.GGNET.NUM_GAZE_STEPS = "build_dla34_backbone", 0
    with pytest.raises(UninitialisedWeightsError, match=r"heads\.0\.interaction\.glance_cls\.weight"):
        load_inference_weights(build_model(cfg), cfg)


def test_train_net_eval_only_refuses_random_weights(tmp_path):
    spec = importlib.util.spec_from_file_location("train_net", REPO / "train_net.py")
    train_net = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_net)
    args = default_argument_parser().parse_args(
        ["--config-file", str(REPO / "configs/quickstart/GGNet_R18_synth.yaml"), "--eval-only", "MODEL.WEIGHTS", "",
         "MODEL.DEVICE", "cpu", "OUTPUT_DIR", str(tmp_path)])
    with pytest.raises(UninitialisedWeightsError, match="MODEL.WEIGHTS is empty"):
        train_net.main(args)
