"""HOIDatasetMapper: flip consistency, test-mode resize, augmentation ranges, collation."""
import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import build_detection_train_loader
from detectron2.data import transforms as T
from detectron2.structures import BoxMode
from PIL import Image

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import HOIDatasetMapper, build_hoi_test_augmentation, build_hoi_train_augmentation
from ggnet_d2.data.targets import TRAINING_TARGET_KEYS
from ggnet_d2.data.transforms import RandomCenterAffine, ResizeLongestEdge


def _cfg():
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 3, 4
    cfg.INPUT.GGNET.INPUT_SIZE, cfg.INPUT.GGNET.TEST_SIZE = 64, 32
    cfg.DATASETS.TRAIN = ()
    return cfg


def _record(tmp_path, size=(64, 64)):
    path = tmp_path / "img.png"
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (size[1], size[0], 3), np.uint8)).save(path)
    box = lambda b, c: {"bbox": b, "bbox_mode": BoxMode.XYXY_ABS, "category_id": c}  # noqa: E731
    # feature-map centers (x): person 4.5, object 10.25 -> integers 4 and 10, interaction x 7 (even sum)
    return {"file_name": str(path), "image_id": 0, "height": size[1], "width": size[0],
            "annotations": [box([8, 8, 28, 32], 0), box([36, 12, 46, 24], 2)],
            "hoi_annotations": [{"subject_id": 0, "object_id": 1, "verb_id": 1, "hoi_id": -1}]}


def test_flip_gives_mirrored_targets(tmp_path):
    valid = np.ones((4, 3), bool)
    rec = _record(tmp_path)
    plain = HOIDatasetMapper(_cfg(), True, augmentations=[ResizeLongestEdge(64)], valid_verb_object=valid)
    flip = HOIDatasetMapper(_cfg(), True, augmentations=[ResizeLongestEdge(64), T.RandomFlip(prob=1.0)],
                            valid_verb_object=valid)
    a, b = plain(rec), flip(rec)
    assert torch.equal(b["image"], a["image"].flip(-1))
    ta, tb = a["ggnet_targets"], b["ggnet_targets"]
    # nothing the losses do not read (the sharp gaze target only with LOSS.GAZE_TARGET "sharp")
    assert set(ta) == set(TRAINING_TARGET_KEYS) - {"gaze_hna_map"}
    for key in ("obj_heatmap", "hna_map"):
        assert torch.equal(tb[key], ta[key].flip(-1)), key
    assert ta["hna_map"].min() == -1.0  # verbs 0, 2, 3 are hard negatives
    Wo = 16
    col = lambda idx: (idx % Wo, idx // Wo)  # noqa: E731
    for k in range(2):
        (xa, ya), (xb, yb) = col(int(ta["obj_index"][k])), col(int(tb["obj_index"][k]))
        assert (xb, yb) == (Wo - 1 - xa, ya)
    torch.testing.assert_close(tb["obj_offset"][:2, 0], 1 - ta["obj_offset"][:2, 0])
    torch.testing.assert_close(tb["obj_offset"][:2, 1], ta["obj_offset"][:2, 1])
    torch.testing.assert_close(tb["obj_wh"], ta["obj_wh"])
    assert col(int(ta["interaction_index"][0])) == (7, 4) and col(int(tb["interaction_index"][0])) == (8, 4)
    assert ta["apm_subject_offset"][0, 2:4].tolist() == [3, -1]
    assert tb["apm_subject_offset"][0, 2:4].tolist() == [-3, -1]
    assert ta["apm_object_offset"][0, 2:4].tolist() == [-3, 0] and tb["apm_object_offset"][0, 2:4].tolist() == [3, 0]


def test_test_mode_resizes_longer_side_without_targets(tmp_path):
    rec = _record(tmp_path, size=(64, 48))
    out = HOIDatasetMapper(_cfg(), is_train=False)(rec)
    assert out["image"].shape == (3, 24, 32) and "ggnet_targets" not in out
    aug = build_hoi_test_augmentation(_cfg())  # the demo uses it on raw frames
    img = np.zeros((480, 640, 3), np.uint8)
    assert T.AugmentationList(aug)(T.AugInput(img)).apply_image(img).shape == (24, 32, 3)


def test_random_center_affine_keeps_boxes_with_image():
    np.random.seed(3)
    img = np.zeros((100, 200, 3), np.uint8)
    img[40:60, 80:120] = 255
    tfm = RandomCenterAffine(64, (0.6, 1.4), 0.1).get_transform(img)
    out = tfm.apply_image(img)
    x1, y1, x2, y2 = tfm.apply_box(np.array([[80, 40, 120, 60]], np.float32))[0]
    assert out.shape == (64, 64, 3)
    ys, xs = np.nonzero(out[:, :, 0] > 127)
    assert abs(xs.min() - x1) <= 1 and abs(xs.max() + 1 - x2) <= 1 and abs(ys.min() - y1) <= 1
    side = (tfm.src_rect[2] - tfm.src_rect[0])
    assert 0.6 * 200 <= side <= 1.4 * 200


def test_train_augmentation_list():
    augs = build_hoi_train_augmentation(_cfg())
    assert [type(a).__name__ for a in augs] == ["RandomCenterAffine", "RandomFlip", "RandomBrightness",
                                                 "RandomContrast", "RandomSaturation"]


def test_default_loader_collates(tmp_path):
    rec = _record(tmp_path)
    mapper = HOIDatasetMapper(_cfg(), True)
    loader = build_detection_train_loader(dataset=[rec, rec], mapper=mapper, total_batch_size=2, num_workers=0)
    batch = next(iter(loader))
    assert len(batch) == 2 and batch[0]["image"].shape == (3, 64, 64)
    stacked = torch.utils.data.default_collate([b["ggnet_targets"] for b in batch])
    assert stacked["obj_heatmap"].shape == (2, 3, 16, 16) and stacked["apm_mask"].shape == (2, 64, 8)
    assert stacked["obj_index"].dtype == torch.int64 and stacked["hna_map"].dtype == torch.float32


def test_metadata_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="valid_verb_object has shape"):
        HOIDatasetMapper(_cfg(), True, valid_verb_object=np.ones((2, 2), bool))
