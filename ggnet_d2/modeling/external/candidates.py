"""Per-image detections (feature-map pixels) -> the padded human/object candidate dicts of ``decode_hoi``."""
import torch

__all__ = ["candidates_from_detections"]


def candidates_from_detections(detections, *, person_class_id=0, topk=100, score_thresh=0.0):
    """Select and pad external detections for Eq. 8 matching.

    Detections scoring below ``score_thresh`` are dropped; humans are the detections of class ``person_class_id``;
    objects are all detections (persons included, as GGNet's own object candidates include the person channel);
    each role keeps its ``topk`` highest-scoring entries. Candidates are matched at their box centers (float).

    Args:
        detections (list[dict]): one per image: ``boxes`` (N, 4) XYXY feature-map pixels, ``scores`` (N,),
            ``classes`` (N,) int64 dataset-contiguous classes; all on one device.
        person_class_id (int): contiguous class of "person".
        topk (int): K per role (<= 0: no limit).
        score_thresh (float): minimum detection score kept.

    Returns:
        tuple: (humans, objects) dicts of padded tensors, B = len(detections), K = the largest count of the batch
        (at least 0): ``boxes`` (B, K, 4), ``centers`` (B, K, 2) (x, y), ``scores`` (B, K), ``mask`` (B, K) bool
        (False = padding); ``objects`` also ``classes`` (B, K) int64.
    """
    humans, objects = [], []
    for det in detections:
        keep = det["scores"] >= score_thresh
        boxes, scores, classes = det["boxes"][keep], det["scores"][keep], det["classes"][keep]
        is_person = classes == person_class_id
        humans.append(_topk(boxes[is_person], scores[is_person], classes[is_person], topk))
        objects.append(_topk(boxes, scores, classes, topk))
    h, o = _pad(humans), _pad(objects)
    del h["classes"]
    return h, o


def _topk(boxes, scores, classes, k):
    if k > 0 and len(scores) > k:
        scores, order = scores.topk(k)
        boxes, classes = boxes[order], classes[order]
    else:
        scores, order = scores.sort(descending=True, stable=True)
        boxes, classes = boxes[order], classes[order]
    return boxes.float(), scores.float(), classes.long()


def _pad(per_image):
    k = max([len(s) for _, s, _ in per_image], default=0)
    b = len(per_image)
    ref = per_image[0][0] if per_image else torch.zeros(0, 4)
    out = {"boxes": ref.new_zeros(b, k, 4), "scores": ref.new_zeros(b, k),
           "classes": torch.zeros(b, k, dtype=torch.long, device=ref.device),
           "mask": torch.zeros(b, k, dtype=torch.bool, device=ref.device)}
    for i, (boxes, scores, classes) in enumerate(per_image):
        n = len(scores)
        out["boxes"][i, :n], out["scores"][i, :n], out["classes"][i, :n] = boxes, scores, classes
        out["mask"][i, :n] = True
    out["centers"] = torch.stack([(out["boxes"][..., 0] + out["boxes"][..., 2]) / 2,
                                  (out["boxes"][..., 1] + out["boxes"][..., 3]) / 2], dim=-1)
    return out
