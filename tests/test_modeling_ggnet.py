import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.losses import hna_focal_loss
from test_modeling_helpers import C, V, tiny_cfg, train_inputs

ABLATIONS = [
    {"NUM_ACTPOINTS": 9}, {"NUM_ACTPOINTS": 25}, {"NUM_ACTPOINTS": 49},
    {"NUM_GAZE_STEPS": 0}, {"NUM_GAZE_STEPS": 1}, {"NUM_GAZE_STEPS": 3},
    {"SHARE_GAZE_CONVS": True}, {"APM_PER_VERB": False}, {"LOSS": {"HNA_ON": False}},
    {"NUM_GAZE_STEPS": 0, "APM_PER_VERB": False, "LOSS": {"HNA_ON": False}},  # PPDM baseline
]


def _infer(model, size=(64, 96), orig=(200, 300)):
    model.eval()
    with torch.no_grad():
        return model([{"image": torch.randint(0, 256, (3, *size), dtype=torch.uint8), "height": orig[0],
                       "width": orig[1]}])


@pytest.mark.parametrize("switches", ABLATIONS, ids=lambda s: str(s))
def test_ablation_builds_trains_and_infers(switches):
    torch.manual_seed(0)
    cfg = tiny_cfg("dla", **switches)
    g = cfg.MODEL.GGNET
    model = build_model(cfg)
    losses = model(train_inputs())
    k = g.NUM_GAZE_STEPS
    expected = {"loss_glance", "loss_apm_subject", "loss_apm_object", "loss_obj_heatmap", "loss_wh", "loss_offset"}
    expected |= {f"loss_gaze{i}" for i in range(1, k + 1)}
    assert set(losses) == expected
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    n = g.NUM_ACTPOINTS if k else 0
    out = _infer(model)[0]
    hoi = out["hoi_instances"]
    assert len(hoi) == g.TEST.TOPK_INTERACTIONS
    assert hoi.actpoints.shape == (len(hoi), n, 2) and hoi.actpoint_weights.shape == (len(hoi), n)
    assert out["instances"].image_size == (200, 300)
    assert (hoi.scores[:-1] >= hoi.scores[1:]).all()
    inst = out["instances"]
    torch.testing.assert_close(hoi.subject_boxes.tensor, inst.pred_boxes.tensor[hoi.subject_indices])
    torch.testing.assert_close(hoi.object_boxes.tensor, inst.pred_boxes.tensor[hoi.object_indices])
    assert (inst.pred_classes[hoi.subject_indices] == g.PERSON_CLASS_ID).all()
    assert (hoi.object_classes == inst.pred_classes[hoi.object_indices]).all()


