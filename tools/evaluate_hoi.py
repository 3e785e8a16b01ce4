#!/usr/bin/env python
"""Score a PPDM-style HOI prediction file against a registered dataset, without running a model.

The evaluator is chosen by the dataset's metadata ``evaluator_type`` (hico_det / vcoco / hoi), exactly as during
training, and sees the same prediction entries (docs/interfaces.md, "Prediction files").

Usage:
    python tools/evaluate_hoi.py --predictions preds.json --dataset hico_det_test [--output-dir out/]
"""
import argparse
import json

from detectron2.utils.logger import setup_logger

import ggnet_d2  # noqa: F401  registers the built-in datasets
from ggnet_d2.config import add_ggnet_config
from ggnet_d2.evaluation import build_hoi_evaluator, load_prediction_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", required=True, help="PPDM-style prediction JSON")
    parser.add_argument("--dataset", required=True, help="registered dataset name (DatasetCatalog)")
    parser.add_argument("--output-dir", default=None, help="where per-class AP JSON is written")
    args = parser.parse_args(argv)
    setup_logger(name="ggnet_d2")
    from detectron2.config import get_cfg
    cfg = add_ggnet_config(get_cfg())
    evaluator = build_hoi_evaluator(cfg, args.dataset, args.output_dir)
    results = evaluator.evaluate_predictions(load_prediction_file(args.predictions), source=args.predictions)
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
