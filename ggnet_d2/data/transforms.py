"""GGNet's input augmentation, built from ``detectron2.data.transforms`` so boxes move with the image.

Train (CenterNet / PPDM recipe, Sec. 4.2 of GGNet): a random square crop of side ``s = max(H, W) * U(scale range)``
centred at the image centre (along an axis shorter than ``s``: with the image at the top/left, as at test time) plus
a clipped Gaussian shift, resized to INPUT_SIZE x INPUT_SIZE (one
``T.ExtentTransform``; regions outside the image are black), horizontal flip, brightness/contrast/saturation jitter.
Test: aspect-preserving resize so the longer side is TEST_SIZE (the model pads with black, to a square by default),
or, with ``INPUT.GGNET.TEST_PLACEMENT: "center"``, the authors' centring warp (``test_placement.py``).

The GGNet authors' published training (src/lib/datasets/dataset/hico.py ``__getitem__``, src/lib/utils/image.py
``color_aug``) crops differently (INPUT.GGNET.CROP "random_crop_border": ``AuthorsRandomCrop``), adds PCA lighting
noise (INPUT.GGNET.PCA_LIGHTING: ``PCALighting``), and jitters colour their way (INPUT.GGNET.COLOR_AUG
"random_order_shared_gray": ``RandomOrderColorJitter``).
"""
import numpy as np
from detectron2.data import transforms as T
from PIL import Image

from ..config_choices import COLOR_AUG_RANDOM_ORDER_SHARED_GRAY, CROP_RANDOM_BORDER, PLACEMENT_CENTER, resolve_choice
from .test_placement import CenterAffine

__all__ = ["RandomCenterAffine", "AuthorsRandomCrop", "PCALighting", "RandomOrderColorJitter",
           "SharedGrayColorTransform", "ResizeLongestEdge", "authors_crop_border", "build_hoi_train_augmentation", "build_hoi_test_augmentation"]

_COLOR_OPS = ("brightness", "contrast", "saturation")

# hico.py HICO.__init__ ``_eig_val`` / ``_eig_vec`` (CornerNet's PCA of ImageNet colours; rows B, G, R for the BGR
# image cv2 reads), on the [0, 1] scale.
_PCA_EIGEN_VALUES = np.array([0.2141788, 0.01817699, 0.00341571])
_PCA_EIGEN_VECTORS_BGR = np.array([[-0.58752847, -0.69563484, 0.41340352],
                                   [-0.5832747, 0.00994535, -0.81221408],
                                   [-0.56089297, 0.71832671, 0.41158938]])
# cv2.COLOR_BGR2GRAY's weights (ITU-R BT.601 luma), B, G, R.
_GRAY_WEIGHTS_BGR = np.array([0.114, 0.587, 0.299], np.float32)


def _channels(bgr_first_axis, image_format):
    """An array indexed by B, G, R along axis 0, reordered for ``image_format`` ("BGR" or "RGB")."""
    if image_format not in ("BGR", "RGB"):
        raise ValueError(f"colour augmentation needs a BGR or RGB image, got INPUT.FORMAT {image_format!r}")
    return bgr_first_axis[::-1] if image_format == "RGB" else bgr_first_axis


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


def authors_crop_border(border, size):
    """The authors' ``HICO._get_border`` (hico.py): ``border`` halved until ``size - b > b``; pixels.

    Examples: (128, 640) -> 128, (128, 256) -> 64, (128, 200) -> 64, (128, 100) -> 32.

    Raises:
        ValueError: for a size below 1 (the authors' loop would not end).
    """
    if size < 1:
        raise ValueError(f"image side must be >= 1 pixel, got {size}")
    i = 1
    while size - border // i <= border // i:
        i *= 2
    return border // i


class AuthorsRandomCrop(T.Augmentation):
    """The GGNet authors' training crop (CornerNet's random crop; hico.py ``__getitem__`` without --not_rand_crop).

    A square of side ``max(H, W) * s``, s drawn uniformly from ``scales``, centred at an integer pixel drawn
    uniformly from ``[b_w, W - b_w) x [b_h, H - b_h)`` with ``b = authors_crop_border(border, side length)``, resized
    to ``output_size`` x ``output_size`` (one ``T.ExtentTransform``; outside the image is black). The authors flip the
    image before cropping (mirroring the centre); a ``T.RandomFlip`` after this crop gives the same distribution.

    Args:
        output_size (int): side of the square output (input pixels, 512 in the paper).
        scales (Sequence[float]): crop-side factors (authors: 0.7, 0.8, ..., 1.3).
        border (int): the authors' 128.
    """

    def __init__(self, output_size, scales=(0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3), border=128):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        h, w = image.shape[:2]
        side = max(h, w) * float(np.random.choice(np.asarray(self.scales, dtype=np.float64)))
        bw, bh = authors_crop_border(self.border, w), authors_crop_border(self.border, h)
        cx = np.random.randint(low=bw, high=w - bw)
        cy = np.random.randint(low=bh, high=h - bh)
        rect = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        return T.ExtentTransform(rect, (self.output_size, self.output_size), interp=Image.BILINEAR)


