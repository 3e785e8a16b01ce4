"""Score prediction entries against HOI ground truth: the one code path of HOIEvaluator, HICODetEvaluator and the
offline CLI (numpy only, so tools/evaluate_hoi.py runs it without importing torch or detectron2).

Which images are scored, and in which order (the order breaks score ties, as the official code's stable sort of the
image-by-image concatenation does): the split's images, in the ground truth's order -- or, given the split's official
image list (``split_images``, HICO-DET's test images) and when every image is in it, in the official order whatever
the record order of the annotation file. The official list also names the split's images the annotation file may
lack (HICO-DET's test images whose HOIs are all invisible, absent from PPDM's files): their entries are scored as
images without ground truth, as the official evaluation does. An entry of any other image is an error naming it (or,
with ``drop_unknown_images``, left out and reported), never scored as an image of false positives.
"""
import json
import logging
import os
from collections import OrderedDict

import numpy as np

from ..formats.ids import hoi_class_lookup, int_map
from ..formats.predictions import (PredictionArrays, decode_prediction_entries, decode_prediction_file,
                                   image_positions)
from .hoi_matching import ap_11_point
from .hoi_triplet_eval import evaluate_hoi_arrays

__all__ = ["HOIScorer", "KNOWN_OBJECT_SOURCES", "percent", "percent_table"]

logger = logging.getLogger(__name__)

# How Known-Object mode found each class's images (reported with the results).
KNOWN_OBJECT_SOURCES = {
    "image_labels": "HICO image-level labels (anno.mat), as eval_one.m",
    "boxes": "box-level ground truth (images with a pair of the object); anno.mat not given",
}


