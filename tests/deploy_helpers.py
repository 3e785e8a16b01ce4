"""Shared by tests/test_deploy.py and tests/test_demo_backends.py: the tiny GGNet config of the export tests and
weights that give varied outputs, and the HOI-W photos."""
from pathlib import Path

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.data.detection_utils import read_image
from detectron2.modeling import build_model

from ggnet_d2 import add_ggnet_config
from ggnet_d2.deploy import runtime
from ggnet_d2.engine.dataset_facts import add_dataset_facts
from shared_data import SHARED

__all__ = ["PHOTOS", "PRESETS", "PLACEMENTS", "SHARED", "tiny_cfg", "varied_weights", "tie_canonical",
           "entry_triplets", "assert_close"]

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "GGNet_R18_HOIW_demo.yaml"
PHOTOS = sorted((SHARED / "hoiw_demo" / "images").glob("*.png")) if (SHARED / "hoiw_demo").is_dir() else []
PRESETS = {"eq8": ["MODEL.GGNET.TEST.MATCH_RULE", "eq8", "MODEL.GGNET.TEST.DEDUP_TRIPLETS", "False",
                   "MODEL.GGNET.TEST.BOX_CLIP", "clip"],
           "authors": ["MODEL.GGNET.TEST.MATCH_RULE", "score_over_offset_area", "MODEL.GGNET.TEST.DEDUP_TRIPLETS", "True",
                       "MODEL.GGNET.TEST.BOX_CLIP", "clamp_corner_min_side"]}
PLACEMENTS = ("top_left", "center")


def tiny_cfg(preset, placement="top_left"):
    """The HOI-W ResNet-18 config shrunk (deconv width 32, head width 16, 128 px test input, top-100 triplets), with
    the dataset facts ``setup_cfg`` adds (the HOI-W verb-object correspondence)."""
    cfg = add_ggnet_config(get_cfg())
    cfg.merge_from_file(str(CONFIG))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[32, 32, 32]",
                         "MODEL.GGNET.HEAD_CONV", "16", "INPUT.GGNET.TEST_SIZE", "128",
                         "INPUT.GGNET.TEST_PLACEMENT", placement, "MODEL.GGNET.TEST.TOPK_INTERACTIONS", "100",
                         "MODEL.GGNET.TEST.TOPK_HUMANS", "12", "MODEL.GGNET.TEST.TOPK_OBJECTS", "12"]
                        + PRESETS[preset])
    return add_dataset_facts(cfg)  # as setup_cfg: the HOI-W verb-object correspondence is in the model's config


def varied_weights():
    """A state dict of the tiny model with weights that give varied outputs: every parameter perturbed, then the
    object and final interaction classifiers rescaled (logit spread about 2) and their biases centred on two photos
    (a fresh or merely perturbed model has one class and one verb channel above all others everywhere, so every
    triplet would be invalid; saturated sigmoids would tie)."""
    torch.manual_seed(0)
    model = build_model(tiny_cfg("eq8")).eval()
    g = torch.Generator().manual_seed(1)
    spec = {"input_format": "BGR", "test_placement": "top_left", "test_size": 128, "input_side": 128,
            "pixel_mean": model.pixel_mean.flatten().tolist(), "pixel_std": model.pixel_std.flatten().tolist()}
    batch = torch.from_numpy(np.stack([runtime.preprocess(read_image(str(p), format="BGR"), spec)[0]
                                       for p in PHOTOS[:2]]))
    heads = model.heads[0]
    with torch.no_grad():
        for p in model.parameters():
            fan_in = max(1, p[0].numel()) if p.dim() > 1 else 1
            p.add_(torch.randn(p.shape, generator=g) * (0.5 / fan_in ** 0.5 if p.dim() > 1 else 0.1))
        heads.object.hm[2].weight.mul_(0.3)
        heads.interaction.gaze_cls[1][2].weight.mul_(0.3)
        out = heads(model.backbone(batch)[model.backbone._out_features[-1]])
        heads.object.hm[2].bias.sub_(out["obj_heatmap"].mean((0, 2, 3)) + 2.0)
        heads.interaction.gaze_cls[1][2].bias.sub_(out["interaction_logits"][-1].mean((0, 2, 3)) + 2.0)
    return model.state_dict()


def tie_canonical(scores, keys):
    """Order of entries sorted by decreasing score, entries of exactly equal score by ``keys`` (N, k).

    Exactly tied scores are real (e.g. peaks of the black padding region share one value) and their order is not
    defined by PyTorch either (``torch.topk`` does not promise one), so tied runs are compared as sets.
    """
    return np.lexsort(tuple(np.round(keys[:, j], 2) for j in reversed(range(keys.shape[1]))) + (-scores,))


def entry_triplets(entry):
    """A prediction entry's triplets (subject box, object box, object id, verb id, score), canonically ordered."""
    boxes = np.array([p["bbox"] for p in entry["predictions"]], np.float64).reshape(-1, 4)
    cats = np.array([p["category_id"] for p in entry["predictions"]], np.int64)
    h = entry["hoi_prediction"]
    sub, obj = np.array([t["subject_id"] for t in h]), np.array([t["object_id"] for t in h])
    t = {"scores": np.array([t["score"] for t in h]), "verb_classes": np.array([t["category_id"] for t in h]),
         "object_classes": cats[obj], "subject_classes": cats[sub], "subject_boxes": boxes[sub],
         "object_boxes": boxes[obj]}
    keys = np.concatenate([t["verb_classes"][:, None], t["subject_boxes"], t["object_boxes"]], axis=1)
    order = tie_canonical(t["scores"], keys.astype(np.float64))
    return {n: v[order] for n, v in t.items()}


def assert_close(name, r, o, where):
    assert r.shape == o.shape, f"{where} {name}: shape {o.shape} != PyTorch {r.shape}"
    if r.dtype.kind == "f":
        tol = 1e-5 if "score" in name or "weights" in name else 1e-3  # scores / weights; boxes, points in px
        diff = np.abs(r - o).max() if r.size else 0.0
        assert diff <= tol, f"{where} {name}: max |diff| {diff}"
    else:
        assert np.array_equal(r, o), f"{where} {name}: differs at {np.argwhere(r != o)[:5].tolist()}"
