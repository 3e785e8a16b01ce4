import pytest
import torch
from detectron2.modeling import build_backbone

from test_modeling_helpers import tiny_cfg


@pytest.mark.parametrize("name", ["dla", "hourglass", "resnet"])
@pytest.mark.parametrize("hw", [(512, 512), (256, 384)])
def test_backbone_stride4_shapes(name, hw):
    cfg = tiny_cfg(name)
    if name == "resnet":
        cfg.MODEL.RESNET_DECONV.DECONV_CHANNELS = [256, 128, 64]  # real ResNet-18 config
    bb = build_backbone(cfg).eval()
    with torch.no_grad():
        out = bb(torch.randn(1, 3, *hw))
    stacks = 2 if name == "hourglass" else 1
    assert list(out) == bb._out_features and len(out) == stacks
    for k, v in out.items():
        assert v.shape == (1, bb.output_shape()[k].channels, hw[0] // 4, hw[1] // 4)
        assert bb.output_shape()[k].stride == 4


def test_resnet50_channels():
    cfg = tiny_cfg("resnet")
    cfg.MODEL.RESNET_DECONV.DEPTH = 50
    bb = build_backbone(cfg)
    assert bb.layer4[-1].conv3.out_channels == 2048 and bb.output_shape()["p2"].channels == 8


def test_bad_sizes_raise():
    bb = build_backbone(tiny_cfg("hourglass"))
    with pytest.raises(ValueError, match="multiple of 128"):
        bb(torch.randn(1, 3, 64, 64))
    cfg = tiny_cfg("resnet")
    cfg.MODEL.RESNET_DECONV.DEPTH = 34
    with pytest.raises(ValueError, match="18 or 50"):
        build_backbone(cfg)
