"""GGNet's input augmentation, built from ``detectron2.data.transforms`` so boxes move with the image.

Train (CenterNet / PPDM recipe, Sec. 4.2 of GGNet): a random square crop of side ``s = max(H, W) * U(scale range)``
centred at the image centre (along an axis shorter than ``s``: with the image at the top/left, as at test time) plus
a clipped Gaussian shift, resized to INPUT_SIZE x INPUT_SIZE (one
``T.ExtentTransform``; regions outside the image are black), horizontal flip, brightness/contrast/saturation jitter.
Test: aspect-preserving resize so the longer side is TEST_SIZE (the model pads with black, to a square by default),
or, with ``INPUT.GGNET.TEST_PLACEMENT: "center"``, the authors' centring warp (``test_placement.py``).
"""
import numpy as np
from detectron2.data import transforms as T
from PIL import Image

from .test_placement import TEST_PLACEMENTS, CenterAffine

__all__ = ["RandomCenterAffine", "ResizeLongestEdge", "build_hoi_train_augmentation", "build_hoi_test_augmentation"]


class RandomCenterAffine(T.Augmentation):
    """CenterNet's random scale + shift to a fixed square input, as a crop+resize ``T.ExtentTransform``.

    Args:
        output_size (int): side of the square output (input pixels).
        scale_range (tuple[float, float]): the crop side is ``max(H, W)`` times a uniform factor from this range.
        shift (float): the crop centre moves by ``crop side * clip(N(0, shift), -2 shift, 2 shift)`` per axis.
    """

    def __init__(self, output_size, scale_range=(0.6, 1.4), shift=0.1):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        h, w = image.shape[:2]
        side = max(h, w) * np.random.uniform(*self.scale_range)
        # Centred on the image (CenterNet) along an axis the crop does not cover; where the crop is larger than the
        # image, the image sits at the top/left and the padding at the bottom/right -- the geometry of the test
        # input (resize + bottom/right padding), so un-augmented training and testing see images placed alike.
        cx, cy = max(w, side) / 2.0, max(h, side) / 2.0
        if self.shift > 0:
            cx += side * np.clip(np.random.randn() * self.shift, -2 * self.shift, 2 * self.shift)
            cy += side * np.clip(np.random.randn() * self.shift, -2 * self.shift, 2 * self.shift)
        rect = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        return T.ExtentTransform(rect, (self.output_size, self.output_size), interp=Image.BILINEAR)


class ResizeLongestEdge(T.Augmentation):
    """Aspect-preserving resize so that the longer side becomes ``size`` (input pixels); works on raw arrays."""

    def __init__(self, size):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        h, w = image.shape[:2]
        scale = self.size / max(h, w)
        new_h, new_w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
        return T.ResizeTransform(h, w, new_h, new_w, Image.BILINEAR)


def build_hoi_train_augmentation(cfg):
    """Train augmentations from ``cfg.INPUT.GGNET`` (INPUT_SIZE, SCALE_RANGE, SHIFT, FLIP_PROB, COLOR_JITTER).

    Returns:
        list[T.Augmentation]: output image is INPUT_SIZE x INPUT_SIZE.
    """
    g = cfg.INPUT.GGNET
    augs = [RandomCenterAffine(g.INPUT_SIZE, tuple(g.SCALE_RANGE), g.SHIFT)]
    if g.FLIP_PROB > 0:
        augs.append(T.RandomFlip(prob=g.FLIP_PROB, horizontal=True, vertical=False))
    j = g.COLOR_JITTER
    if j > 0:
        augs += [T.RandomBrightness(1 - j, 1 + j), T.RandomContrast(1 - j, 1 + j), T.RandomSaturation(1 - j, 1 + j)]
    return augs


def build_hoi_test_augmentation(cfg):
    """Test augmentation; needs only the image array: ``[ResizeLongestEdge(TEST_SIZE)]`` for
    ``INPUT.GGNET.TEST_PLACEMENT`` "top_left", ``[CenterAffine(TEST_SIZE)]`` for "center".

    Raises:
        ValueError: an unknown TEST_PLACEMENT.
    """
    g = cfg.INPUT.GGNET
    placement = g.get("TEST_PLACEMENT", "top_left")
    if placement not in TEST_PLACEMENTS:
        raise ValueError(f"INPUT.GGNET.TEST_PLACEMENT must be one of {TEST_PLACEMENTS}, got {placement!r}")
    return [CenterAffine(g.TEST_SIZE)] if placement == "center" else [ResizeLongestEdge(g.TEST_SIZE)]
