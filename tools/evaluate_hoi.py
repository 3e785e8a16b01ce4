#!/usr/bin/env python
"""Score a PPDM-style HOI prediction file offline, from the annotation files alone (no images, no training data).

HICO-DET from any released test annotation form (the official protocol, hico_det_evaluation.py):
    python tools/evaluate_hoi.py --predictions preds.json --ground-truth instances_test2015.json
    python tools/evaluate_hoi.py --predictions preds.json --ground-truth anno_bbox.mat --image-labels anno.mat
    python tools/evaluate_hoi.py --predictions preds.json --dataset hico_det_test     # $DETECTRON2_DATASETS layout
Any registered dataset (evaluator chosen by its metadata ``evaluator_type``, as during training):
    python tools/evaluate_hoi.py --predictions preds.json --dataset vcoco_test [--output-dir out/]

The prediction file is checked before scoring (ggnet_d2/evaluation/prediction_arrays.py): unknown or missing keys are
errors naming the entry, and images of the split without an entry are refused unless --allow-missing-images.

Prediction ids follow the ground truth's id space: PPDM's for test_hico.json and anno_bbox.mat (COCO object ids,
verbs 1..117), the file's own for a hicodet-layout json (objects 0..79 in its ``objects`` order, verbs 0..116).

HICO-DET is scored without importing torch or detectron2: ggnet_d2/__init__.py imports both (about 4 s, the whole
time budget of a 966k-triplet file), so its numpy-only modules are loaded under a bare package (``_light_import``).
"""
import argparse
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "ggnet_d2"
# The HICO-DET built-ins' test annotations, relative to $DETECTRON2_DATASETS (as registered in
# ggnet_d2/data/datasets/builtin.py; tests/test_eval_offline.py checks the two agree).
HICO_BUILTIN_FILES = {
    "hico_det_test": ("hico_20160224_det/annotations/test_hico.json", "test"),
    "hico_det_train": ("hico_20160224_det/annotations/trainval_hico.json", "train"),
}
HICO_IMAGE_LABELS = "hico_20160224_det/anno.mat"


def _light_import(name):
    """Import ``ggnet_d2.<name>`` without running the ``__init__`` of ggnet_d2 and its subpackages.

    When the real package is already imported (tests, scripts) it is used as is. Only modules that import nothing
    but numpy / scipy / orjson and each other may be loaded this way.
    """
    if "ggnet_d2" not in sys.modules:
        for pkg in ("ggnet_d2", "ggnet_d2.data", "ggnet_d2.data.datasets", "ggnet_d2.evaluation"):
            path = PACKAGE_DIR.joinpath(*pkg.split(".")[1:])
            module = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(pkg, None, is_package=True))
            module.__path__ = [str(path)]
            sys.modules[pkg] = module
    return importlib.import_module(f"ggnet_d2.{name}")


