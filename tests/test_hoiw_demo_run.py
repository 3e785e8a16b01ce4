"""Issue 6: a short version of the HOI-W real-image memorization run (the full run is documented in the README):
training on the real photos lowers the loss, writes a checkpoint, and evaluation returns numbers."""
import math
from pathlib import Path

import numpy as np
import pytest

from ggnet_d2.data import register_hoi_json
from ggnet_d2.data.datasets.builtin import hoiw_metadata
from ggnet_d2.engine import GGNetTrainer, setup_cfg

REPO = Path(__file__).resolve().parents[1]
HOIW = REPO.parent / "shared" / "data" / "hoiw_demo"
NAME = "hoiw_demo_ci"


@pytest.mark.slow
def test_short_hoiw_run_learns_checkpoints_and_evaluates(tmp_path):
    if not (HOIW / "annotations.json").is_file():
        pytest.skip(f"{HOIW} not present")
    from detectron2.data import DatasetCatalog

    if NAME not in DatasetCatalog.list():
        register_hoi_json(NAME, str(HOIW / "annotations.json"), str(HOIW / "images"), metadata=hoiw_metadata())
    cfg = setup_cfg(str(REPO / "configs" / "GGNet_R18_HOIW_demo.yaml"), [
        "DATASETS.TRAIN", f"('{NAME}',)", "DATASETS.TEST", f"('{NAME}',)", "INPUT.GGNET.INPUT_SIZE", "128",
        "INPUT.GGNET.TEST_SIZE", "128", "SOLVER.MAX_ITER", "40", "SOLVER.STEPS", "()", "SOLVER.IMS_PER_BATCH", "6",
        "DATALOADER.NUM_WORKERS", "0", "SOLVER.CHECKPOINT_PERIOD", "1000", "OUTPUT_DIR", str(tmp_path),
    ])
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    losses = [v for v, _ in trainer.storage.history("total_loss").values()]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses
    assert (tmp_path / "model_final.pth").is_file()
    hoi = trainer._last_eval_results["hoi"]
    assert all(math.isfinite(hoi[k]) for k in ("mAP_default_full", "mAP_default_non_rare", "mean_recall_default_full"))
