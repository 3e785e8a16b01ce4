#!/usr/bin/env python
"""Export a GGNet config + checkpoint to ONNX or TorchScript (modelled on detectron2's tools/deploy/export_model.py).

    python tools/deploy/export_model.py --config-file configs/GGNet_DLA34_HICO.yaml --format onnx \
        --output exported/ MODEL.WEIGHTS output/GGNet_DLA34_HICO/model_final.pth

Writes ``<output>/model.onnx`` (or ``model.ts``) and ``<output>/ggnet_deploy.json`` (test input, decoding and
class settings for ``ggnet_d2.deploy.runtime``). The graph takes the config's test input -- a normalised
(B, 3, S, S) batch -- and returns the top-K decoded HOI triplets (and, with ``--head-maps``, the raw head maps);
README "Deployment". ``--run-check`` then runs the export on random input and compares it with PyTorch.
"""
import argparse
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

logger = logging.getLogger("ggnet_d2.export")


def get_parser():
    parser = argparse.ArgumentParser(description="Export GGNet to ONNX or TorchScript")
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to a GGNet config file")
    parser.add_argument("--format", choices=["onnx", "torchscript"], default="onnx", help="output format")
    parser.add_argument("--output", required=True, help="output folder (model file + ggnet_deploy.json)")
    parser.add_argument("--batch-size", type=int, default=1, help="fixed batch size of the exported graph")
    parser.add_argument("--head-maps", action="store_true",
                        help="also output the last head's raw maps (heatmap logits, sizes, offsets, APM, ActPoints)")
    parser.add_argument("--random-weights", action="store_true",
                        help="export with random weights when MODEL.WEIGHTS is empty (benchmarks, tests)")
    parser.add_argument("--run-check", action="store_true",
                        help="run the exported file on a random input and print its largest difference to PyTorch")
    parser.add_argument("opts", default=[], nargs=argparse.REMAINDER,
                        help="config overrides: KEY VALUE pairs at the end of the command")
    return parser


def build_model_for_export(cfg, random_weights=False):
    """GGNet of ``cfg`` in eval mode with MODEL.WEIGHTS loaded (``load_inference_weights``: refuses weights that
    leave parameters random, unless ``random_weights`` with an empty MODEL.WEIGHTS)."""
    from detectron2.modeling import build_model

    from ggnet_d2.modeling.checkpoint import load_inference_weights

    model = build_model(cfg)
    if random_weights and not cfg.MODEL.WEIGHTS:
        logger.warning("exporting with random weights (--random-weights, MODEL.WEIGHTS empty)")
    else:
        load_inference_weights(model, cfg)
    return model.eval()


def run_check(model, cfg, folder, fmt):
    """Largest absolute difference of every output between PyTorch and the exported file on one random input."""
    import numpy as np
    import torch

    from ggnet_d2.deploy.adapter import GGNetDeployAdapter
    from ggnet_d2.deploy.export import _trace_input
    from ggnet_d2.deploy.runtime import ONNXRuntimeNetwork, find_model_file, load_deploy_spec
    from ggnet_d2.deploy.torchscript import TorchScriptNetwork

    spec = load_deploy_spec(folder)
    x = _trace_input(cfg, spec["batch_size"])
    with torch.no_grad():
        ref = GGNetDeployAdapter(model, head_maps="obj_heatmap" in spec["output_names"])(x)
    path = find_model_file(folder, fmt)
    net = ONNXRuntimeNetwork(path) if fmt == "onnx" else TorchScriptNetwork(path, spec["output_names"],
                                                                            cfg.MODEL.DEVICE)
    out = net(x.cpu().numpy())
    for name, r in zip(spec["output_names"], ref):
        r = r.cpu().numpy()
        diff = np.abs(r.astype(np.float64) - out[name].astype(np.float64)).max() if r.size else 0.0
        print(f"{name:26s} {str(tuple(r.shape)):22s} max |PyTorch - {fmt}| = {diff:.3g}")


def main(argv=None):
    args = get_parser().parse_args(argv)
    from detectron2.utils.logger import setup_logger

    from ggnet_d2.deploy.export import export_onnx, export_torchscript, require_onnx_exporter
    from ggnet_d2.engine import setup_cfg

    setup_logger(name="ggnet_d2")
    if args.format == "onnx":
        try:
            require_onnx_exporter()
        except ImportError as e:
            raise SystemExit(f"export_model.py: {e}") from None
    cfg = setup_cfg(args.config_file, args.opts)
    model = build_model_for_export(cfg, args.random_weights)
    export = export_onnx if args.format == "onnx" else export_torchscript
    path = export(model, cfg, args.output, batch_size=args.batch_size, head_maps=args.head_maps)
    logger.info(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB) and {args.output}/ggnet_deploy.json")
    if args.run_check:
        run_check(model, cfg, args.output, args.format)


if __name__ == "__main__":
    main()
