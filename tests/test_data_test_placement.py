"""The authors' centred test input (INPUT.GGNET.TEST_PLACEMENT "center") on non-square images: the network input,
and boxes mapped back to original pixels. Expectations from get_affine_transform's geometry: k = size / max(H, W),
the image centre goes to the square's centre."""
import cv2
import numpy as np
import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.data import HOIDatasetMapper
from ggnet_d2.data.test_placement import CenterAffineTransform, center_affine

from test_modeling_helpers import tiny_cfg


def test_a_640x480_image_lands_64_pixels_lower(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(1, 256, size=(480, 640, 3), dtype=np.uint8)  # no black pixel inside the image
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), image)
    cfg = tiny_cfg("resnet")
    cfg.INPUT.GGNET.TEST_SIZE = 512
    cfg.INPUT.GGNET.TEST_PLACEMENT = "center"
    mapper = HOIDatasetMapper(cfg, is_train=False)
    out = mapper({"file_name": str(path), "image_id": 0, "height": 480, "width": 640})
    net_in = out["image"].permute(1, 2, 0).numpy()  # (512, 512, 3) BGR
    assert net_in.shape == (512, 512, 3)
    assert center_affine(480, 640, 512) == (0.8, 0.0, 64.0)
    assert (net_in[:64] == 0).all() and (net_in[448:] == 0).all()  # black bands above and below
    assert (net_in[64:448].reshape(-1, 3).max(axis=1) > 0).mean() > 0.999
    # destination (x, y) samples the source at (x / 0.8, (y - 64) / 0.8): integral for multiples of 4
    for xd, yd in [(0, 64), (100, 200), (508, 444), (256, 256)]:
        assert (net_in[yd, xd] == image[int((yd - 64) * 1.25), int(xd * 1.25)]).all(), (xd, yd)


def test_a_tall_image_is_centred_horizontally():
    t = CenterAffineTransform(40, 20, 64)  # height 40, width 20: k = 1.6, tx = 32 - 16 = 16, ty = 0
    assert (t.k, t.tx, t.ty) == (1.6, 16.0, 0.0)
    warped = t.apply_image(np.full((40, 20, 3), 200, np.uint8))
    # source x = (x - 16) / 1.6, y = y / 1.6: columns 15 and 47 and row 63 blend the image edge with the border
    assert (warped[:, :15] == 0).all() and (warped[:, 48:] == 0).all() and (warped[:63, 16:47] == 200).all()
    assert 0 < warped[0, 15, 0] < 200 and 0 < warped[0, 47, 0] < 200
    assert t.apply_box(np.array([[0.0, 0.0, 20.0, 40.0]])).tolist() == [[16.0, 0.0, 48.0, 64.0]]


def _center_model():
    cfg = tiny_cfg("resnet")
    g = cfg.MODEL.GGNET
    g.NUM_CLASSES, g.NUM_VERBS, g.NUM_GAZE_STEPS = 3, 2, 0
    g.TEST.TOPK_INTERACTIONS, g.TEST.TOPK_HUMANS, g.TEST.TOPK_OBJECTS = 1, 1, 2
    cfg.INPUT.GGNET.TEST_SIZE = 64
    cfg.INPUT.GGNET.TEST_PLACEMENT = "center"
    return build_model(cfg).eval()


def _planted(h=16, w=16):
    obj = torch.full((1, 3, h, w), -30.0)
    wh = torch.zeros(1, 2, h, w)
    obj[0, 0, 6, 5] = 3.0  # person at feature (x=5, y=6), wh (4, 2): input box [12, 20, 28, 28]
    wh[0, :, 6, 5] = torch.tensor([4.0, 2.0])
    obj[0, 1, 12, 10] = 2.0  # object at (10, 12), wh (6, 4): input box [28, 40, 52, 56]
    wh[0, :, 12, 10] = torch.tensor([6.0, 4.0])
    inter = torch.full((1, 2, h, w), -30.0)
    inter[0, 1, 9, 7] = 2.0
    apm_s = torch.zeros(1, 4, h, w)
    apm_s[0, 2:, 9, 7] = torch.tensor([2.0, 3.0])
    apm_o = torch.zeros(1, 4, h, w)
    apm_o[0, 2:, 9, 7] = torch.tensor([-3.0, -3.0])
    return {"obj_heatmap": obj, "obj_wh": wh, "obj_offset": torch.zeros(1, 2, h, w), "interaction_logits": [inter],
            "apm_subject": apm_s, "apm_object": apm_o, "actpoint_offsets": torch.zeros(1, 0, h, w),
            "actpoint_weights": torch.zeros(1, 0, h, w)}


def test_boxes_map_back_to_original_pixels():
    # original 40 wide x 30 high in a 64 square: k = 1.6, tx = 0, ty = 32 - 1.6 * 15 = 8; original = (input - t) / k
    res = _center_model().inference(_planted(), [{"height": 30, "width": 40}], [(64, 64)])[0]
    hoi = res["hoi_instances"]
    assert hoi.subject_boxes.tensor.tolist() == [[12 / 1.6, 12 / 1.6, 28 / 1.6, 20 / 1.6]]
    assert hoi.object_boxes.tensor.tolist() == [[28 / 1.6, 20, 52 / 1.6, 30]]  # (56 - 8) / 1.6 = 30: the border
    assert hoi.interaction_points.tolist() == [[28 / 1.6, 28 / 1.6]]  # input (28, 36)


def test_the_warp_and_the_mapping_back_are_inverse():
    model = _center_model()
    for height, width in [(30, 40), (41, 17), (480, 640), (333, 500)]:
        t = CenterAffineTransform(height, width, 64)
        original = np.array([[1.5, 2.0], [width - 3.25, height - 0.5]])
        scale, offset = model.postprocessor.to_original({}, 64, 64, height, width, model.pixel_mean)
        back = torch.from_numpy(t.apply_coords(original.copy())).float() * scale + offset
        assert np.allclose(back.numpy(), original, atol=1e-4), (height, width)


def test_center_placement_refuses_an_input_that_is_not_the_square():
    with pytest.raises(ValueError, match="TEST_PLACEMENT 'center'"):
        _center_model().inference(_planted(), [{"height": 30, "width": 40, "file_name": "a.jpg"}], [(48, 64)])
