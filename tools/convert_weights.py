#!/usr/bin/env python
"""Convert a CenterNet / PPDM / GGNet reference checkpoint to a ggnet_d2 (detectron2) checkpoint, strictly.

Usage:
    python tools/convert_weights.py --config-file configs/released/GGNet_Hourglass104_HICO.yaml \
        --input hoidet_hico_ggnet.pth --output pretrained/ggnet_hico_converted.pth

Prints the recognised source and the conversion report (ggnet_d2/modeling/checkpoint/convert.py): every reference
tensor without a counterpart (name or shape), every tensor of ours the source should provide but does not, and the
gaps accepted for that source. An incomplete conversion exits with status 1 and writes nothing, unless
``--allow-partial``. The model is built on the meta device (no memory for its weights).

``--valid-verb-object corre_*.npy`` stores the authors' verb-object correspondence (their detectors/hoidet.py loads
corre_hico.npy / corre_vcoco.npy for decoding) in the converted checkpoint, as GGNet's ``valid_verb_object``
buffer: the model then decodes with it from its weights alone (demo, ``--eval-only``), with or without the dataset.
"""
import argparse
import sys

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.utils.logger import setup_logger

import ggnet_d2  # noqa: F401  registers GGNet and its backbones
from ggnet_d2 import add_ggnet_config
from ggnet_d2.data.datasets.builtin import load_correspondence, load_vcoco_correspondence
from ggnet_d2.data.datasets.constants import VCOCO_PPDM_VERB_IDS
from ggnet_d2.modeling.checkpoint import convert_reference_state_dict, format_conversion_report, load_weights_file


def model_state_shapes(cfg):
    """``build_model(cfg).state_dict()`` with meta tensors: names and shapes only, nothing allocated."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = "meta"
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ()  # the model's shapes never depend on dataset files
    with torch.device("meta"):
        model = build_model(cfg)
    return model.state_dict(), model.heads[0].apm_input


def read_correspondence(path, num_verbs, num_classes):
    """A PPDM/GGNet ``corre_*.npy`` as bool (NUM_VERBS, NUM_CLASSES): (V, C) or (C, V); for a 29-verb V-COCO model,
    PPDM's 25-verb file is placed on its trained verb ids (``load_vcoco_correspondence``).

    Raises:
        ValueError: naming the file when its shape fits neither.
    """
    trained = len(VCOCO_PPDM_VERB_IDS)
    if num_verbs != trained and np.load(path).size == trained * num_classes:
        return load_vcoco_correspondence(path, num_verbs, num_classes)
    return load_correspondence(path, num_verbs, num_classes)


def read_reference(path):
    """The state dict of a reference checkpoint file (``{"state_dict": ...}``, ``{"model": ...}`` or bare)."""
    loaded = load_weights_file(path, weights_only=False)  # the user's own file, converted once (module docstring)
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            return loaded[key]
    return loaded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", default="", help="config of the target model (its parameter names and shapes)")
    parser.add_argument("--input", required=True, help="the reference checkpoint (.pth) to convert")
    parser.add_argument("--output", help="where to write the converted checkpoint (omit to only print the report)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="write the checkpoint even when the conversion is incomplete")
    parser.add_argument("--valid-verb-object", metavar="NPY",
                        help="the authors' corre_*.npy, stored in the output as the model's verb-object "
                             "correspondence")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE pairs")
    args = parser.parse_args(argv)
    setup_logger()
    setup_logger(name="ggnet_d2")
    cfg = add_ggnet_config(get_cfg())
    if args.config_file:
        cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(args.opts)
    target, apm_input = model_state_shapes(cfg)
    converted, report = convert_reference_state_dict(read_reference(args.input), target, apm_input=apm_input)
    print(format_conversion_report(report, args.input))
    if not report["complete"] and not args.allow_partial:
        print("not written: the conversion is incomplete (use --allow-partial to write it anyway)", file=sys.stderr)
        return 1
    if args.valid_verb_object:
        valid = read_correspondence(args.valid_verb_object, cfg.MODEL.GGNET.NUM_VERBS, cfg.MODEL.GGNET.NUM_CLASSES)
        converted["valid_verb_object"] = torch.from_numpy(valid)
        print(f"verb-object correspondence from {args.valid_verb_object}: {int(valid.sum())} valid pairs")
    if args.output:
        torch.save({"model": converted, "__author__": f"converted from {args.input} ({report['source'].key})",
                    "matching_heuristics": False}, args.output)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