class PCALighting(T.RandomLighting):
    """AlexNet's PCA lighting noise with the authors' statistics, for 0-255 images (detectron2's RandomLighting).

    Adds ``255 * eigvec @ (eigval * alpha)``, alpha ~ N(0, scale^2) per component, to every pixel. The eigen
    values/vectors are the ones in the authors' hico.py (``_eig_val``, ``_eig_vec``, CornerNet's), applied by their
    ``utils/image.py lighting_`` with alphastd 0.1 to a BGR image in [0, 1]; detectron2's ``RandomLighting`` holds
    other (RGB, ImageNet) statistics on a [0, 1] scale, too small to change a uint8 image. Differences from the
    authors: the result is clipped to [0, 255] and truncated to uint8 here (detectron2's BlendTransform).

    Args:
        scale (float): std of alpha (authors: 0.1).
        image_format (str): "BGR" (the authors' order) or "RGB" (the vector's channels are reversed).
    """

    def __init__(self, scale, image_format="BGR"):
        super().__init__(scale)
        self.image_format = image_format
        self.eigen_vecs = 255.0 * _channels(_PCA_EIGEN_VECTORS_BGR, image_format)
        self.eigen_vals = _PCA_EIGEN_VALUES.copy()


class SharedGrayColorTransform(T.Transform):
    """Brightness, contrast and saturation with given factors in a given order, then a per-channel shift; on float.

    The photometric part of the authors' ``color_aug`` (src/lib/utils/image.py, CornerNet's) for fixed draws, on a
    0-255 image (theirs works on the image / 255; every step is linear, so the result is 255 times theirs):
    the grayscale ``gray`` (cv2's BGR2GRAY weights) and its mean over the image are computed ONCE from the input, then
    each op in ``order`` does ``x = a x`` (brightness), ``x = a x + (1 - a) mean(gray)`` (contrast),
    ``x = a x + (1 - a) gray`` (saturation), and finally ``x += shift`` (their ``lighting_``). Nothing is clipped
    or rounded: the output is float32 (H, W, 3), values may leave [0, 255], as the authors' float image before their
    mean/std normalisation.

    Args:
        order (Sequence[str]): a permutation of "brightness", "contrast", "saturation".
        factors (dict[str, float]): the factor ``a`` of each op.
        shift (np.ndarray (3,)): added per channel, 0-255 units, in ``image_format``'s channel order.
        image_format (str): "BGR" or "RGB" (the grayscale weights follow it).
    """

    def __init__(self, order, factors, shift, image_format="BGR"):
        super().__init__()
        if sorted(order) != sorted(_COLOR_OPS):
            raise ValueError(f"order must be a permutation of {_COLOR_OPS}, got {order}")
        self._set_attributes({"order": tuple(order), "factors": dict(factors),
                              "shift": np.asarray(shift, np.float32).reshape(3), "image_format": image_format})
        self.gray_weights = _channels(_GRAY_WEIGHTS_BGR, image_format)

    def apply_image(self, img):
        x = np.array(img, dtype=np.float32)
        gray = x @ self.gray_weights
        gray_mean = gray.mean()
        for op in self.order:
            a = np.float32(self.factors[op])
            x *= a
            if op == "contrast":
                x += (1 - a) * gray_mean
            elif op == "saturation":
                x += (1 - a) * gray[..., None]
        x += self.shift
        return x

    def apply_coords(self, coords):
        return coords

    def apply_segmentation(self, segmentation):
        return segmentation