class HOIScorer:
    """Triplet mAP (Default / Known-Object x Full / Rare / Non-rare) and mean recall of prediction entries.

    Args:
        metadata (Mapping | object): ``hoi_classes`` [(verb, object)], ``thing_dataset_id_to_contiguous_id``,
            ``verb_dataset_id_to_contiguous_id``, optionally ``rare_hoi_ids`` / ``non_rare_hoi_ids``,
            ``thing_classes`` / ``verb_classes`` (names in per_hoi_ap.json).
        dataset_name (str): named in logs.
        empty_class (str): "zero" (HICO-DET: classes without ground truth count AP 0) or "nan" (left out of means).
        box_shift (float): added to detection and ground-truth boxes before matching (HICO-DET: 1, the one-based
            frame of anno_bbox.mat in which eval_one.m computes every IoU; see formats/hico_det.py).
        split_images (Sequence[str] | None): the split's official image list, in official order (module
            docstring); None: the ground truth's images are the split, in its order.
        ap_fn (callable): AP of a class from its recall / precision curves (default: the official 11-point AP).
    """

    def __init__(self, metadata, dataset_name="custom", empty_class="nan", box_shift=0.0, split_images=None,
                 ap_fn=ap_11_point):
        get = (metadata.get if isinstance(metadata, dict) else lambda k, d=None: getattr(metadata, k, d))
        self.dataset_name = dataset_name
        self.empty_class = empty_class
        self.box_shift = float(box_shift)
        self.split_order = {n: i for i, n in enumerate(split_images)} if split_images is not None else None
        self.ap_fn = ap_fn
        hoi_classes = np.asarray(get("hoi_classes"), dtype=np.int64).reshape(-1, 2)
        self.hoi_classes = hoi_classes
        self.hoi_objects = hoi_classes[:, 1]
        self.thing_from_file = int_map(get("thing_dataset_id_to_contiguous_id"))
        self.verb_from_file = int_map(get("verb_dataset_id_to_contiguous_id"))
        self.hoi_lookup = hoi_class_lookup(hoi_classes, len(self.verb_from_file), len(self.thing_from_file))
        self.num_objects = self.hoi_lookup.shape[1]
        self.subsets = OrderedDict(full=np.arange(len(hoi_classes)))
        for name, key in (("rare", "rare_hoi_ids"), ("non_rare", "non_rare_hoi_ids")):
            if get(key) is not None:
                self.subsets[name] = np.asarray(get(key), dtype=np.int64)
        verbs, things = get("verb_classes"), get("thing_classes")
        self.class_names = [f"{verbs[v]} {things[o]}" if verbs is not None and things is not None else f"{v} {o}"
                            for v, o in hoi_classes]

    def decode(self, entries, source="predictions"):
        """Validated triplets of the entries whose (verb, object) is an HOI class, and the number of others.

        Returns:
            tuple(PredictionArrays, np.ndarray, int): triplets of HOI classes, their (M,) HOI class, and the count
            of triplets of no class (not scored: they cannot be a detection of any class).
        """
        arrays = decode_prediction_entries(entries, self.thing_from_file, self.verb_from_file, source)
        return self._classify(arrays)

    def decode_file(self, path):
        """:meth:`decode` of a prediction file, parsed and checked in one pass (prediction_arrays.py)."""
        arrays, _ = decode_prediction_file(path, self.thing_from_file, self.verb_from_file)
        return self._classify(arrays)

    def _classify(self, arrays):
        verbs, objs = arrays.verb_classes, arrays.object_classes
        inside = (verbs < self.hoi_lookup.shape[0]) & (objs < self.hoi_lookup.shape[1])
        hoi = np.full(len(verbs), -1, dtype=np.int64)
        hoi[inside] = self.hoi_lookup[verbs[inside], objs[inside]]
        ok = hoi >= 0
        return arrays.select(ok), hoi[ok], int((~ok).sum())

    def score(self, entries, gt, source="predictions", allow_missing_images=False, known_object=None,
              drop_unknown_images=False):
        """Score prediction entries.

        Args:
            entries (list[dict] | tuple): prediction entries, or the output of :meth:`decode`.
            gt (HOIGroundTruth): ground truth in the predictions' pixel frame.
            source (str): named in errors and logs.
            allow_missing_images (bool): score images of the split without an entry as images without detections.
            known_object (tuple[list[str], np.ndarray] | None): image-level Known-Object sets (image names in
                official order, (N, O) bool), e.g. from ``read_hico_image_labels``; their names are the split.
                None: box-level.
            drop_unknown_images (bool): leave out entries of images that are not in the split (logged as a
                warning, listed in the details) instead of refusing them.

        Returns:
            tuple(OrderedDict, dict): metrics in percent (``mAP_default_full``, ..., ``mean_recall_known_object_
            non_rare``), and details: ``res`` (per-class arrays of :func:`evaluate_hoi_arrays`),
            ``known_object_source``, ``num_unscored``, ``missing_images``, ``extra_images`` (split images absent
            from the annotation file), ``dropped_images``, ``num_triplets``.

        Raises:
            ValueError: for malformed entries, entries of images outside the split (unless dropped), two entries of
                one image, or (unless allowed) images of the split without an entry.
        """
        arrays, hoi, unscored = entries if isinstance(entries, tuple) else self.decode(entries, source)
        assert isinstance(arrays, PredictionArrays)
        gt, object_present, extra = self._split(gt, arrays, known_object, source)
        positions, missing, dropped = image_positions(arrays.names, gt.image_index, source, allow_missing_images,
                                                      drop_unknown_images)
        if dropped:
            logger.warning("%s: %d entries of images that are not in the split were left out (e.g. %s)", source,
                           len(dropped), dropped[0])
            keep = positions[arrays.entry] >= 0
            arrays, hoi = arrays.select(keep), hoi[keep]
        if missing:
            logger.warning("%s: %d image(s) of the split have no prediction entry (e.g. %s); scored as images "
                           "without detections", source, len(missing), missing[0])
        if unscored:
            logger.info("%s: %d predicted triplets are not HOI classes of %s and were not scored", source, unscored,
                        self.dataset_name)
        shift = self.box_shift
        if shift:
            gt = gt.shifted(shift)
        res = evaluate_hoi_arrays(gt, positions[arrays.entry], hoi, arrays.scores, arrays.subject_boxes + shift,
                                  arrays.object_boxes + shift, self.hoi_objects, self.ap_fn, self.empty_class,
                                  object_present=object_present)
        details = {"res": res, "known_object_source": "image_labels" if object_present is not None else "boxes",
                   "num_unscored": unscored, "missing_images": missing, "extra_images": extra,
                   "dropped_images": dropped, "num_triplets": len(arrays)}
        return self._means(res), details

    def _split(self, gt, arrays, known_object, source):
        """The ground truth over the split's images in scoring order, Known-Object sets, and the split images the
        annotation file lacks that have an entry."""
        if known_object is not None:
            names, object_present = known_object
            return gt.with_images(names), object_present, []
        extra, official = [], self.split_order
        if official is not None:
            extra = sorted({n for n in arrays.names if n not in gt.image_index and n in official})
            if extra:
                logger.info("%s: %d image(s) with predictions are not in the ground-truth file (e.g. %s); scored as "
                            "test images without visible HOIs, as the official evaluation does", source, len(extra),
                            extra[0])
        names = gt.image_names + extra
        if official is not None and all(n in official for n in names):
            names = sorted(names, key=official.__getitem__)
        return (gt.with_images(names) if names != gt.image_names else gt), None, extra

    def _means(self, res):
        metrics = OrderedDict()
        for stat, idx in (("mAP", 0), ("mean_recall", 1)):
            for mode in ("default", "known_object"):
                values = res[mode][idx]
                for subset, ids in self.subsets.items():
                    sel = values[ids]
                    mean = float(np.nanmean(sel)) * 100.0 if np.any(~np.isnan(sel)) else float("nan")
                    metrics[f"{stat}_{mode}_{subset}"] = mean
        return metrics

    def write_per_class(self, output_dir, metrics, details):
        """Write ``output_dir/per_hoi_ap.json``: the metrics, how Known-Object mode was evaluated, per-class AP."""
        res = details["res"]
        per_hoi = [{"hoi_id": i, "name": self.class_names[i], "num_positives": int(res["num_positives"][i]),
                    "ap_default": percent(res["default"][0][i]), "recall_default": percent(res["default"][1][i]),
                    "ap_known_object": percent(res["known_object"][0][i]),
                    "recall_known_object": percent(res["known_object"][1][i])} for i in range(len(self.class_names))]
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "per_hoi_ap.json"), "w") as f:
            json.dump({"metrics": metrics,
                       "known_object_source": KNOWN_OBJECT_SOURCES[details["known_object_source"]],
                       "images_without_entry": len(details["missing_images"]),
                       "per_hoi": per_hoi}, f, indent=1)


def percent(x):
    """A fraction in [0, 1] as percent for JSON reports; None for NaN (no ground truth)."""
    return None if np.isnan(x) else float(x) * 100.0


def percent_table(metrics):
    """The metrics (already in percent) as the evaluators' log table: one row per metric, two decimals."""
    from tabulate import tabulate  # the evaluators' logs only: the offline CLI does not pay its import

    return tabulate([[k, f"{v:.2f}"] for k, v in metrics.items()], headers=["metric", "%"], tablefmt="pipe")
