"""CLIP distillation (issue 23 item 5): the loss, the teacher's crops and targets, gradients, a train_net.py run."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from detectron2.data import transforms as T
from detectron2.modeling import build_model

from ggnet_d2.data.distill_pairs import build_distill_pairs
from ggnet_d2.data.targets import build_ggnet_targets
from ggnet_d2.data.distill_pairs import crop_union_square
from ggnet_d2.modeling.distillation import ClipDistillation, ClipTeacher, soft_verb_distillation_loss
from test_modeling_helpers import C, V, tiny_cfg, train_inputs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_CLIP = os.path.join(REPO, "tests", "data", "tiny_clip.json")


def test_loss_zero_when_student_equals_teacher():
    t = torch.tensor([[0.2, 0.7, 0.0], [0.5, 0.9, 1.0]])
    soft = torch.tensor([[True, True, False], [True, False, True]])
    student = torch.logit(t.clamp(1e-6, 1 - 1e-6)).requires_grad_()
    loss = soft_verb_distillation_loss(student, t, soft)
    assert abs(loss.item()) < 1e-5
    # one entry by hand: teacher 0.5, student sigmoid 0.25: 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75)
    s = torch.tensor([[math.log(0.25 / 0.75)]])
    expected = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert float(soft_verb_distillation_loss(s, torch.tensor([[0.5]]), torch.tensor([[True]]))) == pytest.approx(
        expected, rel=1e-5)
    # entries outside the mask do not count; no entry: 0 with a graph
    far = torch.full((2, 3), 5.0, requires_grad=True)
    z = soft_verb_distillation_loss(far, t, torch.zeros(2, 3, dtype=torch.bool))
    assert z.item() == 0.0 and z.requires_grad


def test_crop_pads_to_a_centred_black_square():
    img = np.full((10, 10, 3), 200, np.uint8)
    out = crop_union_square(img, (2.3, 4.0, 5.9, 6.0), 4)  # x 2..6 (4 wide), y 4..6 (2 high)
    # a 4x4 square: the 2-row crop in rows 1-2, black rows 0 and 3
    assert out.shape == (4, 4, 3)
    assert (out[1:3] == 200).all() and (out[0] == 0).all() and (out[3] == 0).all()
    assert crop_union_square(img, (-5, -5, 100, 3), 8).shape == (8, 8, 3)  # cut to the image


class _Clip(torch.nn.Module):
    """A stand-in CLIP whose image feature is the mean colour: the teacher's arithmetic is checked by hand."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.eye(3))
        self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(10.0)))

    def encode_image(self, x):
        return x.mean(dim=(2, 3)) @ self.w


def test_teacher_targets_by_hand_and_cache():
    # HOI classes: (verb 0, obj 1), (verb 1, obj 1), (verb 2, obj 2); text embeddings = unit axes
    teacher = ClipTeacher(_Clip(), (0, 0, 0), (1, 1, 1), np.eye(3), [[0, 1], [1, 1], [2, 2]], num_verbs=4,
                          image_size=4)
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :, 0] = 255  # pure red: feature (1, 0, 0) after normalisation
    boxes = torch.tensor([[0., 0., 8., 8.], [0., 0., 8., 8.]])
    crops = torch.from_numpy(np.stack([crop_union_square(img, b, 4) for b in boxes.tolist()]))
    encoded = []
    encode = teacher.encode_crops
    teacher.encode_crops = lambda c: encoded.append(len(c)) or encode(c)

    probs, defined = teacher("a.jpg", boxes, torch.tensor([1, 2]), crops)
    e = math.exp(10.0)
    # object 1: softmax over HOIs 0, 1 of logits (10, 0) -> verbs 0, 1; object 2: one HOI -> verb 2 prob 1
    torch.testing.assert_close(probs, torch.tensor([[e / (e + 1), 1 / (e + 1), 0, 0], [0, 0, 1.0, 0]]))
    assert defined.tolist() == [[True, True, False, False], [False, False, True, False]]
    again, _ = teacher("a.jpg", boxes, torch.tensor([1, 2]), crops)
    assert encoded == [2] and torch.equal(again, probs)  # second call from the cache
    none, none_defined = teacher("b.jpg", torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64),
                                 torch.zeros(0, 4, 4, 3, dtype=torch.uint8))
    assert none.shape == none_defined.shape == (0, 4) and encoded == [2]  # an image without pairs: nothing encoded
    assert all(not p.requires_grad for p in teacher.model.parameters())


