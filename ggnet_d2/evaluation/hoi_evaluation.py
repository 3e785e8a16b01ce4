"""HOIEvaluator: triplet-class mAP of any registered HOI dataset, as a detectron2 DatasetEvaluator.

The matching and AP are HICO-DET's (see hoi_matching.py); the classes are the dataset's (verb, object) triplets
(metadata ``hoi_classes``). A predicted triplet whose (verb, object) is not one of those classes is not scored (it
cannot be a detection of any class), and its count is logged. The subject's predicted category plays no part, as in the
official HICO-DET code, whose detections are (HOI class, human box, object box, score).
"""
import json
import logging
import os
from collections import OrderedDict

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.evaluation import DatasetEvaluator
from tabulate import tabulate

from .hoi_matching import ap_11_point
from .hoi_triplet_eval import evaluate_hoi_triplets
from .prediction_format import (
    entry_to_triplets,
    gather_and_save_entries,
    ground_truth_from_dataset_dicts,
    invert_id_map,
    outputs_to_prediction_entry,
)

__all__ = ["HOIEvaluator"]

logger = logging.getLogger(__name__)


class HOIEvaluator(DatasetEvaluator):
    """Triplet mAP (Default / Known-Object, Full / Rare / Non-rare) and mean recall, values in percent.

    Build it from a registered dataset name, or from explicit ``ground_truth`` + ``metadata`` (tests, offline use).
    ``process`` turns each image's model output into a PPDM-style prediction entry (dataset-file ids);
    ``evaluate`` gathers them to the main process and scores entries only, exactly as :meth:`evaluate_predictions`
    does for a prediction file.
    """

    task = "hoi"
    empty_class = "nan"  # classes without test ground truth are left out of the means (reported as NaN)

    def __init__(self, dataset_name=None, output_dir=None, *, distributed=True, ground_truth=None, metadata=None):
        """
        Args:
            dataset_name (str, optional): registered dataset; its dicts give the ground truth (``hoi_annotations``
                with ``hoi_id``) and its metadata the classes and id maps.
            output_dir (str, optional): where predictions.json and per_hoi_ap.json are written.
            distributed (bool): gather predictions from all ranks with ``detectron2.utils.comm.gather``.
            ground_truth (dict, optional): base file name -> list of (hoi_class, subject XYXY, object XYXY); replaces
                the dataset dicts.
            metadata (object, optional): attribute access to the metadata keys of docs/interfaces.md (at least
                ``hoi_classes``, ``thing_dataset_id_to_contiguous_id``, ``verb_dataset_id_to_contiguous_id``).

        Raises:
            ValueError: when neither a dataset name nor ground truth + metadata is given, or metadata lacks a key.
        """
        if metadata is None:
            if dataset_name is None:
                raise ValueError(f"{type(self).__name__}: give dataset_name or ground_truth + metadata")
            metadata = MetadataCatalog.get(dataset_name)
        self._metadata = metadata
        self._dataset_name = dataset_name or getattr(metadata, "name", "custom")
        self._output_dir = output_dir
        self._distributed = distributed
        self._ground_truth_arg = ground_truth
        self._ground_truth = None
        for key in ("hoi_classes", "thing_dataset_id_to_contiguous_id", "verb_dataset_id_to_contiguous_id"):
            if not hasattr(metadata, key):
                raise ValueError(f"{type(self).__name__}: metadata of {self._dataset_name} lacks '{key}'")
        hoi_classes = np.asarray(metadata.hoi_classes, dtype=np.int64).reshape(-1, 2)
        self._hoi_objects = hoi_classes[:, 1]
        self._thing_to_file = invert_id_map(metadata.thing_dataset_id_to_contiguous_id, "thing ids")
        self._verb_to_file = invert_id_map(metadata.verb_dataset_id_to_contiguous_id, "verb ids")
        self._thing_from_file = {int(k): int(v) for k, v in metadata.thing_dataset_id_to_contiguous_id.items()}
        self._verb_from_file = {int(k): int(v) for k, v in metadata.verb_dataset_id_to_contiguous_id.items()}
        num_verbs = max(len(self._verb_from_file), int(hoi_classes[:, 0].max()) + 1 if len(hoi_classes) else 0)
        num_things = max(len(self._thing_from_file), int(hoi_classes[:, 1].max()) + 1 if len(hoi_classes) else 0)
        self._hoi_lookup = np.full((num_verbs, num_things), -1, dtype=np.int64)
        self._hoi_lookup[hoi_classes[:, 0], hoi_classes[:, 1]] = np.arange(len(hoi_classes))
        self._validate_metadata()
        self.reset()

    def _validate_metadata(self):
        """Hook for protocol-specific checks of the metadata."""

    def reset(self):
        """Forget the predictions collected so far."""
        self._predictions = []

    @property
    def ground_truth(self):
        """dict: base file name -> list of (hoi_class, subject XYXY, object XYXY), loaded lazily."""
        if self._ground_truth is None:
            if self._ground_truth_arg is not None:
                self._ground_truth = OrderedDict(self._ground_truth_arg)
            else:
                self._ground_truth = ground_truth_from_dataset_dicts(DatasetCatalog.get(self._dataset_name),
                                                                     self._dataset_name)
        return self._ground_truth

    def process(self, inputs, outputs):
        """Convert each image's output to a prediction entry (see prediction_format.py)."""
        for inp, out in zip(inputs, outputs):
            self._predictions.append(outputs_to_prediction_entry(
                inp["file_name"], out, self._thing_to_file, self._verb_to_file, inp.get("image_id")))

    def evaluate(self):
        """Gather entries to the main process and score them.

        Returns:
            dict: ``{task: {metric: percent}}`` on the main process, ``{}`` on the others.
        """
        entries = gather_and_save_entries(self._predictions, self._distributed, self._output_dir)
        if entries is None:
            return {}
        return self.evaluate_predictions(entries)

    def _entries_to_detections(self, entries, source):
        detections, dropped = {}, 0
        for entry in entries:
            key = os.path.basename(entry["file_name"])
            if key in detections:
                raise ValueError(f"{source}: two prediction entries for image {key}")
            t = entry_to_triplets(entry, self._thing_from_file, self._verb_from_file, source)
            verbs, objs = t["verb_classes"], t["object_classes"]
            inside = (verbs < self._hoi_lookup.shape[0]) & (objs < self._hoi_lookup.shape[1])
            hoi = np.full(len(verbs), -1, dtype=np.int64)
            hoi[inside] = self._hoi_lookup[verbs[inside], objs[inside]]
            ok = hoi >= 0
            dropped += int((~ok).sum())
            detections[key] = {"hoi_classes": hoi[ok], "subject_boxes": t["subject_boxes"][ok],
                               "object_boxes": t["object_boxes"][ok], "scores": t["scores"][ok]}
        if dropped:
            logger.info("%s: %d predicted triplets are not HOI classes of %s and were not scored",
                        source, dropped, self._dataset_name)
        return detections

    def evaluate_predictions(self, entries, source="predictions"):
        """Score PPDM-style prediction entries against the ground truth.

        Args:
            entries (list[dict]): prediction entries (prediction_format.py), any order, one per image at most.
            source (str): named in error messages (e.g. the prediction file's path).

        Returns:
            dict: ``{task: {"mAP_default_full": ..., "mAP_known_object_rare": ..., "mean_recall_default_full": ...}}``
            in percent; rare / non_rare only where the metadata has ``rare_hoi_ids`` / ``non_rare_hoi_ids``.

        Raises:
            ValueError: for malformed entries, duplicate images or images outside the ground truth.
        """
        detections = self._entries_to_detections(entries, source)
        res = evaluate_hoi_triplets(self.ground_truth, detections, self._hoi_objects, ap_11_point, self.empty_class)
        subsets = OrderedDict(full=np.arange(len(self._hoi_objects)))
        for name, key in (("rare", "rare_hoi_ids"), ("non_rare", "non_rare_hoi_ids")):
            if getattr(self._metadata, key, None) is not None:
                subsets[name] = np.asarray(getattr(self._metadata, key), dtype=np.int64)
        metrics = OrderedDict()
        for stat, idx in (("mAP", 0), ("mean_recall", 1)):
            for mode in ("default", "known_object"):
                values = res[mode][idx]
                for subset, ids in subsets.items():
                    sel = values[ids]
                    mean = float(np.nanmean(sel)) * 100.0 if np.any(~np.isnan(sel)) else float("nan")
                    metrics[f"{stat}_{mode}_{subset}"] = mean
        self._report(metrics, res)
        return {self.task: metrics}

    def _report(self, metrics, res):
        rows = [[k, f"{v:.2f}"] for k, v in metrics.items()]
        logger.info("HOI evaluation on %s:\n%s", self._dataset_name,
                    tabulate(rows, headers=["metric", "%"], tablefmt="pipe"))
        if not self._output_dir:
            return
        names = self._class_names()
        per_hoi = [{"hoi_id": i, "name": names[i], "num_positives": int(res["num_positives"][i]),
                    "ap_default": _pct(res["default"][0][i]), "recall_default": _pct(res["default"][1][i]),
                    "ap_known_object": _pct(res["known_object"][0][i]),
                    "recall_known_object": _pct(res["known_object"][1][i])} for i in range(len(names))]
        os.makedirs(self._output_dir, exist_ok=True)
        with open(os.path.join(self._output_dir, "per_hoi_ap.json"), "w") as f:
            json.dump({"metrics": metrics, "per_hoi": per_hoi}, f, indent=1)

    def _class_names(self):
        verbs = getattr(self._metadata, "verb_classes", None)
        things = getattr(self._metadata, "thing_classes", None)
        names = []
        for v, o in np.asarray(self._metadata.hoi_classes, dtype=np.int64).reshape(-1, 2):
            names.append(f"{verbs[v]} {things[o]}" if verbs is not None and things is not None else f"{v} {o}")
        return names


def _pct(x):
    return None if np.isnan(x) else float(x) * 100.0
