"""HICODetEvaluator: the official HICO-DET protocol (Chao et al., WACV 2018) as a detectron2 DatasetEvaluator.

Semantics follow the authors' MATLAB code (ywchao/ho-rcnn ``evaluation/eval_one.m`` and ``VOCevaldet_bboxpair.m``):
600 HOI classes, min(human IoU, object IoU) >= 0.5 with inclusive-pixel IoU, greedy matching in descending score,
11-point AP, mean of the final recall; Full / Rare (138) / Non-rare (462) in Default and Known-Object mode.

Where common Python ports differ (PPDM ``src/lib/eval/hico_eval.py``, reused by GGNet):
* they skip predictions for images absent from their ground-truth file (images without annotations), which the MATLAB
  code counts as false positives -- here every detection of an image without a pair of its class is a false positive;
* their IoU returns 0 for boxes whose intersection is a single pixel row/column (``left >= right``), whereas the
  inclusive convention counts it; they only score triplets seen in the test ground truth; they use
  ``np.arange(0, 1.1, 0.1)`` thresholds (0.30000000000000004 etc.), here exact tenths;
* the MATLAB code adds 1 to zero-based detection boxes to meet its one-based ground truth; here detections and ground
  truth share the dataset's pixel frame, so no shift is applied (IoU is shift invariant).
"""
import numpy as np

from .hoi_evaluation import HOIEvaluator

__all__ = ["HICODetEvaluator"]


class HICODetEvaluator(HOIEvaluator):
    """HICO-DET mAP (Default / Known-Object x Full / Rare / Non-rare) and mean recall, in percent.

    Same constructor as :class:`HOIEvaluator`. Classes without test ground truth count as AP 0 (never the case on
    the real test split, where all 600 classes occur), as in the MATLAB code.

    Raises:
        ValueError: when the metadata does not describe 600 HOI classes split into rare / non-rare.
    """

    empty_class = "zero"

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
