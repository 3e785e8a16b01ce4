"""Score prediction entries against HOI ground truth: the one code path of HOIEvaluator, HICODetEvaluator and the
offline CLI (numpy only, so tools/evaluate_hoi.py runs it without importing torch or detectron2)."""
import json
import logging
import os
from collections import OrderedDict

import numpy as np

from .hoi_matching import ap_11_point
from .hoi_triplet_eval import evaluate_hoi_arrays
from .prediction_arrays import (PredictionArrays, decode_prediction_entries, decode_prediction_file,
                                image_positions)

__all__ = ["HOIScorer", "KNOWN_OBJECT_SOURCES"]

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
            frame of anno_bbox.mat in which eval_one.m computes every IoU; see ground_truth_files.py).
        extra_image_pattern (re.Pattern | None): entries of images absent from the ground truth whose names match
            are scored as images without ground truth (all false positives) instead of refused -- HICO-DET test
            images whose HOIs are all invisible, which PPDM-style files may leave out; they are placed in name
            order, the official test-image order.
        ap_fn (callable): AP of a class from its recall / precision curves (default: the official 11-point AP).
    """

    def __init__(self, metadata, dataset_name="custom", empty_class="nan", box_shift=0.0, extra_image_pattern=None,
                 ap_fn=ap_11_point):
        get = (metadata.get if isinstance(metadata, dict) else lambda k, d=None: getattr(metadata, k, d))
        self.dataset_name = dataset_name
        self.empty_class = empty_class
        self.box_shift = float(box_shift)
        self.extra_image_pattern = extra_image_pattern
        self.ap_fn = ap_fn
        hoi_classes = np.asarray(get("hoi_classes"), dtype=np.int64).reshape(-1, 2)
        self.hoi_classes = hoi_classes
        self.hoi_objects = hoi_classes[:, 1]
        self.thing_from_file = {int(k): int(v) for k, v in get("thing_dataset_id_to_contiguous_id").items()}
        self.verb_from_file = {int(k): int(v) for k, v in get("verb_dataset_id_to_contiguous_id").items()}
        num_verbs = max(len(self.verb_from_file), int(hoi_classes[:, 0].max()) + 1 if len(hoi_classes) else 0)
        num_things = max(len(self.thing_from_file), int(hoi_classes[:, 1].max()) + 1 if len(hoi_classes) else 0)
        self.num_objects = num_things
        self.hoi_lookup = np.full((num_verbs, num_things), -1, dtype=np.int64)
        self.hoi_lookup[hoi_classes[:, 0], hoi_classes[:, 1]] = np.arange(len(hoi_classes))
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

    def score(self, entries, gt, source="predictions", allow_missing_images=False, known_object=None):
        """Score prediction entries.

        Args:
            entries (list[dict] | tuple): prediction entries, or the output of :meth:`decode`.
            gt (HOIGroundTruth): ground truth in the predictions' pixel frame.
            source (str): named in errors and logs.
            allow_missing_images (bool): score images of the split without an entry as without detections.
            known_object (tuple[list[str], np.ndarray] | None): image-level Known-Object sets (image names in
                official order, (N, O) bool), e.g. from ``read_hico_image_labels``; None: box-level.

        Returns:
            tuple(OrderedDict, dict): metrics in percent (``mAP_default_full``, ..., ``mean_recall_known_object_
            non_rare``), and details: ``res`` (per-class arrays of :func:`evaluate_hoi_arrays`),
            ``known_object_source``, ``num_unscored``, ``missing_images``, ``extra_images``, ``num_triplets``.

        Raises:
            ValueError: for malformed entries, entries of images outside the split, two entries of one image, or
                (unless allowed) images of the split without an entry.
        """
        arrays, hoi, unscored = entries if isinstance(entries, tuple) else self.decode(entries, source)
        assert isinstance(arrays, PredictionArrays)
        object_present = None
        if known_object is not None:
            names, object_present = known_object
            gt = gt.with_images(names)
        extra = []
        if self.extra_image_pattern is not None:
            extra = sorted({n for n in arrays.names if n not in gt.image_index
                            and self.extra_image_pattern.fullmatch(n)})
            if extra:
                names = gt.image_names + extra
                if gt.image_names == sorted(gt.image_names):
                    names = sorted(names)
                gt = gt.with_images(names)
                if object_present is not None:
                    raise ValueError(f"{source}: predictions for {len(extra)} image(s) not in the image-level "
                                     f"labels' list, e.g. {extra[0]}")
                logger.info("%s: %d image(s) with predictions are not in the ground-truth file (e.g. %s); scored as "
                            "test images without visible HOIs, as the official evaluation does", source, len(extra),
                            extra[0])
        positions, missing = image_positions(arrays.names, gt.image_index, source, allow_missing_images)
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
        metrics = OrderedDict()
        for stat, idx in (("mAP", 0), ("mean_recall", 1)):
            for mode in ("default", "known_object"):
                values = res[mode][idx]
                for subset, ids in self.subsets.items():
                    sel = values[ids]
                    mean = float(np.nanmean(sel)) * 100.0 if np.any(~np.isnan(sel)) else float("nan")
                    metrics[f"{stat}_{mode}_{subset}"] = mean
        details = {"res": res, "known_object_source": "image_labels" if object_present is not None else "boxes",
                   "num_unscored": unscored, "missing_images": missing, "extra_images": extra,
                   "num_triplets": len(arrays)}
        return metrics, details

    def write_per_class(self, output_dir, metrics, details):
        """Write ``output_dir/per_hoi_ap.json``: the metrics, how Known-Object mode was evaluated, per-class AP."""
        res = details["res"]
        per_hoi = [{"hoi_id": i, "name": self.class_names[i], "num_positives": int(res["num_positives"][i]),
                    "ap_default": _pct(res["default"][0][i]), "recall_default": _pct(res["default"][1][i]),
                    "ap_known_object": _pct(res["known_object"][0][i]),
                    "recall_known_object": _pct(res["known_object"][1][i])} for i in range(len(self.class_names))]
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "per_hoi_ap.json"), "w") as f:
            json.dump({"metrics": metrics,
                       "known_object_source": KNOWN_OBJECT_SOURCES[details["known_object_source"]],
                       "images_without_entry": len(details["missing_images"]),
                       "per_hoi": per_hoi}, f, indent=1)


def _pct(x):
    return None if np.isnan(x) else float(x) * 100.0
