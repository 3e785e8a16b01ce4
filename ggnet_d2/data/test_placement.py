"""The authors' centred fixed-resolution test input (CenterNet / PPDM / GGNet ``detectors/base_detector.py``
``pre_process`` with ``fix_res``, ``utils/image.py`` ``get_affine_transform``): the image is scaled so its longer side
is the input size and centred in the square by one affine warp (bilinear, black border)."""
import cv2
import numpy as np
from detectron2.data import transforms as T

__all__ = ["center_affine", "CenterAffineTransform", "CenterAffine"]


def center_affine(height, width, size):
    """Scale and translation of the centring warp: input = k * original + (tx, ty).

    Their ``get_affine_transform(c, s, 0, [size, size])`` with c = (width / 2, height / 2), s = max(height, width)
    maps c to the square's centre and a vertical segment of length s to the full side, hence k = size / s and
    t = size / 2 - k * c. Their ``transform_preds`` inverts the same map for the outputs.

    Args:
        height, width (int or float): original image size, pixels.
        size (int): side of the square network input, pixels.

    Returns:
        tuple[float, float, float]: k, tx, ty.
    """
    k = size / float(max(height, width))
    return k, size / 2.0 - k * width / 2.0, size / 2.0 - k * height / 2.0


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