def score_hico_det_file(predictions, ground_truth, split="test", image_labels=None, allow_missing_images=False,
                        output_dir=None, timings=None):
    """The official HICO-DET metrics of a prediction file against any released HICO-DET annotation form.

    Args:
        predictions (str): prediction JSON.
        ground_truth (str): test_hico.json (PPDM), instances_test2015.json (hicodet) or anno_bbox.mat.
        split (str): "test" or "train" (which struct array of the .mat files).
        image_labels (str | None): HICO's anno.mat for Known-Object mode (box-level without it).
        allow_missing_images (bool): score images without an entry as images without detections.
        output_dir (str | None): where per_hoi_ap.json is written.
        timings (dict | None): filled with "ground_truth", "parse" and "score" seconds.

    Returns:
        dict: {"hoi": metrics in percent, "info": {ground-truth layout, Known-Object source, counts}}.

    Raises:
        ValueError: for a malformed prediction file, images outside the split, or images without an entry (unless
            allowed), naming the file and entry.
    """
    gt_files = _light_import("evaluation.ground_truth_files")
    scoring = _light_import("evaluation.hoi_scoring")
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    gt, meta, layout = gt_files.read_hico_det_ground_truth(ground_truth, split)
    scorer = scoring.HOIScorer(meta, f"HICO-DET {split} ({layout})", empty_class="zero", box_shift=1.0,
                               extra_image_pattern=gt_files.HICO_TEST_IMAGE_PATTERN if split == "test" else None)
    known = None
    if image_labels:
        known = gt_files.read_hico_image_labels(image_labels, split, scorer.hoi_objects, scorer.num_objects)
    t1 = time.perf_counter()
    decoded = scorer.decode_file(predictions)
    t2 = time.perf_counter()
    metrics, details = scorer.score(decoded, gt, predictions, allow_missing_images, known)
    t3 = time.perf_counter()
    timings.update(ground_truth=t1 - t0, parse=t2 - t1, score=t3 - t2)
    if output_dir:
        scorer.write_per_class(output_dir, metrics, details)
    info = {"ground_truth": str(ground_truth), "layout": layout,
            "known_object_source": scoring.KNOWN_OBJECT_SOURCES[details["known_object_source"]],
            "triplets_scored": details["num_triplets"], "triplets_not_hoi_classes": details["num_unscored"],
            "images_without_entry": len(details["missing_images"]),
            "images_not_in_ground_truth_file": len(details["extra_images"])}
    return {"hoi": metrics, "info": info}


def _score_registered(args):
    """Any registered dataset through its evaluator (imports torch and detectron2)."""
    from detectron2.config import get_cfg
    from detectron2.utils.logger import setup_logger

    import ggnet_d2  # noqa: F401  registers the built-in datasets
    from ggnet_d2.config import add_ggnet_config
    from ggnet_d2.evaluation import build_hoi_evaluator
    from ggnet_d2.evaluation.prediction_arrays import load_prediction_file

    setup_logger(name="ggnet_d2")
    cfg = add_ggnet_config(get_cfg())
    evaluator = build_hoi_evaluator(cfg, args.dataset, args.output_dir,
                                    allow_missing_images=args.allow_missing_images)
    extra = getattr(evaluator, "extra_entry_keys", ())
    return evaluator.evaluate_predictions(load_prediction_file(args.predictions, extra), source=args.predictions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", required=True, help="PPDM-style prediction JSON")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dataset", help="registered dataset name (DatasetCatalog)")
    where.add_argument("--ground-truth", help="HICO-DET test_hico.json, instances_test2015.json or anno_bbox.mat")
    parser.add_argument("--split", default=None, choices=("test", "train"), help="split of the .mat files")
    parser.add_argument("--image-labels", default=None,
                        help="HICO's anno.mat: Known-Object mode from its image-level labels (official)")
    parser.add_argument("--allow-missing-images", action="store_true",
                        help="score images of the split without a prediction entry as images without detections")
    parser.add_argument("--output-dir", default=None, help="where per-class AP JSON is written")
    parser.add_argument("--timings", action="store_true", help="print ground-truth / parse / score seconds")
    args = parser.parse_args(argv)
    timings = {}
    if args.ground_truth or args.dataset in HICO_BUILTIN_FILES:
        gt_path, split = args.ground_truth, args.split or "test"
        labels = args.image_labels
        if args.dataset:
            root = os.getenv("DETECTRON2_DATASETS", "datasets")
            rel, split = HICO_BUILTIN_FILES[args.dataset]
            gt_path = os.path.join(root, rel)
            default_labels = os.path.join(root, HICO_IMAGE_LABELS)
            labels = labels or (default_labels if os.path.isfile(default_labels) else None)
        results = score_hico_det_file(args.predictions, gt_path, split, labels, args.allow_missing_images,
                                      args.output_dir, timings)
    else:
        results = _score_registered(args)
    print(json.dumps(results, indent=1))
    if args.timings and timings:
        print(" ".join(f"{k}={v:.2f}s" for k, v in timings.items()), file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
