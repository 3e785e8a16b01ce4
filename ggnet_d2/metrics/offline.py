"""HICO-DET scored from a prediction file and the released annotation files alone (tools/evaluate_hoi.py).

No images, no training data, no torch and no detectron2: numpy, scipy (for .mat files) and msgspec.
"""
import time

from ..formats.hico_det import read_hico_det_ground_truth, read_hico_image_labels
from ..formats.vocabulary import hico_test_image_names
from .hoi_scoring import KNOWN_OBJECT_SOURCES, HOIScorer
from .zero_shot_subsets import seen_unseen_subsets

__all__ = ["score_hico_det_file"]


def score_hico_det_file(predictions, ground_truth, split="test", image_labels=None, allow_missing_images=False,
                        output_dir=None, timings=None, drop_unknown_images=False, unseen_hoi_ids=None):
    """The official HICO-DET metrics of a prediction file against any released HICO-DET annotation form.

    Args:
        predictions (str): prediction JSON (formats/predictions.py).
        ground_truth (str): test_hico.json (PPDM), instances_test2015.json (hicodet) or anno_bbox.mat.
        split (str): "test" or "train" (which struct array of the .mat files). Test: entries of HICO-DET test
            images the annotation file lacks (PPDM's files leave out those whose HOIs are all invisible) are scored
            as images without ground truth, as eval_one.m does; images are ranked in name order (the official
            order) whatever the file's order.
        image_labels (str | None): HICO's anno.mat for Known-Object mode (box-level without it).
        allow_missing_images (bool): score images without an entry as images without detections.
        output_dir (str | None): where per_hoi_ap.json is written.
        timings (dict | None): filled with "ground_truth", "parse" and "score" seconds.
        drop_unknown_images (bool): leave out (and report) entries of images that are not in the split instead of
            refusing the file.
        unseen_hoi_ids (sequence[int] | None): unseen classes of a zero-shot split (formats/zero_shot_splits.py):
            Seen / Unseen subsets are added to the metrics.

    Returns:
        dict: {"hoi": metrics in percent, "info": {ground-truth layout, Known-Object source, counts}}.

    Raises:
        ValueError: for a malformed prediction or annotation file, images outside the split (unless dropped), or
            images without an entry (unless allowed), naming the file and entry.
    """
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    gt, meta, layout = read_hico_det_ground_truth(ground_truth, split)
    scorer = HOIScorer(meta, f"HICO-DET {split} ({layout})", empty_class="zero", box_shift=1.0,
                       split_images=hico_test_image_names() if split == "test" else None)
    if unseen_hoi_ids is not None:
        scorer.subsets.update(seen_unseen_subsets(unseen_hoi_ids, len(scorer.hoi_classes)))
    known = None
    if image_labels:
        known = read_hico_image_labels(image_labels, split, scorer.hoi_objects, scorer.num_objects)
    t1 = time.perf_counter()
    decoded = scorer.decode_file(predictions)
    t2 = time.perf_counter()
    metrics, details = scorer.score(decoded, gt, predictions, allow_missing_images, known, drop_unknown_images)
    t3 = time.perf_counter()
    timings.update(ground_truth=t1 - t0, parse=t2 - t1, score=t3 - t2)
    if output_dir:
        scorer.write_per_class(output_dir, metrics, details)
    info = {"ground_truth": str(ground_truth), "layout": layout,
            "known_object_source": KNOWN_OBJECT_SOURCES[details["known_object_source"]],
            "triplets_scored": details["num_triplets"], "triplets_not_hoi_classes": details["num_unscored"],
            "images_without_entry": len(details["missing_images"]),
            "images_not_in_ground_truth_file": len(details["extra_images"]),
            "entries_dropped_not_in_split": details["dropped_images"]}
    return {"hoi": metrics, "info": info}
