"""The authors' centred fixed-resolution test input (CenterNet / PPDM / GGNet ``detectors/base_detector.py``
``pre_process`` with ``fix_res``, ``utils/image.py`` ``get_affine_transform``): the image is scaled so its longer side
is the input size and centred in the square by one affine warp (bilinear, black border)."""
import cv2
import numpy as np
from detectron2.data import transforms as T

from ..utils.geometry import TEST_PLACEMENTS, center_affine

__all__ = ["center_affine", "CenterAffineTransform", "CenterAffine", "TEST_PLACEMENTS"]


class CenterAffineTransform(T.Transform):
    """Warp an (H, W[, C]) image into a ``size`` x ``size`` square by ``center_affine`` (``cv2.warpAffine``,
    INTER_LINEAR, constant 0 border, as the authors' pre_process); coordinates (N, 2) (x, y) map the same way."""

    def __init__(self, height, width, size):
        super().__init__()
        k, tx, ty = center_affine(height, width, size)
        self._set_attributes(locals())
        self.matrix = np.array([[k, 0.0, tx], [0.0, k, ty]], dtype=np.float64)

    def apply_image(self, img):
        return cv2.warpAffine(img, self.matrix, (self.size, self.size), flags=cv2.INTER_LINEAR)

    def apply_coords(self, coords):
        return coords * self.matrix[0, 0] + self.matrix[:, 2]

    def apply_segmentation(self, segmentation):
        return cv2.warpAffine(segmentation, self.matrix, (self.size, self.size), flags=cv2.INTER_NEAREST)


class CenterAffine(T.Augmentation):
    """``CenterAffineTransform`` to a ``size`` square (the authors' test input)."""

    def __init__(self, size):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        return CenterAffineTransform(image.shape[0], image.shape[1], self.size)
