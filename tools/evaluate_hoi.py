#!/usr/bin/env python
"""Score a HOI prediction file offline, from the annotation files alone (no images, no training data).

HICO-DET from any released test annotation form (the official protocol, ggnet_d2/metrics/offline.py), without
importing torch or detectron2:
    python tools/evaluate_hoi.py --predictions preds.json --ground-truth instances_test2015.json
    python tools/evaluate_hoi.py --predictions preds.json --ground-truth anno_bbox.mat --image-labels anno.mat
    python tools/evaluate_hoi.py --predictions preds.json --dataset hico_det_test     # $DETECTRON2_DATASETS layout
    python tools/evaluate_hoi.py --predictions preds.json --ground-truth test_hico.json --zero-shot-split rare_first
Any registered dataset (evaluator chosen by its metadata ``evaluator_type``, as during --eval-only; a custom dataset
gets the generic triplet mAP):
    python tools/evaluate_hoi.py --predictions preds.json --dataset vcoco_test [--output-dir out/]
    python tools/evaluate_hoi.py --predictions preds.json --dataset my_test --custom my_test my/test.json my/images
    python tools/evaluate_hoi.py --predictions preds.json --dataset my_test --config-file my.yaml \\
        --opts DATASETS.HOI.CUSTOM "[('my_test', 'my/test.json', 'my/images')]" MODEL.GGNET.NUM_VERBS 10 ...
``--custom`` takes the class and verb ids of its file alone; ``--config-file`` / ``--opts`` (the config and options of
train_net.py and the demo) register the config's DATASETS.HOI.CUSTOM with the model's table, as --eval-only does, so a
test file lacking some of the training classes or verbs is scored as --eval-only scores it (with ``--custom`` the
predictions of the ids it lacks are an error). The config's TEST.HOI and zero-shot settings apply unless the options
below are given.

The prediction file (docs/interfaces.md, "Prediction files") is checked before scoring: unknown or missing keys,
bad boxes, ids or scores are errors naming the entry and record; an entry of an image that is not in the split is
an error naming it (--drop-unknown-images leaves such entries out and lists them on stderr); images of the split
without an entry are refused unless --allow-missing-images.

Prediction ids follow the ground truth's id space: PPDM's for test_hico.json and anno_bbox.mat (COCO object ids,
verbs 1..117), the file's own for a hicodet-layout json (objects 0..79 in its ``objects`` order, verbs 0..116).
"""
import argparse
import json
import os
import sys

from ggnet_d2.formats.zero_shot_splits import unseen_hoi_ids
from ggnet_d2.metrics.offline import score_hico_det_file

# The HICO-DET built-ins' test annotations, relative to $DETECTRON2_DATASETS (as registered in
# ggnet_d2/data/datasets/builtin.py; tests/test_eval_offline.py checks the two agree).
HICO_BUILTIN_FILES = {
    "hico_det_test": ("hico_20160224_det/annotations/test_hico.json", "test"),
    "hico_det_train": ("hico_20160224_det/annotations/trainval_hico.json", "train"),
}
HICO_IMAGE_LABELS = "hico_20160224_det/anno.mat"

__all__ = ["main", "score_hico_det_file", "HICO_BUILTIN_FILES"]


def _score_registered(args):
    """Any registered dataset through its evaluator (imports torch and detectron2)."""
    from detectron2.config import get_cfg
    from detectron2.utils.logger import setup_logger

    from ggnet_d2 import add_ggnet_config  # registers the built-in datasets
    from ggnet_d2.data import register_hoi_json
    from ggnet_d2.evaluation import build_hoi_evaluator
    from ggnet_d2.formats.predictions import load_prediction_file

    setup_logger(name="ggnet_d2")
    if args.config_file or args.opts:
        from ggnet_d2.engine import setup_cfg

        # as train_net.py and the demo: DATASETS.HOI.CUSTOM registered with the model's class / verb table
        cfg = setup_cfg(args.config_file, args.opts).clone()
    else:
        cfg = add_ggnet_config(get_cfg())
    for name, json_file, image_root in args.custom or ():
        register_hoi_json(name, json_file, image_root)
    if args.zero_shot_split or not (args.config_file or args.opts):
        cfg.defrost()
        cfg.DATASETS.HOI.ZERO_SHOT_SPLIT = args.zero_shot_split
        cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN = args.zero_shot_unseen
    # a flag given on the command line wins; without it the config's TEST.HOI setting (default off) applies
    evaluator = build_hoi_evaluator(cfg, args.dataset, args.output_dir,
                                    allow_missing_images=args.allow_missing_images or None,
                                    drop_unknown_images=args.drop_unknown_images or None)
    extra = getattr(evaluator, "extra_entry_keys", ())
    try:
        return evaluator.evaluate_predictions(load_prediction_file(args.predictions, extra), source=args.predictions)
    except ValueError as e:
        if not args.custom or "category_id" not in str(e) or ": unknown " not in str(e):
            raise
        # the usual cause: a test file without some of the model's classes or verbs (their ids are unknown to it)
        raise ValueError(f"{e}; --custom takes the class and verb ids of {args.custom[0][1]} alone: give the model's "
                         "config and options (--config-file, --opts with DATASETS.HOI.CUSTOM) instead, as for "
                         "--eval-only") from e


