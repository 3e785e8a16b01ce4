#!/usr/bin/env python
"""Convert a CenterNet / PPDM / GGNet reference checkpoint to a ggnet_d2 (detectron2) checkpoint.

Usage: python tools/convert_weights.py --config-file configs/X.yaml --input ctdet_coco_dla_2x.pth --output out.pth
Prints every reference tensor without a counterpart (name or shape), see ggnet_d2/modeling/checkpoint/convert.py.
"""
import argparse

import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.utils.logger import setup_logger

from ggnet_d2 import add_ggnet_config
from ggnet_d2.modeling.checkpoint import convert_reference_state_dict


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-file", default="")
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("opts", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    setup_logger()
    setup_logger(name="ggnet_d2")
    cfg = add_ggnet_config(get_cfg())
    if args.config_file:
        cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(args.opts)
    cfg.MODEL.DEVICE = "cpu"
    model = build_model(cfg)
    loaded = torch.load(args.input, map_location="cpu", weights_only=False)
    state = loaded.get("state_dict", loaded.get("model", loaded))
    converted, report = convert_reference_state_dict(state, model.state_dict())
    print(f"converted {len(converted)} tensors; {len(report['not_loaded'])} of ours left at initialisation")
    for kind in ("unmatched", "shape_mismatch"):
        print(f"{kind}: {len(report[kind])}")
        for line in report[kind]:
            print("  " + line)
    torch.save({"model": converted, "__author__": f"converted from {args.input}", "matching_heuristics": False},
               args.output)


if __name__ == "__main__":
    main()