@pytest.mark.parametrize("backbone", ["dla", "hourglass", "resnet"])
def test_gradients_reach_every_head_parameter(backbone):
    torch.manual_seed(0)
    model = build_model(tiny_cfg(backbone))
    size = 128 if backbone == "hourglass" else 64
    sum(model(train_inputs(size=size)).values()).backward()
    missing = [n for n, p in model.heads.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing
    assert len(model.heads) == (2 if backbone == "hourglass" else 1)


def test_loss_terms_follow_eq7_weights():
    torch.manual_seed(0)
    model = build_model(tiny_cfg("dla"))
    inputs = train_inputs(1)
    images = model.preprocess_image(inputs)
    out = model.heads[0](model.backbone(images.tensor)["p2"])
    t = model.loss.stack_targets(inputs, model.device)
    losses = model.loss.losses(out, t)
    hna = [hna_focal_loss(x, t["hna_map"]) for x in out["interaction_logits"]]
    torch.testing.assert_close(losses["loss_glance"], 0.1 * hna[0])
    torch.testing.assert_close(losses["loss_gaze1"], 0.1 * hna[1])
    torch.testing.assert_close(losses["loss_gaze2"], 1.0 * hna[2])


def test_inference_maps_to_original_pixels():
    torch.manual_seed(0)
    model = build_model(tiny_cfg("dla", TEST={"TOPK_INTERACTIONS": 1, "TOPK_HUMANS": 1, "TOPK_OBJECTS": 2}))
    h, w = 16, 24  # feature map of a 64x96 input
    obj = torch.full((1, C, h, w), -20.0)
    obj[0, 0, 2, 3] = 3.0
    obj[0, 2, 10, 20] = 2.0
    wh = torch.zeros(1, 2, h, w)
    wh[0, :, 2, 3] = torch.tensor([2.0, 2.0])
    wh[0, :, 10, 20] = torch.tensor([4.0, 2.0])
    inter = torch.full((1, V, h, w), -20.0)
    inter[0, 1, 6, 11] = 1.0
    apm_s = torch.zeros(1, 2 * V, h, w)
    apm_o = torch.zeros(1, 2 * V, h, w)
    apm_s[0, 2:4, 6, 11] = torch.tensor([8.0, 4.0])
    apm_o[0, 2:4, 6, 11] = torch.tensor([-9.0, -4.0])
    out = {"obj_heatmap": obj, "obj_wh": wh, "obj_offset": torch.zeros(1, 2, h, w), "interaction_logits": [inter],
           "apm_subject": apm_s, "apm_object": apm_o, "actpoint_offsets": torch.zeros(1, 18, h, w),
           "actpoint_weights": torch.ones(1, 9, h, w)}
    # resized 64x96 from an original 128x192 (scale 2) padded to 64x96: original = feature * 4 * 2
    res = model.inference(out, [{"height": 128, "width": 192}], [(64, 96)])[0]["hoi_instances"]
    torch.testing.assert_close(res.subject_boxes.tensor, torch.tensor([[16.0, 8.0, 32.0, 24.0]]))
    torch.testing.assert_close(res.object_boxes.tensor, torch.tensor([[144.0, 72.0, 176.0, 88.0]]))
    torch.testing.assert_close(res.interaction_points, torch.tensor([[88.0, 48.0]]))
    assert res.actpoints[0, 0].tolist() == [80.0, 40.0] and res.verb_classes.tolist() == [1]
    expected = torch.sigmoid(torch.tensor(1.0)) * torch.sigmoid(torch.tensor(3.0)) * torch.sigmoid(torch.tensor(2.0))
    torch.testing.assert_close(res.scores, expected.view(1))


def test_missing_targets_raise_with_file_name():
    model = build_model(tiny_cfg("dla"))
    inputs = train_inputs(1)
    del inputs[0]["ggnet_targets"]["hna_map"]
    with pytest.raises(ValueError, match="img0.jpg"):
        model(inputs)


@pytest.mark.parametrize("square", [True, False])
def test_preprocess_pads_black_and_squares_test_images(square):
    cfg = tiny_cfg("dla")
    cfg.INPUT.GGNET.TEST_SIZE, cfg.INPUT.GGNET.TEST_PAD_SQUARE = 96, square
    model = build_model(cfg).eval()
    image = torch.full((3, 48, 96), 200, dtype=torch.uint8)  # a resized landscape test image, longer side = TEST_SIZE
    images = model.preprocess_image([{"image": image}])
    black = (-model.pixel_mean / model.pixel_std).view(3)
    assert images.image_sizes == [(48, 96)]
    assert tuple(images.tensor.shape) == ((1, 3, 96, 96) if square else (1, 3, 64, 96))
    torch.testing.assert_close(images.tensor[0, :, 60, 5], black)  # padding = normalised black, not the mean colour
    torch.testing.assert_close(images.tensor[0, :, 10, 5], ((200 - model.pixel_mean) / model.pixel_std).view(3))
    model.train()  # training crops keep their size: the square applies to inference only
    assert tuple(model.preprocess_image([{"image": image}]).tensor.shape) == (1, 3, 64, 96)
