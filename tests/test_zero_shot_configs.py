"""configs/zero_shot/ (issue 23 item 6): each config merges and builds its model, with a tiny random CLIP and a
random text-embeddings file standing in for ViT-B/32 and the real file (nothing is downloaded)."""
from pathlib import Path

import numpy as np
import pytest
from detectron2.modeling import build_model

from ggnet_d2.data.datasets.hico_det import hico_official_hoi_classes
from ggnet_d2.data.zero_shot import ZERO_SHOT_SPLITS
from ggnet_d2.engine import setup_cfg
from ggnet_d2.modeling.language import TextEmbeddings, save_text_embeddings
from conftest import SHRINK_BACKBONE_OPTS as SHRINK

REPO = Path(__file__).resolve().parents[1]
# the HICO-DET configs; the synthetic compositional check's (GGNet_R18_synth_compositional_UC.yaml, no text
# embeddings) is built by tests/test_synthetic_compositional.py
CONFIGS = sorted(str(p.relative_to(REPO)) for p in (REPO / "configs" / "zero_shot").glob("*.yaml")
                 if "_synth_" not in p.name)
ALL_CONFIGS = sorted(p.name for p in (REPO / "configs" / "zero_shot").glob("*.yaml"))
TINY_CLIP = str(REPO / "tests" / "data" / "tiny_clip.json")


def test_every_split_backbone_and_distillation_has_a_config():
    names = {Path(c).stem for c in CONFIGS}
    assert names == {f"GGNet_{b}_HICO_{s}{d}" for b in ("DLA34", "Hourglass104") for s in ("RF-UC", "NF-UC", "UO", "UV")
                     for d in ("", "_distill")}
    assert set(ALL_CONFIGS) - {c.split("/")[-1] for c in CONFIGS} == {"GGNet_R18_synth_compositional_UC.yaml"}


@pytest.fixture(scope="module")
def hico_text_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    hois = hico_official_hoi_classes()
    path = str(tmp_path_factory.mktemp("text") / "hico_tiny.npz")
    save_text_embeddings(path, TextEmbeddings(
        verb_embeddings=rng.normal(size=(117, 16)), verb_classes=[f"v{i}" for i in range(117)],
        verb_prompts=[["p"]] * 117, model="ggnet-tiny-clip-zs", pretrained="", prompt_kind="verb",
        hoi_embeddings=rng.normal(size=(600, 16)), hoi_classes=hois, hoi_prompts=["p"] * 600))
    return path


@pytest.mark.parametrize("config", CONFIGS)
def test_zero_shot_config_builds(config, hico_text_file):
    pytest.importorskip("open_clip")
    base = setup_cfg(str(REPO / config), ["MODEL.GGNET.TEXT.EMBEDDINGS_FILE", hico_text_file])
    cfg = setup_cfg(str(REPO / config), list(SHRINK[base.MODEL.BACKBONE.NAME]) + [
        "MODEL.DEVICE", "cpu", "MODEL.GGNET.HEAD_CONV", "16", "MODEL.WEIGHTS", "",
        "MODEL.GGNET.TEXT.EMBEDDINGS_FILE", hico_text_file, "MODEL.GGNET.TEXT.CLIP_MODEL", "ggnet-tiny-clip-zs",
        "MODEL.GGNET.TEXT.CLIP_PRETRAINED", "", "MODEL.GGNET.DISTILL.CLIP_CONFIG_FILE", TINY_CLIP,
        "MODEL.GGNET.DISTILL.IMAGE_SIZE", "32"])
    assert cfg.DATASETS.HOI.ZERO_SHOT_SPLIT in ZERO_SHOT_SPLITS and cfg.DATASETS.TRAIN == ("hico_det_train",)
    assert base.MODEL.GGNET.TEXT.CLIP_MODEL == "ViT-B-32" and base.MODEL.GGNET.TEXT.CLIP_PRETRAINED == "openai"
    model = build_model(cfg)
    assert (model.distillation is not None) == config.endswith("_distill.yaml")
    assert model.heads[0].interaction.glance_cls.num_verbs == 117
    assert model.valid_verb_object.sum() == 600  # the full HICO-DET class list, never the training annotations
