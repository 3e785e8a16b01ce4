"""HOIEvaluator: triplet-class mAP of any registered HOI dataset, as a detectron2 DatasetEvaluator.

The matching and AP are HICO-DET's (see ggnet_d2/metrics/hoi_matching.py); the classes are the dataset's (verb,
object) triplets (metadata ``hoi_classes``). A predicted triplet whose (verb, object) is not one of those classes is
not scored (it cannot be a detection of any class), and its count is logged. The subject's predicted category plays no part, as in the
official HICO-DET code, whose detections are (HOI class, human box, object box, score).
"""
import logging
from collections import OrderedDict

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.evaluation import DatasetEvaluator

from ..formats.ground_truth import HOIGroundTruth
from ..formats.ids import invert_id_map
from ..metrics.hoi_scoring import KNOWN_OBJECT_SOURCES, HOIScorer, percent_table
from ..metrics.zero_shot_subsets import seen_unseen_subsets
from .prediction_format import gather_and_save_entries, ground_truth_from_dataset_dicts, outputs_to_prediction_entry

__all__ = ["HOIEvaluator"]

logger = logging.getLogger(__name__)


class HOIEvaluator(DatasetEvaluator):
    """Triplet mAP (Default / Known-Object, Full / Rare / Non-rare) and mean recall, values in percent.

    Build it from a registered dataset name, or from explicit ``ground_truth`` + ``metadata`` (tests, offline use).
    ``process`` turns each image's model output into a PPDM-style prediction entry (dataset-file ids);
    ``evaluate`` gathers them to the main process and scores entries only, exactly as :meth:`evaluate_predictions`
    does for a prediction file (metrics/hoi_scoring.py, shared with tools/evaluate_hoi.py).

    Every image of the split needs a prediction entry (an image the model did not see is an error unless
    ``allow_missing_images``). The ground truth is the registered dataset's dicts; HICODetEvaluator reads the HICO-DET
    annotation file itself, without opening any image.
    """

    task = "hoi"
    empty_class = "nan"  # classes without test ground truth are left out of the means (reported as NaN)
    box_shift = 0.0  # pixels added to detections and ground truth before matching (HICO-DET: 1)

    def __init__(self, dataset_name=None, output_dir=None, *, distributed=True, ground_truth=None, metadata=None,
                 allow_missing_images=False, drop_unknown_images=False, unseen_hoi_ids=None):
        """
        Args:
            dataset_name (str, optional): registered dataset; its dicts give the ground truth and its metadata the
                classes and id maps.
            output_dir (str, optional): where predictions.json and per_hoi_ap.json are written.
            distributed (bool): gather predictions from all ranks with ``detectron2.utils.comm.gather``.
            ground_truth (dict | HOIGroundTruth, optional): base file name -> list of (hoi_class, subject XYXY,
                object XYXY) in the dataset dicts' pixel frame; replaces the dataset's.
            metadata (object, optional): attribute access to the metadata keys of docs/interfaces.md (at least
                ``hoi_classes``, ``thing_dataset_id_to_contiguous_id``, ``verb_dataset_id_to_contiguous_id``).
            allow_missing_images (bool): score images of the split without a prediction entry as images without
                detections (default: refuse, naming how many and the first few).
            drop_unknown_images (bool): leave out (with a warning) entries of images that are not in the split
                (default: refuse, naming the first; ``TEST.HOI.DROP_UNKNOWN_IMAGES``).
            unseen_hoi_ids (sequence[int], optional): the unseen classes of a zero-shot split: Seen / Unseen
                subsets are added to the metrics (metrics/zero_shot_subsets.py).

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
        self._allow_missing_images = allow_missing_images
        self._drop_unknown_images = drop_unknown_images
        self._ground_truth_arg = ground_truth
        self._ground_truth = None
        for key in ("hoi_classes", "thing_dataset_id_to_contiguous_id", "verb_dataset_id_to_contiguous_id"):
            if not hasattr(metadata, key):
                raise ValueError(f"{type(self).__name__}: metadata of {self._dataset_name} lacks '{key}'")
        self._hoi_objects = np.asarray(metadata.hoi_classes, dtype=np.int64).reshape(-1, 2)[:, 1]
        self._thing_to_file = invert_id_map(metadata.thing_dataset_id_to_contiguous_id, "thing ids")
        self._verb_to_file = invert_id_map(metadata.verb_dataset_id_to_contiguous_id, "verb ids")
        self._validate_metadata()
        self._scorer = HOIScorer(metadata, self._dataset_name, self.empty_class, self.box_shift,
                                 self._split_images())
        if unseen_hoi_ids is not None:
            self._scorer.subsets.update(seen_unseen_subsets(unseen_hoi_ids, len(self._hoi_objects)))
        self.known_object_source = None
        self.reset()

    def _validate_metadata(self):
        """Hook for protocol-specific checks of the metadata."""

    def _split_images(self):
        """Images of the split the annotation file may lack (see HOIScorer); None: the ground truth's images."""
        return None

    def reset(self):
        """Forget the predictions collected so far."""
        self._predictions = []

    @property
    def ground_truth(self):
        """HOIGroundTruth: the split's ground truth in the dataset dicts' pixel frame, loaded lazily."""
        if self._ground_truth is None:
            gt = self._ground_truth_arg
            if gt is None:
                gt = self._read_ground_truth()
            elif not isinstance(gt, HOIGroundTruth):
                gt = HOIGroundTruth.from_pairs(OrderedDict(gt))
            self._ground_truth = gt
        return self._ground_truth

    def _read_ground_truth(self):
        """From the registered dataset's dicts (the split is what DatasetCatalog registered; HICODetEvaluator reads
        the annotation file instead)."""
        return HOIGroundTruth.from_pairs(ground_truth_from_dataset_dicts(DatasetCatalog.get(self._dataset_name),
                                                                         self._dataset_name))

    def _known_object_images(self):
        """Image-level Known-Object sets, or None for box-level (HICODetEvaluator reads anno.mat)."""
        return None

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

    def evaluate_predictions(self, entries, source="predictions"):
        """Score PPDM-style prediction entries against the ground truth (metrics/hoi_scoring.py).

        Args:
            entries (list[dict]): prediction entries (formats/predictions.py), any order, one per image.
            source (str): named in error messages (e.g. the prediction file's path).

        Returns:
            dict: ``{task: {"mAP_default_full": ..., "mAP_known_object_rare": ..., "mean_recall_default_full": ...}}``
            in percent; rare / non_rare only where the metadata has ``rare_hoi_ids`` / ``non_rare_hoi_ids``. How
            Known-Object mode found its images is logged, written to per_hoi_ap.json and kept in
            ``self.known_object_source``.

        Raises:
            ValueError: for malformed entries, duplicate images, images outside the split (unless
                ``drop_unknown_images``), or images of the split without an entry (unless ``allow_missing_images``).
        """
        metrics, details = self._scorer.score(entries, self.ground_truth, source, self._allow_missing_images,
                                              self._known_object_images(), self._drop_unknown_images)
        self.known_object_source = KNOWN_OBJECT_SOURCES[details["known_object_source"]]
        self._report(metrics, details)
        return {self.task: metrics}

    def _report(self, metrics, details):
        logger.info("HOI evaluation on %s (Known-Object images: %s):\n%s", self._dataset_name,
                    self.known_object_source, percent_table(metrics))
        if self._output_dir:
            self._scorer.write_per_class(self._output_dir, metrics, details)