def _parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", required=True, help="prediction JSON (docs/interfaces.md)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dataset", help="registered dataset name (DatasetCatalog): a built-in, or one of --custom")
    where.add_argument("--ground-truth", help="HICO-DET test_hico.json, instances_test2015.json or anno_bbox.mat")
    parser.add_argument("--custom", nargs=3, action="append", metavar=("NAME", "JSON", "IMAGE_ROOT"),
                        help="register a PPDM-style HOI JSON dataset first, as DATASETS.HOI.CUSTOM does (repeatable)")
    parser.add_argument("--config-file", metavar="FILE", default=None,
                        help="GGNet config of train_net.py / the demo (with --dataset): its DATASETS.HOI.CUSTOM "
                             "datasets are registered with the model's class and verb table, its TEST.HOI settings "
                             "apply, as in --eval-only")
    parser.add_argument("--opts", default=[], nargs=argparse.REMAINDER,
                        help="config overrides for --config-file (KEY VALUE pairs, last on the command line)")
    parser.add_argument("--split", default=None, choices=("test", "train"),
                        help="which split of the .mat files (--ground-truth); default test")
    parser.add_argument("--image-labels", default=None,
                        help="HICO's anno.mat: Known-Object mode from its image-level labels (official)")
    parser.add_argument("--allow-missing-images", action="store_true",
                        help="score images of the split without a prediction entry as images without detections")
    parser.add_argument("--drop-unknown-images", action="store_true",
                        help="leave out entries of images that are not in the split (listed on stderr) instead of "
                             "refusing the file")
    parser.add_argument("--zero-shot-split", default="",
                        help="also report Seen / Unseen mAP of this zero-shot split (rare_first, non_rare_first, "
                             "unseen_object, unseen_verb, unseen_action_eoid, rare_first_eoid, custom)")
    parser.add_argument("--zero-shot-unseen", type=int, nargs="*", default=[],
                        help="the unseen HOI class ids of --zero-shot-split custom")
    parser.add_argument("--output-dir", default=None, help="where the per-class AP JSON is written")
    parser.add_argument("--timings", action="store_true", help="print ground-truth / parse / score seconds on stderr")
    return parser


def main(argv=None):
    """Run the CLI; returns the printed results dict."""
    parser = _parser()
    args = parser.parse_args(argv)
    configured = bool(args.config_file or args.opts)
    if configured and args.ground_truth:
        parser.error("--config-file / --opts go with --dataset, not --ground-truth")
    if configured and args.custom:
        parser.error("with --config-file / --opts, name the dataset in DATASETS.HOI.CUSTOM (the model's class and "
                     "verb table) instead of --custom")
    timings = {}
    if args.ground_truth or (args.dataset in HICO_BUILTIN_FILES and not args.custom and not configured):
        gt_path, split = args.ground_truth, args.split or "test"
        labels = args.image_labels
        if args.dataset:
            root = os.getenv("DETECTRON2_DATASETS", "datasets")
            rel, split = HICO_BUILTIN_FILES[args.dataset]
            gt_path = os.path.join(root, rel)
            default_labels = os.path.join(root, HICO_IMAGE_LABELS)
            labels = labels or (default_labels if os.path.isfile(default_labels) else None)
        unseen = unseen_hoi_ids(args.zero_shot_split, args.zero_shot_unseen) if args.zero_shot_split else None
        results = score_hico_det_file(args.predictions, gt_path, split, labels, args.allow_missing_images,
                                      args.output_dir, timings, args.drop_unknown_images, unseen)
        dropped = results["info"]["entries_dropped_not_in_split"]
        if dropped:
            print(f"{args.predictions}: left out {len(dropped)} entries of images that are not in the split: "
                  f"{', '.join(dropped[:10])}{' ...' if len(dropped) > 10 else ''}", file=sys.stderr)
    else:
        results = _score_registered(args)
    print(json.dumps(results, indent=1))
    if args.timings and timings:
        print(" ".join(f"{k}={v:.2f}s" for k, v in timings.items()), file=sys.stderr)
    return results


if __name__ == "__main__":
    try:
        main()
    except ValueError as e:  # bad input: the message names the file and record; no traceback
        sys.exit(f"evaluate_hoi.py: error: {e}")
    except KeyError as e:
        if "is not registered" not in str(e):
            raise
        sys.exit(f"evaluate_hoi.py: error: {e.args[0]}")
