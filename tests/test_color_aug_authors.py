"""INPUT.GGNET.COLOR_AUG "random_order_shared_gray" against a transcription of the authors' ``color_aug``.

The reference below is written from the behaviour of src/lib/utils/image.py (SherlockHolmes221/GGNet, CornerNet's):
the image is the uint8 crop / 255 in float32, the grayscale (cv2 BGR2GRAY) and its mean are taken once, brightness,
contrast and saturation run in shuffled order with factors 1 + U(-0.4, 0.4) drawn in that order, each blending in
place, then PCA lighting adds eigvec @ (eigval * N(0, 0.1^2)). Nothing is clipped.
"""
from pathlib import Path

import cv2
import numpy as np
import pytest
from detectron2.config import get_cfg

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data.transforms import (PCALighting, RandomOrderColorJitter, SharedGrayColorTransform,
                                      build_hoi_train_augmentation)

EIG_VAL = np.array([0.2141788, 0.01817699, 0.00341571], dtype=np.float32)
EIG_VEC = np.array([[-0.58752847, -0.69563484, 0.41340352],
                    [-0.5832747, 0.00994535, -0.81221408],
                    [-0.56089297, 0.71832671, 0.41158938]], dtype=np.float32)


def reference_color_aug(rng, order, image01):
    """The authors' rule on a float32 BGR image in [0, 1], modified in place; ``order`` replaces their shuffle."""
    gray = cv2.cvtColor(image01, cv2.COLOR_BGR2GRAY)
    gray_mean = gray.mean()

    def mix(alpha, target, other):  # target <- alpha target + (1 - alpha) other, other scaled in place
        target *= alpha
        other *= (1 - alpha)
        target += other

    for name in order:
        alpha = 1.0 + rng.uniform(low=-0.4, high=0.4)
        if name == "brightness":
            image01 *= alpha
        elif name == "contrast":
            mix(alpha, image01, gray_mean)
        else:
            mix(alpha, image01, gray[:, :, None])
    image01 += np.dot(EIG_VEC, EIG_VAL * rng.normal(scale=0.1, size=(3,)))
    return image01


def _image(seed=0, shape=(37, 53, 3)):
    return np.random.RandomState(seed).randint(0, 256, size=shape).astype(np.uint8)


class FixedDraws:
    def __init__(self, uniforms, normals):
        self.uniforms, self.normals = list(uniforms), np.asarray(normals, np.float64)

    def uniform(self, low, high):
        return self.uniforms.pop(0)

    def normal(self, scale, size):
        return self.normals


ORDERS = [("brightness", "contrast", "saturation"), ("saturation", "contrast", "brightness"),
          ("contrast", "saturation", "brightness")]


@pytest.mark.parametrize("order", ORDERS)
def test_fixed_draws_match_the_reference(order):
    image = _image()
    # extreme draws (factors 0.62, 1.35, 1.4: values leave [0, 1]) and a large lighting shift
    uniforms, normals = [-0.38, 0.35, 0.4], [0.25, -0.1, 0.3]  # lighting weights alpha (2.5, -1, 3 std)
    ref = reference_color_aug(FixedDraws(uniforms, normals), order, image.astype(np.float32) / 255.0)
    shift = 255.0 * EIG_VEC.astype(np.float64) @ (EIG_VAL * np.asarray(normals))
    factors = {op: 1.0 + u for op, u in zip(order, uniforms)}
    ours = SharedGrayColorTransform(order, factors, shift).apply_image(image)
    assert ours.dtype == np.float32 and ours.shape == image.shape
    assert (ref < 0).any() or (ref > 1).any()  # the unclipped range is exercised
    np.testing.assert_allclose(ours / 255.0, ref, rtol=0, atol=1e-6)


def test_orders_differ():
    image = _image(1)
    f = {"brightness": 1.3, "contrast": 0.7, "saturation": 1.2}
    a = SharedGrayColorTransform(ORDERS[0], f, np.zeros(3)).apply_image(image)
    b = SharedGrayColorTransform(ORDERS[1], f, np.zeros(3)).apply_image(image)
    assert np.abs(a - b).max() > 1.0


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_random_draws_follow_the_authors_sequence(seed):
    """Same random stream: order first, one factor per op in the applied order, then the lighting weights."""
    image = _image(seed)
    np.random.seed(seed)
    ours = RandomOrderColorJitter(0.4, 0.1).get_transform(image).apply_image(image)
    np.random.seed(seed)
    order = [("brightness", "contrast", "saturation")[i] for i in np.random.permutation(3)]
    ref = reference_color_aug(np.random, order, image.astype(np.float32) / 255.0)
    np.testing.assert_allclose(ours / 255.0, ref, rtol=0, atol=1e-6)


def test_rgb_input_is_the_bgr_result_reversed():
    image = _image(3)
    f = {"brightness": 1.1, "contrast": 0.8, "saturation": 1.3}
    shift_bgr = np.array([-20.0, 5.0, 12.0])
    bgr = SharedGrayColorTransform(ORDERS[2], f, shift_bgr, "BGR").apply_image(image)
    rgb = SharedGrayColorTransform(ORDERS[2], f, shift_bgr[::-1], "RGB").apply_image(image[:, :, ::-1])
    np.testing.assert_allclose(rgb[:, :, ::-1], bgr, rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="BGR or RGB"):
        RandomOrderColorJitter(0.4, 0.1, "L")


def test_config_choice():
    cfg = add_ggnet_config(get_cfg())
    assert cfg.INPUT.GGNET.COLOR_AUG == "detectron2_ops"
    cfg.INPUT.GGNET.PCA_LIGHTING = 0.1
    assert isinstance(build_hoi_train_augmentation(cfg)[-1], PCALighting)
    cfg.INPUT.GGNET.COLOR_AUG = "random_order_shared_gray"
    augs = build_hoi_train_augmentation(cfg)
    assert isinstance(augs[-1], RandomOrderColorJitter) and not any(isinstance(a, PCALighting) for a in augs)
    assert (augs[-1].strength, augs[-1].lighting_std) == (0.4, 0.1)
    cfg.INPUT.GGNET.COLOR_AUG = "authors"
    with pytest.raises(ValueError, match="COLOR_AUG"):
        build_hoi_train_augmentation(cfg)


def test_mapper_ships_the_float_image_and_the_model_trains_on_it():
    import torch
    from detectron2.data import DatasetCatalog

    from ggnet_d2.data import HOIDatasetMapper
    from ggnet_d2.engine import GGNetTrainer, setup_cfg
    repo = Path(__file__).resolve().parents[1]
    cfg = setup_cfg(str(repo / "configs" / "quickstart" / "GGNet_R18_synth.yaml"), [
        "INPUT.GGNET.INPUT_SIZE", "64", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
        "MODEL.GGNET.HEAD_CONV", "16", "DATASETS.TEST", "()", "MODEL.DEVICE", "cpu",
        "INPUT.GGNET.COLOR_AUG", "random_order_shared_gray",
        "INPUT.GGNET.PCA_LIGHTING", "0.1"])
    np.random.seed(0)
    batch = [HOIDatasetMapper(cfg, is_train=True)(d) for d in DatasetCatalog.get("synth_hoi_train")[:2]]
    assert all(b["image"].dtype == torch.float32 for b in batch)
    assert all((b["image"] != b["image"].round()).any() for b in batch)  # not rounded back to uint8
    torch.manual_seed(0)
    model = GGNetTrainer.build_model(cfg)
    model.train()
    losses = model(batch)
    assert all(torch.isfinite(v) for v in losses.values())
