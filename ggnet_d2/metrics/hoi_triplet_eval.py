"""Triplet-class mAP over a whole test set: the HICO-DET protocol on plain arrays (numpy only, no torch/detectron2,
so that tools/evaluate_hoi.py can score a file without importing them).

Default mode scores every class on every test image. Known-Object mode keeps, for a class, only the detections of the
images where its object category is "known" (eval_one.m, ``eval_mode = 'ko'``). The official code takes those images
from HICO's image-level labels (``anno.mat``: an image counts for a class when its label of any HOI of the class's
object is 1), which also cover HOIs annotated as invisible (no boxes); pass them as ``object_present``. Without them
the images whose box-level ground truth has a pair with the object are used -- identical wherever an image's positive
labels of an object all have boxes.
"""
import numpy as np

from ..formats.ground_truth import HOIGroundTruth, as_boxes
from .hoi_matching import ap_11_point, match_hoi_detections, per_class_ap, ranking

__all__ = ["HOIGroundTruth", "evaluate_hoi_arrays", "evaluate_hoi_triplets"]


def evaluate_hoi_arrays(gt, det_image, det_class, det_scores, det_subject, det_object, hoi_objects,
                        ap_fn=ap_11_point, empty_class="zero", iou_threshold=0.5, object_present=None):
    """Per-class AP and recall in Default and Known-Object mode, from flat detection arrays.

    Args:
        gt (HOIGroundTruth): ground truth; boxes in the same pixel frame as the detections.
        det_image (np.ndarray): (D,) int64 index into ``gt.image_names``.
        det_class (np.ndarray): (D,) int64 HOI class in [0, K).
        det_scores (np.ndarray): (D,) float64, finite.
        det_subject, det_object (np.ndarray): (D, 4) float64 XYXY.
        hoi_objects (np.ndarray): (K,) object category of each HOI class.
        ap_fn (callable): AP formula (11-point for HICO-DET).
        empty_class (str): "zero" or "nan", see :func:`per_class_ap`.
        iou_threshold (float): 0.5 in HICO-DET.
        object_present (np.ndarray | None): (I, O) bool, image i is "known" for object o (from image-level labels);
            None: derived from the box-level ground truth.

    Detections of one image keep their given order; images are ranked in test-image order whatever order the
    detections come in (a stable sort by ``det_image``), which is how the official code breaks score ties.

    Returns:
        dict: {"default": (ap (K,), recall (K,)), "known_object": (ap, recall), "num_positives": (K,) int64},
        values in [0, 1].

    Raises:
        ValueError: for a class id outside [0, K), an image index outside the split, or (as eval_one.m's assertion)
            ground-truth pairs in an image that ``object_present`` marks as not having the pair's object.
    """
    hoi_objects = np.asarray(hoi_objects, dtype=np.int64)
    num_classes = hoi_objects.shape[0]
    num_images = gt.num_images
    gt_img, gt_cls = gt.pair_image, gt.pair_class
    if gt_cls.size and (gt_cls.min() < 0 or gt_cls.max() >= num_classes):
        raise ValueError(f"ground truth has an HOI class outside [0, {num_classes})")
    num_objects = int(hoi_objects.max()) + 1 if num_classes else 1
    if object_present is None:
        object_present = np.zeros((num_images, num_objects), dtype=bool)
        object_present[gt_img, hoi_objects[gt_cls]] = True
    else:
        object_present = np.asarray(object_present, dtype=bool)
        if object_present.shape[0] != num_images or object_present.shape[1] < num_objects:
            raise ValueError(f"object_present has shape {object_present.shape}, expected ({num_images}, "
                             f">= {num_objects})")
        unknown = ~object_present[gt_img, hoi_objects[gt_cls]]
        if np.any(unknown):
            k = int(np.flatnonzero(unknown)[0])
            raise ValueError(f"image {gt.image_names[gt_img[k]]} has a ground-truth pair of HOI class {gt_cls[k]} "
                             "but its image-level labels mark no HOI of that object as positive (eval_one.m asserts "
                             f"this never happens; {int(unknown.sum())} such pairs)")

    det_image = np.asarray(det_image, dtype=np.int64).reshape(-1)
    det_class = np.asarray(det_class, dtype=np.int64).reshape(-1)
    det_scores = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    det_subject = as_boxes(det_subject)
    det_object = as_boxes(det_object)
    if det_class.size and (det_class.min() < 0 or det_class.max() >= num_classes):
        raise ValueError(f"detections have an HOI class outside [0, {num_classes})")
    if det_image.size and (det_image.min() < 0 or det_image.max() >= num_images):
        raise ValueError(f"detections have an image index outside [0, {num_images})")
    if det_image.size > 1 and np.any(det_image[1:] < det_image[:-1]):
        order = np.argsort(det_image, kind="stable")
        det_image, det_class, det_scores = det_image[order], det_class[order], det_scores[order]
        det_subject, det_object = det_subject[order], det_object[order]

    tp, _ = match_hoi_detections(det_class * num_images + det_image, det_scores, det_subject, det_object,
                                 gt_cls * num_images + gt_img, gt.subject_boxes, gt.object_boxes,
                                 iou_threshold=iou_threshold)
    num_positives = np.bincount(gt_cls, minlength=num_classes).astype(np.int64)
    order = ranking(det_class, det_scores)
    default = per_class_ap(det_class, det_scores, tp, num_positives, ap_fn, empty_class, order)
    # Matching is per (class, image), so dropping whole images leaves the other detections' flags unchanged; the
    # kept detections keep their ranking.
    keep = object_present[det_image, hoi_objects[det_class]] if det_class.size else np.zeros(0, dtype=bool)
    kept = np.cumsum(keep) - 1
    known = per_class_ap(det_class[keep], det_scores[keep], tp[keep], num_positives, ap_fn, empty_class,
                         kept[order[keep[order]]])
    return {"default": default, "known_object": known, "num_positives": num_positives}


