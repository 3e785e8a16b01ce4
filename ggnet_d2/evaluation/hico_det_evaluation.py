"""HICODetEvaluator: the official HICO-DET protocol (Chao et al., WACV 2018) as a detectron2 DatasetEvaluator.

Semantics follow the authors' MATLAB code (ywchao/ho-rcnn ``evaluation/eval_one.m`` and ``VOCevaldet_bboxpair.m``):
600 HOI classes, min(human IoU, object IoU) >= 0.5 with inclusive-pixel IoU, greedy matching in descending score
(ties: test-image order, then order within the image, as MATLAB's stable ``sort`` of the image-by-image
concatenation), 11-point AP over MATLAB's ``0:0.1:1`` (whose fourth value is 0.30000000000000004, see
hoi_matching.py) summed as ``ap = ap + p/11``, mean of the final recall; Full / Rare (the official 138) / Non-rare
(462) in Default and Known-Object mode.

Coordinates (ggnet_d2/formats/hico_det.py has the conventions of each annotation form): predictions and dataset dicts
are zero-based pixel indices (PPDM's frame); anno_bbox.mat is one-based and eval_one.m adds 1 to every detection box
("convert zero-based to one-based"). Here 1 is added to the detections and to the zero-based ground truth, so every
IoU is computed on the numbers eval_one.m sees. Ground-truth HOIs marked ``invis`` are dropped.

Known-Object mode: with HICO's ``anno.mat`` (metadata ``hico_image_labels_file`` or the ``image_labels_file``
argument), a class keeps the detections of the images whose image-level label of any HOI of its object is 1, as
eval_one.m; without it, the images with a ground-truth pair of the object (box-level). Which one was used is logged,
written to per_hoi_ap.json and kept in ``known_object_source``.

Where common Python ports differ (PPDM ``src/lib/eval/hico_eval.py``, reused by GGNet):
* they skip predictions for images absent from their ground-truth file (the test images whose HOIs are all
  invisible), which the MATLAB code counts as false positives -- here such entries (HICO-DET test images,
  ``hico_test_image_names``) are scored as images without ground truth; entries of other images are refused; images
  rank in name order (the official image order) whatever the annotation file's record order;
* their IoU returns 0 for boxes whose intersection is a single pixel row/column (``left >= right``), whereas the
  inclusive convention counts it; they only score triplets seen in the test ground truth; their thresholds
  ``np.arange(0, 1.1, 0.1)`` differ from MATLAB's at 0.6 and 0.7 (0.6000000000000001, 0.7000000000000001);
* they add 1 to the predictions but not to their zero-based ground truth.
"""
import os

import numpy as np

from ..formats.hico_det import read_hico_det_ground_truth, read_hico_image_labels
from ..formats.vocabulary import hico_test_image_names
from .hoi_evaluation import HOIEvaluator

__all__ = ["HICODetEvaluator"]


class HICODetEvaluator(HOIEvaluator):
    """HICO-DET mAP (Default / Known-Object x Full / Rare / Non-rare) and mean recall, in percent.

    Same constructor as :class:`HOIEvaluator`, plus ``image_labels_file`` (HICO's ``anno.mat`` for Known-Object
    mode; default: metadata ``hico_image_labels_file`` when that file exists). Classes without test ground truth
    count as AP 0 (never the case on the real test split, where all 600 classes occur), as in the MATLAB code.

    Raises:
        ValueError: when the metadata does not describe HOI classes split into rare / non-rare.
    """

    empty_class = "zero"
    box_shift = 1.0

    def __init__(self, dataset_name=None, output_dir=None, *, image_labels_file=None, **kwargs):
        super().__init__(dataset_name, output_dir, **kwargs)
        if image_labels_file is None:
            candidate = getattr(self._metadata, "hico_image_labels_file", None)
            image_labels_file = candidate if candidate and os.path.isfile(candidate) else None
        self._image_labels_file = image_labels_file

    def _validate_metadata(self):
        md = self._metadata
        n = len(self._hoi_objects)
        rare = getattr(md, "rare_hoi_ids", None)
        non_rare = getattr(md, "non_rare_hoi_ids", None)
        if rare is None or non_rare is None:
            raise ValueError(f"HICODetEvaluator: metadata of {self._dataset_name} lacks rare_hoi_ids/non_rare_hoi_ids")
        if sorted(np.concatenate([np.asarray(rare, int), np.asarray(non_rare, int)]).tolist()) != list(range(n)):
            raise ValueError(f"HICODetEvaluator: rare_hoi_ids and non_rare_hoi_ids of {self._dataset_name} "
                             f"do not partition the {n} HOI classes")

    def _split_images(self):
        return hico_test_image_names() if getattr(self._metadata, "hico_split", "test") == "test" else None

    def _read_ground_truth(self):
        """Any released HICO-DET form named by the metadata's ``json_file`` (PPDM json, hicodet json, .mat)."""
        path = getattr(self._metadata, "json_file", None)
        if path and (str(path).endswith(".json") or str(path).endswith(".mat")):
            gt, _, _ = read_hico_det_ground_truth(path, getattr(self._metadata, "hico_split", "test"))
            return gt
        return super()._read_ground_truth()

    def _known_object_images(self):
        if self._image_labels_file is None:
            return None
        return read_hico_image_labels(self._image_labels_file, getattr(self._metadata, "hico_split", "test"),
                                      self._hoi_objects, self._scorer.num_objects)
