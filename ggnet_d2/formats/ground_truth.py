"""Box-level HOI ground truth of a split as flat arrays: what every ground-truth reader returns and scoring consumes.

numpy only (no torch, no detectron2).
"""
import numpy as np

__all__ = ["HOIGroundTruth", "as_boxes"]


def as_boxes(rows):
    """Boxes (any nesting of N x 4 numbers, possibly empty) as an (N, 4) float64 array."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


class HOIGroundTruth:
    """Box-level HOI ground truth of a test split as flat arrays.

    Attributes:
        image_names (list[str]): image keys (base file names) in test-image order; score ties rank in this order.
        pair_image (np.ndarray): (G,) int64 index into ``image_names`` of each ground-truth pair.
        pair_class (np.ndarray): (G,) int64 HOI class of each pair.
        subject_boxes, object_boxes (np.ndarray): (G, 4) float64 XYXY in the dataset dicts' pixel frame.
        image_index (dict[str, int]): image key -> position.

    Raises:
        ValueError: on arrays of different lengths, a pair image outside the list, or a repeated image key.
    """

    def __init__(self, image_names, pair_image, pair_class, subject_boxes, object_boxes):
        self.image_names = list(image_names)
        self.pair_image = np.asarray(pair_image, dtype=np.int64).reshape(-1)
        self.pair_class = np.asarray(pair_class, dtype=np.int64).reshape(-1)
        self.subject_boxes = as_boxes(subject_boxes)
        self.object_boxes = as_boxes(object_boxes)
        g = self.pair_image.shape[0]
        if not (self.pair_class.shape[0] == self.subject_boxes.shape[0] == self.object_boxes.shape[0] == g):
            raise ValueError("HOIGroundTruth: pair arrays differ in length")
        if g and (self.pair_image.min() < 0 or self.pair_image.max() >= len(self.image_names)):
            raise ValueError("HOIGroundTruth: a pair points outside the image list")
        self.image_index = {name: i for i, name in enumerate(self.image_names)}
        if len(self.image_index) != len(self.image_names):
            raise ValueError("HOIGroundTruth: an image key appears twice; evaluation keys images by base name")

    @property
    def num_images(self):
        """int: images of the split."""
        return len(self.image_names)

    @classmethod
    def from_pairs(cls, ground_truth):
        """From ``{image key: [(hoi_class, subject XYXY, object XYXY), ...]}`` (key order = test-image order)."""
        names, img, hoi, sub, obj = [], [], [], [], []
        for i, (key, pairs) in enumerate(ground_truth.items()):
            names.append(key)
            for h, s, o in pairs:
                img.append(i)
                hoi.append(int(h))
                sub.append(s)
                obj.append(o)
        return cls(names, img, hoi, sub, obj)

    def with_images(self, image_names):
        """The same pairs over a new image list (e.g. the official one), which must hold every current image.

        Raises:
            ValueError: naming an image of the ground truth that the new list lacks.
        """
        new = {name: i for i, name in enumerate(image_names)}
        missing = [n for n in self.image_names if n not in new]
        if missing:
            raise ValueError(f"{len(missing)} ground-truth image(s) are not in the given image list, e.g. "
                             f"{missing[0]}")
        remap = np.array([new[n] for n in self.image_names], dtype=np.int64)
        return HOIGroundTruth(image_names, remap[self.pair_image] if self.pair_image.size else self.pair_image,
                              self.pair_class, self.subject_boxes, self.object_boxes)

    def shifted(self, shift):
        """A copy with ``shift`` pixels added to every box coordinate (e.g. 1: PPDM's zero-based frame -> the
        one-based frame of anno_bbox.mat)."""
        return HOIGroundTruth(self.image_names, self.pair_image, self.pair_class, self.subject_boxes + shift,
                              self.object_boxes + shift)
