"""Shared helpers for the tests/test_modeling_*.py files: tiny configs and hand-built targets (no tests here)."""
import torch
from detectron2.config import get_cfg

import ggnet_d2  # noqa: F401  registers GGNet and the backbones
from ggnet_d2 import add_ggnet_config

C, V = 4, 3  # object classes (person = 0), verbs


def tiny_cfg(backbone="dla", **ggnet):
    """A config whose networks are a few thousand parameters, for fast CPU tests."""
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.DEVICE = "cpu"
    cfg.DATASETS.TRAIN = ()
    cfg.DATASETS.TEST = ()
    g = cfg.MODEL.GGNET
    g.NUM_CLASSES, g.NUM_VERBS, g.HEAD_CONV, g.NUM_ACTPOINTS = C, V, 8, 9
    for k, v in ggnet.items():
        setattr(g, k, v) if not isinstance(v, dict) else [setattr(getattr(g, k), a, b) for a, b in v.items()]
    cfg.MODEL.DLA.CHANNELS = [4, 8, 8, 16, 16, 32]
    cfg.MODEL.HOURGLASS.DIMS = [8, 8, 12, 12, 12, 16]
    cfg.MODEL.HOURGLASS.MODULES = [1, 1, 1, 1, 1, 1]
    cfg.MODEL.HOURGLASS.STEM_CHANNELS = 4
    cfg.MODEL.RESNET_DECONV.DECONV_CHANNELS = [16, 16, 8]
    cfg.MODEL.BACKBONE.NAME = {"dla": "build_dla34_backbone", "hourglass": "build_hourglass104_backbone",
                               "resnet": "build_resnet_deconv_backbone"}[backbone]
    cfg.INPUT.GGNET.SIZE_DIVISIBILITY = 128 if backbone == "hourglass" else 32
    return cfg


def fake_targets(size=64, k_o=4, k_h=3, seed=0):
    """Targets in the mapper's layout (docs/interfaces.md) for an image of size x size: two objects, one HOI."""
    g = torch.Generator().manual_seed(seed)
    ho = wo = size // 4
    obj = torch.zeros(C, ho, wo)
    obj[0, 3, 4] = 1.0  # person at (x=4, y=3)
    obj[2, 9, 10] = 1.0
    obj[2, 9, 9] = 0.6
    hna = torch.zeros(V, ho, wo)
    hna[1, 6, 7] = 1.0  # interaction point = midpoint of (4, 3) and (10, 9)
    hna[1, 6, 6] = 0.5
    hna[1, 2, 2] = -1.0  # hard negative
    hna[1, 2, 3] = -0.4
    t = {"obj_heatmap": obj, "interaction_heatmap": hna.clamp(min=0), "hna_map": hna,
         "obj_wh": torch.zeros(k_o, 2), "obj_offset": torch.zeros(k_o, 2), "obj_index": torch.zeros(k_o, dtype=torch.long),
         "obj_mask": torch.zeros(k_o), "interaction_index": torch.zeros(k_h, dtype=torch.long),
         "interaction_verb": torch.zeros(k_h, dtype=torch.long), "interaction_mask": torch.zeros(k_h),
         "apm_subject_offset": torch.zeros(k_h, 2 * V), "apm_object_offset": torch.zeros(k_h, 2 * V),
         "apm_mask": torch.zeros(k_h, 2 * V)}
    t["obj_wh"][:2] = torch.tensor([[3.0, 5.0], [4.0, 2.0]])
    t["obj_offset"][:2] = torch.rand(2, 2, generator=g)
    t["obj_index"][:2] = torch.tensor([3 * wo + 4, 9 * wo + 10])
    t["obj_mask"][:2] = 1
    t["interaction_index"][0] = 6 * wo + 7
    t["interaction_verb"][0] = 1
    t["interaction_mask"][0] = 1
    t["apm_subject_offset"][0, 2:4] = torch.tensor([3.0, 3.0])
    t["apm_object_offset"][0, 2:4] = torch.tensor([-3.0, -3.0])
    t["apm_mask"][0, 2:4] = 1
    return t


def train_inputs(n=2, size=64):
    return [{"image": torch.randint(0, 256, (3, size, size), dtype=torch.uint8), "file_name": f"img{i}.jpg",
             "ggnet_targets": fake_targets(size, seed=i)} for i in range(n)]