class RandomOrderColorJitter(T.Augmentation):
    """The authors' colour augmentation (``color_aug`` in their src/lib/utils/image.py, from CornerNet), for a
    0-255 image: :class:`SharedGrayColorTransform` with random draws.

    Draws, in their order: a random order of brightness, contrast and saturation (they shuffle with Python's
    ``random``; here ``np.random.permutation``), then for each op in that order a factor ``1 + U(-strength,
    strength)``, then PCA lighting weights ``alpha ~ N(0, lighting_std^2)`` (3,) giving the shift
    ``255 * eigvec @ (eigval * alpha)`` with hico.py's ``_eig_val`` / ``_eig_vec``. Differences from detectron2's ops
    ("detectron2_ops"): random order instead of brightness-contrast-saturation, contrast and saturation blend with
    the grayscale of the input (not of the current image, nor the all-channel mean), grayscale weights follow the
    channel order, and no uint8 clip/truncation after each op: the output stays float32 (see the transform).

    Args:
        strength (float): the authors' ``var`` 0.4 (INPUT.GGNET.COLOR_JITTER).
        lighting_std (float): the authors' ``alphastd`` 0.1 (INPUT.GGNET.PCA_LIGHTING); 0 = no shift.
        image_format (str): "BGR" (the authors') or "RGB".
    """

    def __init__(self, strength=0.4, lighting_std=0.1, image_format="BGR"):
        super().__init__()
        _channels(_GRAY_WEIGHTS_BGR, image_format)  # validates the format
        self._init(locals())

    def get_transform(self, image):
        order = [_COLOR_OPS[i] for i in np.random.permutation(len(_COLOR_OPS))]
        factors = {op: 1.0 + np.random.uniform(-self.strength, self.strength) for op in order}
        alpha = np.random.normal(scale=self.lighting_std, size=3) if self.lighting_std > 0 else np.zeros(3)
        shift = 255.0 * _channels(_PCA_EIGEN_VECTORS_BGR, self.image_format) @ (_PCA_EIGEN_VALUES * alpha)
        return SharedGrayColorTransform(order, factors, shift, self.image_format)


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
    """Train augmentations from ``cfg.INPUT.GGNET`` (CROP with INPUT_SIZE, SCALE_RANGE, SHIFT or CROP_SCALES,
    CROP_BORDER; FLIP_PROB, COLOR_AUG with COLOR_JITTER and PCA_LIGHTING).

    Returns:
        list[T.Augmentation]: output image is INPUT_SIZE x INPUT_SIZE; uint8, except float32 (0-255 scale,
        unclipped) after COLOR_AUG "random_order_shared_gray".

    Raises:
        ValueError: for an unknown INPUT.GGNET.CROP or COLOR_AUG (``resolve_choice``).
    """
    g = cfg.INPUT.GGNET
    if resolve_choice("INPUT.GGNET.CROP", g.CROP) == CROP_RANDOM_BORDER:
        augs = [AuthorsRandomCrop(g.INPUT_SIZE, tuple(g.CROP_SCALES), g.CROP_BORDER)]
    else:
        augs = [RandomCenterAffine(g.INPUT_SIZE, tuple(g.SCALE_RANGE), g.SHIFT)]
    if g.FLIP_PROB > 0:
        augs.append(T.RandomFlip(prob=g.FLIP_PROB, horizontal=True, vertical=False))
    j = g.COLOR_JITTER
    if resolve_choice("INPUT.GGNET.COLOR_AUG", g.COLOR_AUG) == COLOR_AUG_RANDOM_ORDER_SHARED_GRAY:
        if j > 0 or g.PCA_LIGHTING > 0:
            augs.append(RandomOrderColorJitter(j, g.PCA_LIGHTING, cfg.INPUT.FORMAT))
        return augs
    if j > 0:
        augs += [T.RandomBrightness(1 - j, 1 + j), T.RandomContrast(1 - j, 1 + j), T.RandomSaturation(1 - j, 1 + j)]
    if g.PCA_LIGHTING > 0:  # after the colour jitter, as the authors' color_aug
        augs.append(PCALighting(g.PCA_LIGHTING, cfg.INPUT.FORMAT))
    return augs


def build_hoi_test_augmentation(cfg):
    """Test augmentation; needs only the image array: ``[ResizeLongestEdge(TEST_SIZE)]`` for
    ``INPUT.GGNET.TEST_PLACEMENT`` "top_left", ``[CenterAffine(TEST_SIZE)]`` for "center".

    Raises:
        ValueError: an unknown TEST_PLACEMENT (``resolve_choice``).
    """
    g = cfg.INPUT.GGNET
    placement = resolve_choice("INPUT.GGNET.TEST_PLACEMENT", g.TEST_PLACEMENT)
    return [CenterAffine(g.TEST_SIZE)] if placement == PLACEMENT_CENTER else [ResizeLongestEdge(g.TEST_SIZE)]
