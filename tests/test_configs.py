"""Issue 6: every config in configs/ builds, trains one iteration and evaluates, on a tiny input with the backbone
shrunk (the paper-size backbones are far too heavy for CI's 2 CPU cores) and the synthetic dataset in place of the
real ones (HICO-DET and V-COCO are not on CI machines)."""
import math
from pathlib import Path

import pytest

from ggnet_d2.engine import GGNetTrainer, setup_cfg

REPO = Path(__file__).resolve().parents[1]
# configs/external/detectors/ holds detectron2 detector configs (EXTERNAL_DETECTIONS.CONFIG_FILE), not GGNet configs;
# configs/zero_shot/ need a text-embeddings file and CLIP: tests/test_zero_shot_configs.py builds each of them
CONFIGS = sorted(str(p.relative_to(REPO)) for p in (REPO / "configs").rglob("*.yaml")
                 if "detectors" not in p.parts and "zero_shot" not in p.parts)

SHRINK = {
    "build_dla34_backbone": ["MODEL.DLA.CHANNELS", "[8, 8, 16, 16, 32, 32]"],
    "build_hourglass104_backbone": ["MODEL.HOURGLASS.DIMS", "[16, 16, 24, 24, 24, 32]",
                                    "MODEL.HOURGLASS.MODULES", "[1, 1, 1, 1, 1, 1]",
                                    "MODEL.HOURGLASS.STEM_CHANNELS", "16"],
    "build_resnet_deconv_backbone": ["MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]"],
}


def test_every_config_is_covered():
    names = {Path(c).name for c in CONFIGS}
    assert {"Base-GGNet.yaml", "GGNet_DLA34_HICO.yaml", "GGNet_Hourglass104_HICO.yaml",
            "GGNet_Hourglass104_VCOCO.yaml", "GGNet_R18_synth.yaml", "PPDM_baseline_DLA34_HICO.yaml"} <= names
    assert len(list((REPO / "configs" / "ablations").glob("*.yaml"))) >= 8


@pytest.mark.parametrize("config", CONFIGS)
def test_config_trains_one_iteration_and_evaluates(config, tmp_path, tiny_synth_test):
    cfg = setup_cfg(str(REPO / config), [])
    size = "128" if cfg.MODEL.BACKBONE.NAME == "build_hourglass104_backbone" else "64"
    cfg = setup_cfg(str(REPO / config), SHRINK[cfg.MODEL.BACKBONE.NAME] + [
        "DATASETS.TRAIN", "('synth_hoi_train',)", "DATASETS.TEST", f"('{tiny_synth_test}',)",
        "MODEL.GGNET.NUM_CLASSES", "4", "MODEL.GGNET.NUM_VERBS", "7", "MODEL.GGNET.HEAD_CONV", "16",
        "MODEL.WEIGHTS", "", "INPUT.GGNET.INPUT_SIZE", size, "INPUT.GGNET.TEST_SIZE", size,
        "SOLVER.IMS_PER_BATCH", "2", "SOLVER.MAX_ITER", "1", "SOLVER.STEPS", "()", "DATALOADER.NUM_WORKERS", "0",
        "OUTPUT_DIR", str(tmp_path),
    ] + _external_overrides(cfg, tmp_path))
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    losses = trainer.storage.latest()
    assert math.isfinite(losses["total_loss"][0])
    hoi = trainer._last_eval_results["hoi"]
    assert 0.0 <= hoi["mAP_default_full"] <= 100.0 and 0.0 <= hoi["mean_recall_default_full"] <= 100.0
    assert (tmp_path / "model_final.pth").is_file()
    assert (tmp_path / "inference" / tiny_synth_test / "predictions.json").is_file()


def _external_overrides(cfg, tmp_path):
    """Opts for external-detection configs: a shrunk detector with random weights (no download), or an empty
    detection file (every image without candidates)."""
    e, key = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS, "MODEL.GGNET.EXTERNAL_DETECTIONS."
    if e.SOURCE == "detectron2":
        return [key + "CONFIG_FILE", str(REPO / e.CONFIG_FILE), key + "WEIGHTS", "", key + "DETECTOR_OPTS",
                str(["MODEL.RESNETS.DEPTH", "18", "MODEL.RESNETS.RES2_OUT_CHANNELS", "64", "MODEL.FPN.OUT_CHANNELS",
                     "16", "INPUT.MIN_SIZE_TEST", "64", "INPUT.MAX_SIZE_TEST", "96"])]
    if e.SOURCE == "file":
        (tmp_path / "empty.json").write_text("[]")
        return [key + "FILE", str(tmp_path / "empty.json")]
    return []
