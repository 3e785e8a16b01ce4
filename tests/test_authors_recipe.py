"""Issue 11: the GGNet authors' training recipe as config keys -- sharper gaze targets (hand-computed values, hard
negatives next to positives), APM summed over stacks, glance LR x10 as a param group, their random crop and PCA
lighting, and the configs/released/train_*_authors.yaml configs."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from detectron2.data import transforms as T
from detectron2.solver import build_lr_scheduler

from ggnet_d2.data import HOIDatasetMapper
from ggnet_d2.data.targets import build_ggnet_targets
from ggnet_d2.data.transforms import AuthorsRandomCrop, PCALighting, authors_crop_border, build_hoi_train_augmentation
from ggnet_d2.engine import GGNetTrainer, setup_cfg

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = str(REPO / "configs" / "quickstart" / "GGNet_R18_synth.yaml")
TINY = ["INPUT.GGNET.INPUT_SIZE", "64", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
        "MODEL.GGNET.HEAD_CONV", "16", "DATASETS.TEST", "()", "MODEL.DEVICE", "cpu"]


# ---------------------------------------------------------------------------------------------------------------
# Sharper gaze targets (authors' hm_rel_hard)

def _two_hoi_targets():
    # Feature-map pixels, 16 x 16, 3 verbs, all valid with object class 1. Boxes of side 2 centred at
    # A (4, 4), B (8, 8), C (8, 4), D (8, 12). HOI (A, B, verb 0): point (6, 6), |dx| = |dy| = 4, CenterNet radius
    # min(7.63, 14.69, 1.81) -> 1. HOI (C, D, verb 1): point (8, 8), dx = 0, dy = 8, radius min(8, 16, 0) -> 0.
    # Hard negatives: pair (A, B) -> verbs 1, 2 at (6, 6); pair (C, D) -> verbs 0, 2 at (8, 8): each sits next to
    # the other pair's positive.
    boxes = np.array([[3, 3, 5, 5], [7, 7, 9, 9], [7, 3, 9, 5], [7, 11, 9, 13]], np.float32)
    classes = np.array([0, 1, 0, 1])
    valid = np.zeros((3, 2), bool)
    valid[:, 1] = True
    return build_ggnet_targets(boxes, classes, [(0, 1, 0), (2, 3, 1)], 2, 3, (16, 16), valid,
                               gaze_sigma_factors=(8.0, 2.0))


def test_sharp_gaze_map_equals_hand_computation():
    m = _two_hoi_targets()["gaze_hna_map"]  # [verb, y, x]
    pos_var = 2 * (3 / 8) ** 2  # 2 sigma^2, sigma = (2 * 1 + 1) / 8 for the radius-1 positive
    neg_var = 2 * 3.5 ** 2  # sigma = (2 * 3 + 1) / 2 for the hard negatives
    expected = {
        (0, 6, 6): 1.0,
        (0, 6, 7): math.exp(-1 / pos_var),  # 0.02857
        (0, 7, 7): math.exp(-2 / pos_var),  # 8.2e-4: inside verb 0's positive square, a negative covers it too
        (0, 5, 5): math.exp(-2 / pos_var),  # likewise: positives win
        (0, 7, 8): -math.exp(-1 / neg_var),  # just outside the positive square: the (8, 8) hard negative, -0.9600
        (0, 8, 8): -1.0,
        (1, 8, 8): 1.0,  # radius-0 positive inside the (6, 6) hard negative of verb 1
        (1, 8, 7): -math.exp(-5 / neg_var),  # its neighbour belongs to the negative: dx 1, dy 2 from (6, 6)
        (1, 6, 6): -1.0,
        (1, 9, 9): -math.exp(-18 / neg_var),  # corner of the (6, 6) negative's 7 x 7 square, -0.4797
        (1, 10, 10): 0.0,
        (2, 7, 7): -math.exp(-2 / neg_var),  # both negatives at distance (1, 1): max-pasted, not added
        (2, 3, 3): -math.exp(-18 / neg_var),
        (2, 2, 2): 0.0,
    }
    for (v, y, x), value in expected.items():
        assert m[v, y, x] == pytest.approx(value, rel=1e-5, abs=1e-7), (v, y, x)
    assert m.dtype == np.float32 and m.shape == (3, 16, 16)
    assert (m == 1).sum() == 2 and (m == -1).sum() == 4


def test_glance_map_unchanged_by_the_sharp_map():
    t = _two_hoi_targets()
    h = t["hna_map"]  # CenterNet's sigma (2r+1)/6 for positives and negatives (HNA_RADIUS 3)
    assert h[0, 6, 7] == pytest.approx(math.exp(-1 / (2 * 0.5 ** 2)), rel=1e-5)
    assert h[1, 8, 7] == pytest.approx(-math.exp(-5 / (2 * (7 / 6) ** 2)), rel=1e-5)
    plain = build_ggnet_targets(np.array([[3, 3, 5, 5], [7, 7, 9, 9], [7, 3, 9, 5], [7, 11, 9, 13]], np.float32),
                                np.array([0, 1, 0, 1]), [(0, 1, 0), (2, 3, 1)], 2, 3, (16, 16),
                                np.ones((3, 2), bool))
    assert "gaze_hna_map" not in plain


def _synth_cfg(*extra):
    return setup_cfg(QUICKSTART, TINY + list(extra))


def test_mapper_builds_the_sharp_map_only_when_the_gaze_steps_use_it():
    d = DatasetCatalog.get("synth_hoi_train")[0]
    assert "gaze_hna_map" not in HOIDatasetMapper(_synth_cfg(), is_train=True)(d)["ggnet_targets"]
    t = HOIDatasetMapper(_synth_cfg("MODEL.GGNET.LOSS.GAZE_TARGET", "sharp"), is_train=True)(d)["ggnet_targets"]
    assert t["gaze_hna_map"].shape == t["hna_map"].shape
    # same positives (peaks), sharper: never above the glance map where that one is positive
    assert torch.equal(t["gaze_hna_map"].eq(1), t["hna_map"].eq(1)) and t["hna_map"].eq(1).any()
    pos = t["hna_map"] > 0
    assert (t["gaze_hna_map"][pos] <= t["hna_map"][pos] + 1e-7).all()
    no_gaze = _synth_cfg("MODEL.GGNET.LOSS.GAZE_TARGET", "sharp", "MODEL.GGNET.NUM_GAZE_STEPS", "0")
    assert "gaze_hna_map" not in HOIDatasetMapper(no_gaze, is_train=True)(d)["ggnet_targets"]


def _model_and_batch(cfg, n=2):
    torch.manual_seed(0)
    model = GGNetTrainer.build_model(cfg)
    model.train()
    mapper = HOIDatasetMapper(cfg, is_train=True)
    np.random.seed(0)
    return model, [mapper(d) for d in DatasetCatalog.get("synth_hoi_train")[:n]]


def test_gaze_steps_train_on_the_sharp_map_and_glance_on_the_glance_map():
    cfg = _synth_cfg("MODEL.GGNET.LOSS.GAZE_TARGET", "sharp")
    model, batch = _model_and_batch(cfg)
    with torch.no_grad():
        sharp = model(batch)
        model.loss.gaze_target = "glance"
        glance = model(batch)
        for x in batch:  # the sharp map replaced by the glance map: identical to gaze_target "glance"
            x["ggnet_targets"]["gaze_hna_map"] = x["ggnet_targets"]["hna_map"]
        model.loss.gaze_target = "sharp"
        same = model(batch)
    assert sharp["loss_glance"] == glance["loss_glance"]
    assert sharp["loss_gaze1"] != glance["loss_gaze1"] and sharp["loss_gaze2"] != glance["loss_gaze2"]
    for k in glance:
        torch.testing.assert_close(same[k], glance[k])


# ---------------------------------------------------------------------------------------------------------------
# APM over the Hourglass stacks

def test_apm_loss_summed_over_stacks_is_twice_the_mean():
    cfg = setup_cfg(str(REPO / "configs" / "GGNet_Hourglass104_HICO.yaml"), [
        "MODEL.HOURGLASS.DIMS", "[16, 16, 24, 24, 24, 32]", "MODEL.HOURGLASS.MODULES", "[1, 1, 1, 1, 1, 1]",
        "MODEL.HOURGLASS.STEM_CHANNELS", "16", "DATASETS.TRAIN", "('synth_hoi_train',)", "DATASETS.TEST", "()",
        "MODEL.GGNET.NUM_CLASSES", "4", "MODEL.GGNET.NUM_VERBS", "7", "MODEL.GGNET.HEAD_CONV", "16",
        "MODEL.WEIGHTS", "", "INPUT.GGNET.INPUT_SIZE", "128", "MODEL.DEVICE", "cpu",
        "MODEL.GGNET.LOSS.APM_STACK_REDUCTION", "sum"])
    model, batch = _model_and_batch(cfg)
    assert len(model.heads) == 2
    with torch.no_grad():
        summed = model(batch)
        model.loss.apm_stack_reduction = "mean"
        mean = model(batch)
    for k in mean:
        factor = 2.0 if k in ("loss_apm_subject", "loss_apm_object") else 1.0
        torch.testing.assert_close(summed[k], factor * mean[k])
    assert mean["loss_apm_subject"] > 0


# ---------------------------------------------------------------------------------------------------------------
# Glance LR x10 (authors' --recover_loss_weight)

def test_glance_parameters_get_ten_times_the_lr_through_the_schedule():
    cfg = _synth_cfg("SOLVER.GLANCE_LR_FACTOR", "10.0", "SOLVER.BASE_LR", "0.001", "SOLVER.MAX_ITER", "10",
                     "SOLVER.STEPS", "(4, 8)")
    model = GGNetTrainer.build_model(cfg)
    optimizer = GGNetTrainer.build_optimizer(cfg, model)
    lr_of = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    names = {id(p): n for n, p in model.named_parameters()}
    assert set(lr_of) == set(names)  # every parameter exactly once
    glance = {i for i, n in names.items() if ".interaction.glance_conv." in n or ".interaction.glance_cls." in n}
    assert len(glance) == 4  # glance_conv and glance_cls, weight and bias (the authors' hm_rel.0.conv / hm_rel.1)
    for i, lr in lr_of.items():
        assert lr == pytest.approx(0.01 if i in glance else 0.001), names[i]
    scheduler = build_lr_scheduler(cfg, optimizer)
    for _ in range(9):  # past both drops: each group x 0.01, the ratio stays 10 (the authors' per-group drop)
        optimizer.step()
        scheduler.step()
    lrs = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    for i, lr in lrs.items():
        assert lr == pytest.approx(1e-4 if i in glance else 1e-5), names[i]


# ---------------------------------------------------------------------------------------------------------------
# Augmentation

@pytest.mark.parametrize("size, border", [(640, 128), (257, 128), (256, 64), (200, 64), (100, 32), (1, 0)])
def test_authors_crop_border_rule(size, border):
    # hico.py _get_border(128, size): halve 128 until size - b > b
    assert authors_crop_border(128, size) == border


def test_authors_random_crop_draws_the_authors_centres_and_scales():
    np.random.seed(3)
    image = np.zeros((480, 640, 3), np.uint8)  # borders 128 on both axes
    aug = AuthorsRandomCrop(512)
    centres, scales = [], set()
    for _ in range(400):
        x0, y0, x1, y1 = aug.get_transform(image).src_rect
        side = x1 - x0
        assert y1 - y0 == pytest.approx(side)
        scales.add(round(side / 640, 6))
        centres.append(((x0 + x1) / 2, (y0 + y1) / 2))
    assert scales == {0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3}
    cx, cy = np.array(centres).T
    assert np.allclose(cx, np.round(cx)) and np.allclose(cy, np.round(cy))  # integer pixel centres
    assert cx.min() >= 128 and cx.max() <= 511 and cy.min() >= 128 and cy.max() <= 351
    assert cx.min() < 140 and cx.max() > 500 and cy.min() < 140 and cy.max() > 340  # the whole range is drawn


def test_pca_lighting_adds_the_authors_first_component(monkeypatch):
    # alpha = (1, 0, 0): every pixel + 255 * 0.2141788 * (-0.58752847, -0.5832747, -0.56089297) (B, G, R)
    # = (-32.088, -31.856, -30.634); 100 + that, truncated to uint8: (67, 68, 69)
    monkeypatch.setattr(np.random, "normal", lambda scale, size: np.array([1.0, 0.0, 0.0]))
    image = np.full((4, 5, 3), 100, np.uint8)
    out = PCALighting(0.1).get_transform(image).apply_image(image)
    assert out.dtype == np.uint8 and (out == np.array([67, 68, 69], np.uint8)).all()
    rgb = PCALighting(0.1, "RGB").get_transform(image).apply_image(image)
    assert (rgb == np.array([69, 68, 67], np.uint8)).all()


def test_train_augmentation_keys():
    augs = build_hoi_train_augmentation(_synth_cfg("INPUT.GGNET.CROP", "random_crop_border",
                                                   "INPUT.GGNET.PCA_LIGHTING", "0.1"))
    assert isinstance(augs[0], AuthorsRandomCrop) and isinstance(augs[-1], PCALighting)
    assert not any(isinstance(a, (AuthorsRandomCrop, PCALighting)) for a in build_hoi_train_augmentation(_synth_cfg()))
    with pytest.raises(ValueError, match="INPUT.GGNET.CROP"):
        build_hoi_train_augmentation(_synth_cfg("INPUT.GGNET.CROP", "random"))
    # boxes move with the image through the authors' crop (one ExtentTransform)
    tf = T.AugmentationList(augs[:1])(T.AugInput(np.zeros((300, 400, 3), np.uint8)))
    x0, y0, x1, y1 = tf[0].src_rect
    box = tf.apply_box(np.array([[x0, y0, x1, y1]]))[0]
    assert np.allclose(box, [0, 0, 64, 64], atol=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# configs/released/train_*_authors.yaml

@pytest.mark.parametrize("name, gaze_steps, lr, schedule, eight_gpu", [
    # 38,118 // 23 = 1,657 iterations per epoch: 140, 90, 120 epochs; on 8 GPUs x 23/24 (batch 24)
    ("train_GGNet_Hourglass104_HICO_authors.yaml", 1, 1.5e-4, (231980, (149130, 198840)),
     (24, 222314, (142916, 190555))),
    # 5,400 // 7 = 771 iterations per epoch; on 2 or 8 GPUs x 7/8 (batch 8)
    ("train_GGNet_Hourglass104_VCOCO_authors.yaml", 2, 5e-5, (107940, (69390, 92520)),
     (8, 94448, (60716, 80955))),
])
def test_released_training_configs(name, gaze_steps, lr, schedule, eight_gpu):
    from ggnet_d2.engine.batch_scaling import fit_batch_to_world_size

    path = REPO / "configs" / "released" / name
    cfg = setup_cfg(str(path), ["DATASETS.TEST", "()", "MODEL.DEVICE", "cpu"])
    g, s = cfg.MODEL.GGNET, cfg.SOLVER
    assert (g.NUM_GAZE_STEPS, g.NUM_ACTPOINTS, g.LOSS.GAZE_TARGET, g.LOSS.APM_STACK_REDUCTION) == (
        gaze_steps, 25, "sharp", "sum")
    assert (g.LOSS.GLANCE_WEIGHT, s.GLANCE_LR_FACTOR, s.BASE_LR, s.OPTIMIZER) == (0.1, 10.0, lr, "ADAM")
    assert (s.MAX_ITER, tuple(s.STEPS)) == schedule
    g = cfg.INPUT.GGNET
    assert (g.CROP, g.PCA_LIGHTING, cfg.CUDNN_BENCHMARK) == ("random_crop_border", 0.1, True)
    t = fit_batch_to_world_size(cfg, 8).SOLVER
    assert (t.IMS_PER_BATCH, t.MAX_ITER, tuple(t.STEPS)) == eight_gpu
    text = path.read_text()
    assert all(f"{n:,}" in text for n in (eight_gpu[1], *eight_gpu[2]))
