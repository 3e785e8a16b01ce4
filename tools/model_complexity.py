#!/usr/bin/env python
"""Print parameters and FLOPs (fvcore: one multiply-add = 1 flop) of GGNet's test path (backbone + the last stack's
heads; the parameter count includes every stack's heads) for the DLA-34, Hourglass-104 and ResNet-18 configs at
512x512 with the default config (HICO-DET: 80 classes, 117 verbs, 25 ActPoints, 2 gaze steps).

torchvision's deform_conv2d is counted by a handle: B * C_out * H_out * W_out * C_in * kh * kw (as a conv).
Usage: python tools/model_complexity.py [--size 512] [--backbones dla34 hourglass104 resnet18]
"""
import argparse

import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.utils.logger import setup_logger
from fvcore.nn import FlopCountAnalysis
from torch import nn

from ggnet_d2 import add_ggnet_config

BACKBONES = {"dla34": "build_dla34_backbone", "hourglass104": "build_hourglass104_backbone",
             "resnet18": "build_resnet_deconv_backbone"}


def deform_conv_flop(inputs, outputs):
    """fvcore handle for torchvision::deform_conv2d(input, weight, offset, mask, bias, ...)."""
    weight = inputs[1].type().sizes()
    out = outputs[0].type().sizes()
    return out[0] * out[1] * out[2] * out[3] * weight[1] * weight[2] * weight[3]


class _TestPath(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        feats = self.model.backbone(x)
        out = self.model.heads[-1](feats[self.model.backbone._out_features[-1]])
        return out["obj_heatmap"], out["interaction_logits"][-1], out["apm_subject"], out["apm_object"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512, help="square input side in pixels")
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES), help=f"any of {list(BACKBONES)}")
    args = parser.parse_args()
    setup_logger()
    setup_logger(name="ggnet_d2")
    for name in args.backbones:
        cfg = add_ggnet_config(get_cfg())
        cfg.MODEL.DEVICE = "cpu"
        cfg.MODEL.BACKBONE.NAME = BACKBONES[name]
        model = build_model(cfg).eval()
        params = sum(p.numel() for p in model.parameters())
        flops = FlopCountAnalysis(_TestPath(model), torch.zeros(1, 3, args.size, args.size))
        flops.set_op_handle("torchvision::deform_conv2d", deform_conv_flop)
        flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        with torch.no_grad():
            total = flops.total()
        print(f"{name}: params {params / 1e6:.2f} M, FLOPs {total / 1e9:.2f} G (test path at "
              f"{args.size}x{args.size}; unsupported ops: {dict(flops.unsupported_ops())})")


if __name__ == "__main__":
    main()
