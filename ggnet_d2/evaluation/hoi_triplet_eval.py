"""Triplet-class mAP over a whole test set: the HICO-DET protocol on plain arrays (no detectron2 objects).

Default mode scores every class on every test image; Known-Object mode keeps, for a class, only the detections of
images whose ground truth contains the class's object category (eval_one.m, ``eval_mode = 'ko'``). The MATLAB code
takes that image set from HICO's image-level labels, which also count HOIs annotated as invisible (no boxes); with
box-level ground truth only, the images whose ground-truth pairs include the object are used -- identical wherever
the invisible annotations are not the only ones of an object in an image.
"""
import numpy as np

from .hoi_matching import ap_11_point, match_hoi_detections, per_class_ap

__all__ = ["evaluate_hoi_triplets"]


def _stack(rows, width):
    return np.asarray(rows, dtype=np.float64).reshape(-1, width)


def evaluate_hoi_triplets(ground_truth, detections, hoi_objects, ap_fn=ap_11_point, empty_class="zero",
                          iou_threshold=0.5):
    """Per-class AP and recall in Default and Known-Object mode.

    Args:
        ground_truth (dict[str, list[tuple[int, seq, seq]]]): image key -> (hoi_class, subject XYXY, object XYXY)
            pairs; its key order is the test image order (ties in score are ranked in this order).
        detections (dict[str, dict]): image key -> {"hoi_classes" (M,), "subject_boxes" (M, 4), "object_boxes"
            (M, 4), "scores" (M,)}; boxes in the ground truth's pixel frame. Images may be missing (no detections).
        hoi_objects (np.ndarray): (K,) object category of each HOI class.
        ap_fn (callable): AP formula (11-point for HICO-DET).
        empty_class (str): "zero" or "nan", see :func:`per_class_ap`.
        iou_threshold (float): 0.5 in HICO-DET.

    Returns:
        dict: {"default": (ap (K,), recall (K,)), "known_object": (ap, recall), "num_positives": (K,) int64},
        values in [0, 1].

    Raises:
        ValueError: for detections of an image not in the ground truth, or a class id outside [0, K).
    """
    hoi_objects = np.asarray(hoi_objects, dtype=np.int64)
    num_classes = hoi_objects.shape[0]
    image_index = {key: i for i, key in enumerate(ground_truth)}
    num_images = len(image_index)

    gt_img, gt_cls, gt_sub, gt_obj = [], [], [], []
    for key, pairs in ground_truth.items():
        for hoi, sub, obj in pairs:
            gt_img.append(image_index[key])
            gt_cls.append(int(hoi))
            gt_sub.append(sub)
            gt_obj.append(obj)
    gt_img = np.asarray(gt_img, dtype=np.int64)
    gt_cls = np.asarray(gt_cls, dtype=np.int64)
    if gt_cls.size and (gt_cls.min() < 0 or gt_cls.max() >= num_classes):
        raise ValueError(f"ground truth has an HOI class outside [0, {num_classes})")
    num_objects = int(hoi_objects.max()) + 1 if num_classes else 0
    object_present = np.zeros((num_images, max(num_objects, 1)), dtype=bool)
    object_present[gt_img, hoi_objects[gt_cls]] = True

    unknown = [key for key in detections if key not in image_index]
    if unknown:
        raise ValueError(f"predictions for {len(unknown)} image(s) not in the ground truth, e.g. {unknown[0]}")
    parts = [(image_index[key], d) for key, d in detections.items()]
    parts.sort(key=lambda item: item[0])  # image order of the ground truth, whatever order predictions came in
    det_img = np.concatenate([np.full(len(d["scores"]), i, dtype=np.int64) for i, d in parts] or [np.zeros(0, int)])
    det_cls = np.concatenate([np.asarray(d["hoi_classes"], dtype=np.int64) for _, d in parts] or [np.zeros(0, int)])
    det_scores = np.concatenate([np.asarray(d["scores"], dtype=np.float64) for _, d in parts] or [np.zeros(0)])
    det_sub = np.concatenate([_stack(d["subject_boxes"], 4) for _, d in parts] or [np.zeros((0, 4))])
    det_obj = np.concatenate([_stack(d["object_boxes"], 4) for _, d in parts] or [np.zeros((0, 4))])
    if det_cls.size and (det_cls.min() < 0 or det_cls.max() >= num_classes):
        raise ValueError(f"detections have an HOI class outside [0, {num_classes})")

    tp, _ = match_hoi_detections(det_cls * num_images + det_img, det_scores, det_sub, det_obj,
                                 gt_cls * num_images + gt_img, _stack(gt_sub, 4), _stack(gt_obj, 4),
                                 iou_threshold=iou_threshold)
    num_positives = np.bincount(gt_cls, minlength=num_classes).astype(np.int64)
    default = per_class_ap(det_cls, det_scores, tp, num_positives, ap_fn, empty_class)
    # Matching is per (class, image), so dropping whole images leaves the other detections' flags unchanged.
    keep = object_present[det_img, hoi_objects[det_cls]] if det_cls.size else np.zeros(0, dtype=bool)
    known = per_class_ap(det_cls[keep], det_scores[keep], tp[keep], num_positives, ap_fn, empty_class)
    return {"default": default, "known_object": known, "num_positives": num_positives}
