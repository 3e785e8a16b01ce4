"""Per-pair inputs of the CLIP distillation (issue 23 item 5, EoID's region-level distillation), built by the mapper
next to the dense targets when MODEL.GGNET.DISTILL.ENABLED.

For each distinct annotated (subject, object) pair of an image, in order of first appearance:

- ``union_box`` float32 (4,): XYXY union of the two boxes in *original* pixels (the teacher crops it from the image
  file, before augmentation, as EoID crops ``img_or``: EoID ``datasets/hico_uc_st.py`` builds ``union_boxes`` from
  the original boxes, lines 202-205);
- ``object_class`` int64: the object's category;
- ``index`` int64: y * Wo + x of the pair's interaction point on the *augmented* input's output map -- the midpoint
  of the integer box centers after the transforms, boxes clipped to the map, as ``targets.build_ggnet_targets``
  places a HOI's interaction point;
- ``labelled`` bool (V,): the verbs annotated for the pair (supervised by the HNA loss, not distilled).

- ``crops`` uint8 (S, S, 3): the union box cut from the original RGB image, padded to a centred black square and
  resized bicubically to S = MODEL.GGNET.DISTILL.IMAGE_SIZE (EoID ``expand2square`` and CLIP's resize): the
  teacher's input, made here so that the model never reads an image file.

Pairs whose boxes vanish after augmentation (out of the crop) are left out.
"""
import math

import numpy as np
import torch
from PIL import Image

__all__ = ["build_distill_pairs", "crop_union_square"]

def crop_union_square(image, box, size):
    """Crop ``box`` from ``image``, pad it to a centred square with black, resize it bicubically to ``size``.

    Args:
        image (np.ndarray (H, W, 3) uint8): RGB, original pixels.
        box (sequence of 4 floats): XYXY, original pixels; cut to the image; at least one pixel is kept.
        size (int): output side.

    Returns:
        np.ndarray (size, size, 3) uint8.
    """
    h, w = image.shape[:2]
    x1 = min(max(int(math.floor(box[0])), 0), w - 1)
    y1 = min(max(int(math.floor(box[1])), 0), h - 1)
    x2 = max(min(int(math.ceil(box[2])), w), x1 + 1)
    y2 = max(min(int(math.ceil(box[3])), h), y1 + 1)
    region = image[y1:y2, x1:x2]
    rh, rw = region.shape[:2]
    side = max(rh, rw)
    square = np.zeros((side, side, 3), dtype=np.uint8)
    top, left = (side - rh) // 2, (side - rw) // 2
    square[top:top + rh, left:left + rw] = region
    return np.asarray(Image.fromarray(square).resize((size, size), Image.BICUBIC))


def _center_int(box, wo, ho):
    b = np.asarray(box, dtype=np.float32).copy()
    b[[0, 2]] = np.clip(b[[0, 2]], 0, wo - 1)
    b[[1, 3]] = np.clip(b[[1, 3]], 0, ho - 1)
    if b[2] - b[0] <= 0 or b[3] - b[1] <= 0:
        return None
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2], dtype=np.float32).astype(np.int64)


def build_distill_pairs(dataset_dict, transforms, image_size, output_stride, num_verbs, max_pairs, original_rgb,
                        crop_size):
    """The pairs of one image (module docstring).

    Args:
        dataset_dict (dict): docs/interfaces.md dataset dict (boxes in original pixels).
        transforms (detectron2 TransformList): the image's training transforms.
        image_size (tuple[int, int]): (H, W) input pixels after the transforms.
        output_stride (int): input pixels per output-map pixel.
        num_verbs (int): V.
        max_pairs (int): at most this many pairs (INPUT.GGNET.MAX_HOIS).
        original_rgb (np.ndarray (H, W, 3) uint8): the image before augmentation, RGB, original pixels.
        crop_size (int): side S of the teacher crops (MODEL.GGNET.DISTILL.IMAGE_SIZE).

    Returns:
        dict of tensors: ``union_box`` (P, 4) float32, ``object_class`` (P,) int64, ``index`` (P,) int64,
        ``labelled`` (P, V) bool, ``crops`` (P, S, S, 3) uint8.
    """
    anns = dataset_dict.get("annotations", [])
    boxes = np.array([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
    moved = transforms.apply_box(boxes) / output_stride if len(boxes) else boxes
    ho, wo = image_size[0] // output_stride, image_size[1] // output_stride
    order, verbs = [], {}
    for h in dataset_dict.get("hoi_annotations", []):
        key = (int(h["subject_id"]), int(h["object_id"]))
        if key not in verbs:
            order.append(key)
            verbs[key] = []
        verbs[key].append(int(h["verb_id"]))
    union, objects, index, labelled = [], [], [], []
    for s, o in order:
        cs, co = _center_int(moved[s], wo, ho), _center_int(moved[o], wo, ho)
        if cs is None or co is None:
            continue
        point = ((cs + co) / 2).astype(np.int64)
        union.append([min(boxes[s][0], boxes[o][0]), min(boxes[s][1], boxes[o][1]),
                      max(boxes[s][2], boxes[o][2]), max(boxes[s][3], boxes[o][3])])
        objects.append(int(anns[o]["category_id"]))
        index.append(int(point[1] * wo + point[0]))
        mask = np.zeros(num_verbs, dtype=bool)
        mask[verbs[(s, o)]] = True
        labelled.append(mask)
        if len(union) == max_pairs:
            break
    crops = [crop_union_square(original_rgb, b, crop_size) for b in union]
    return {"union_box": torch.tensor(np.asarray(union, np.float32).reshape(-1, 4)),
            "crops": torch.from_numpy(np.asarray(crops, np.uint8).reshape(-1, crop_size, crop_size, 3)),
            "object_class": torch.tensor(objects, dtype=torch.int64),
            "index": torch.tensor(index, dtype=torch.int64),
            "labelled": torch.from_numpy(np.asarray(labelled, dtype=bool).reshape(-1, num_verbs))}