def test_distill_pairs_points_match_the_targets():
    d = {"annotations": [{"bbox": [0, 0, 20, 40], "category_id": 0}, {"bbox": [30, 10, 50, 30], "category_id": 2},
                         {"bbox": [4, 50, 60, 60], "category_id": 1}],
         "hoi_annotations": [{"subject_id": 0, "object_id": 1, "verb_id": 1}, {"subject_id": 0, "object_id": 1,
                                                                              "verb_id": 2},
                             {"subject_id": 0, "object_id": 2, "verb_id": 0}]}
    tfm = T.TransformList([T.ScaleTransform(64, 64, 128, 128), T.HFlipTransform(128)])
    original = np.zeros((64, 64, 3), np.uint8)
    original[:, :32] = 200  # left half bright: the first pair's union box (x 0..50) is part bright, part dark
    p = build_distill_pairs(d, tfm, (128, 128), 4, V, 64, original, 16)
    boxes = tfm.apply_box(np.array([a["bbox"] for a in d["annotations"]], np.float32)) / 4
    t = build_ggnet_targets(boxes, [0, 2, 1], [(0, 1, 1), (0, 1, 2), (0, 2, 0)], C, V, (32, 32))
    assert p["index"].tolist() == [t["interaction_index"][0], t["interaction_index"][2]]
    assert p["object_class"].tolist() == [2, 1]
    assert p["union_box"].tolist() == [[0, 0, 50, 40], [0, 0, 60, 60]]  # original pixels, unaugmented
    assert p["labelled"].tolist() == [[False, True, True], [True, False, False]]
    # teacher crops from the unaugmented image, as crop_union_square cuts them
    assert p["crops"].shape == (2, 16, 16, 3) and p["crops"].dtype == torch.uint8
    assert np.array_equal(p["crops"][0].numpy(), crop_union_square(original, [0, 0, 50, 40], 16))


@pytest.fixture(scope="module")
def tiny_text_file(tmp_path_factory):
    pytest.importorskip("open_clip")
    from ggnet_d2.modeling.language import save_text_embeddings
    from ggnet_d2.modeling.language.clip_models import build_clip, build_text_embeddings, register_clip_config

    with open(TINY_CLIP) as f:
        register_clip_config("ggnet-tiny-clip-distill", json.load(f), str(tmp_path_factory.mktemp("cfg")))
    model, tok, _ = build_clip("ggnet-tiny-clip-distill", "")
    path = str(tmp_path_factory.mktemp("text") / "tiny.npz")
    verbs, objects = ["hold", "kick", "ride"], ["person", "ball", "bike", "box"]
    save_text_embeddings(path, build_text_embeddings(model, tok, verb_classes=verbs, object_classes=objects,
                                                     hoi_classes=[(0, 1), (1, 1), (2, 2), (0, 3)], prompt_kind="hoi",
                                                     model_name="ggnet-tiny-clip-distill", pretrained=""))
    return path


def test_gradient_reaches_heads_not_teacher(tiny_text_file):
    torch.manual_seed(0)
    cfg = tiny_cfg("dla")
    g = cfg.MODEL.GGNET
    g.TEXT.EMBEDDINGS_FILE, g.TEXT.CLIP_MODEL, g.TEXT.CLIP_PRETRAINED = tiny_text_file, "ggnet-tiny-clip-distill", ""
    g.DISTILL.ENABLED, g.DISTILL.IMAGE_SIZE, g.DISTILL.CLIP_CONFIG_FILE = True, 32, TINY_CLIP
    model = build_model(cfg)
    assert isinstance(model.distillation, ClipDistillation)
    assert not any("clip" in k or "teacher" in k for k in model.state_dict())  # teacher not in checkpoints
    inputs = train_inputs(2)
    for i, x in enumerate(inputs):
        x["ggnet_distill"] = {"union_box": torch.tensor([[0., 0., 40., 40.], [10., 5., 60., 50.]]),
                              "object_class": torch.tensor([1, 3]), "index": torch.tensor([17 + i, 100]),
                              "labelled": torch.tensor([[True, False, False], [False, False, False]]),
                              "crops": torch.full((2, 32, 32, 3), 90, dtype=torch.uint8)}
    losses = model(inputs)
    assert losses["loss_distill"] > 0
    teacher = model.distillation.teacher.model
    losses["loss_distill"].backward()
    cls = model.heads[0].interaction.gaze_cls[-1][-1]
    assert cls.weight.grad is not None and cls.weight.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())