def evaluate_hoi_triplets(ground_truth, detections, hoi_objects, ap_fn=ap_11_point, empty_class="zero",
                          iou_threshold=0.5):
    """:func:`evaluate_hoi_arrays` on per-image dicts.

    Args:
        ground_truth (dict[str, list[tuple[int, seq, seq]]]): image key -> (hoi_class, subject XYXY, object XYXY)
            pairs; its key order is the test-image order.
        detections (dict[str, dict]): image key -> {"hoi_classes" (M,), "subject_boxes" (M, 4), "object_boxes"
            (M, 4), "scores" (M,)}; boxes in the ground truth's pixel frame. Images may be missing (no detections).
        hoi_objects, ap_fn, empty_class, iou_threshold: as :func:`evaluate_hoi_arrays`.

    Returns:
        dict: as :func:`evaluate_hoi_arrays`.

    Raises:
        ValueError: for detections of an image not in the ground truth, or a class id outside [0, K).
    """
    gt = HOIGroundTruth.from_pairs(ground_truth)
    unknown = [key for key in detections if key not in gt.image_index]
    if unknown:
        raise ValueError(f"predictions for {len(unknown)} image(s) not in the ground truth, e.g. {unknown[0]}")
    parts = [(gt.image_index[key], d) for key, d in detections.items()]
    det_img = np.concatenate([np.full(len(d["scores"]), i, dtype=np.int64) for i, d in parts] or [np.zeros(0, int)])
    det_cls = np.concatenate([np.asarray(d["hoi_classes"], dtype=np.int64) for _, d in parts] or [np.zeros(0, int)])
    det_scores = np.concatenate([np.asarray(d["scores"], dtype=np.float64) for _, d in parts] or [np.zeros(0)])
    det_sub = np.concatenate([as_boxes(d["subject_boxes"]) for _, d in parts] or [np.zeros((0, 4))])
    det_obj = np.concatenate([as_boxes(d["object_boxes"]) for _, d in parts] or [np.zeros((0, 4))])
    return evaluate_hoi_arrays(gt, det_img, det_cls, det_scores, det_sub, det_obj, hoi_objects, ap_fn, empty_class,
                               iou_threshold)
