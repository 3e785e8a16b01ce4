"""Train and test geometry agree when augmentation is off: the image sits at the top/left in both."""
import numpy as np
from detectron2.config import get_cfg
from detectron2.data import transforms as T

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data.transforms import RandomCenterAffine, build_hoi_test_augmentation


def test_unaugmented_train_crop_places_the_image_like_the_test_resize():
    image = np.zeros((480, 640, 3), np.uint8)
    boxes = np.array([[100.0, 50.0, 300.0, 400.0], [0.0, 0.0, 640.0, 480.0]])
    train_t = RandomCenterAffine(256, scale_range=(1.0, 1.0), shift=0.0).get_transform(image)
    cfg = add_ggnet_config(get_cfg())
    cfg.INPUT.GGNET.TEST_SIZE = 256
    test_t = T.AugmentationList(build_hoi_test_augmentation(cfg))(T.AugInput(image))
    np.testing.assert_allclose(train_t.apply_box(boxes), test_t.apply_box(boxes), atol=1e-4)
    np.testing.assert_allclose(train_t.apply_box(boxes)[1], [0, 0, 256, 192], atol=1e-4)
    assert train_t.apply_image(image).shape[:2] == (256, 256)  # padding at the bottom


def test_a_crop_smaller_than_the_image_stays_centred():
    image = np.zeros((480, 640, 3), np.uint8)
    t = RandomCenterAffine(100, scale_range=(0.5, 0.5), shift=0.0).get_transform(image)  # 320 x 320 crop
    np.testing.assert_allclose(t.apply_coords(np.array([[320.0, 240.0]])), [[50.0, 50.0]], atol=1e-4)