@pytest.mark.slow
def test_train_net_with_distillation_tiny_clip(tiny_text_file, tmp_path):
    """20 iterations of train_net.py on CPU: text verb classifier, zero-shot split, CLIP distillation."""
    from ggnet_d2.modeling.language import TextEmbeddings, load_text_embeddings, save_text_embeddings

    # the synthetic set's 7 verbs and 4 objects, embedded by the same tiny CLIP name
    src = load_text_embeddings(tiny_text_file)
    rng = np.random.default_rng(0)
    hoi = [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3)]
    emb = TextEmbeddings(verb_embeddings=rng.normal(size=(7, src.dim)), verb_classes=[f"v{i}" for i in range(7)],
                         verb_prompts=[["p"]] * 7, model=src.model, pretrained="", prompt_kind="hoi",
                         hoi_embeddings=rng.normal(size=(7, src.dim)), hoi_classes=hoi, hoi_prompts=["p"] * 7)
    text = str(tmp_path / "synth.npz")
    save_text_embeddings(text, emb)
    out = tmp_path / "out"
    opts = ["DATASETS.TRAIN", "('synth_hoi_test',)", "DATASETS.TEST", "()",
            "DATASETS.HOI.ZERO_SHOT_SPLIT", "custom", "DATASETS.HOI.ZERO_SHOT_UNSEEN", "[2]",
            "MODEL.GGNET.VERB_CLASSIFIER", "text", "MODEL.GGNET.TEXT.EMBEDDINGS_FILE", text,
            "MODEL.GGNET.TEXT.CLIP_MODEL", src.model, "MODEL.GGNET.TEXT.CLIP_PRETRAINED", "",
            "MODEL.GGNET.DISTILL.ENABLED", "True", "MODEL.GGNET.DISTILL.IMAGE_SIZE", "32",
            "MODEL.GGNET.DISTILL.CLIP_CONFIG_FILE", TINY_CLIP,
            "MODEL.GGNET.HEAD_CONV", "8", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
            "INPUT.GGNET.INPUT_SIZE", "64", "SOLVER.IMS_PER_BATCH", "2", "SOLVER.MAX_ITER", "20", "SOLVER.STEPS", "()",
            "SOLVER.CHECKPOINT_PERIOD", "1000", "DATALOADER.NUM_WORKERS", "0", "OUTPUT_DIR", str(out)]
    env = dict(os.environ, PYTHONPATH=REPO)
    run = subprocess.run([sys.executable, "train_net.py", "--config-file", "configs/quickstart/GGNet_R18_synth.yaml",
                          *opts], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = (out / "log.txt").read_text()
    assert "CLIP distillation: teacher" in log and "zero-shot training set" in log
    metrics = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    distill = [m["loss_distill"] for m in metrics if "loss_distill" in m]
    assert distill and all(np.isfinite(distill)) and [m["iteration"] for m in metrics if "total_loss" in m][-1] == 19
    assert (out / "model_final.pth").is_file()


def test_student_read_at_the_interaction_point_of_the_chosen_steps():
    """Planted logits and a stand-in teacher: the loss reads logits[:, :, index] of the final step, or every step."""
    t = torch.tensor([[0.3, 0.6, 0.0]])
    soft = torch.tensor([[True, True, False]])

    def teacher(file_name, boxes, objects, crops):
        return t, torch.tensor([[True, True, True]])

    glance, final = torch.zeros(1, 3, 2, 4), torch.zeros(1, 3, 2, 4)
    final[0, :, 1, 2] = torch.tensor([0.5, -1.0, 3.0])  # index 1 * 4 + 2 = 6
    glance[0, :, 1, 2] = torch.tensor([2.0, 2.0, 2.0])
    inputs = [{"file_name": "a.jpg", "ggnet_distill": {"union_box": torch.zeros(1, 4), "object_class": torch.zeros(1),
                                                       "index": torch.tensor([6]),
                                                       "labelled": torch.tensor([[False, False, True]]),
                                                       "crops": torch.zeros(1, 4, 4, 3, dtype=torch.uint8)}}]
    outs = [{"interaction_logits": [glance, final]}]
    expect_final = soft_verb_distillation_loss(torch.tensor([[0.5, -1.0, 3.0]]), t, soft)
    expect_glance = soft_verb_distillation_loss(torch.tensor([[2.0, 2.0, 2.0]]), t, soft)
    got = ClipDistillation(teacher, weight=2.0)(outs, inputs)["loss_distill"]
    built = []
    lazy = ClipDistillation(teacher_factory=lambda: built.append(1) or teacher, weight=2.0)
    assert not built  # nothing loaded until the first training step
    torch.testing.assert_close(lazy(outs, inputs)["loss_distill"], got)
    lazy(outs, inputs)
    assert built == [1]
    torch.testing.assert_close(got, 2.0 * expect_final)
    got_all = ClipDistillation(teacher, weight=2.0, steps="all")(outs, inputs)["loss_distill"]
    torch.testing.assert_close(got_all, 2.0 * (expect_final + expect_glance) / 2)
    with pytest.raises(ValueError, match="STEPS"):
        ClipDistillation(teacher, steps="some")
