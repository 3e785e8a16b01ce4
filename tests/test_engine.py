"""Issue 6: training engine -- resume, multi-process CPU training, every config trains and evaluates."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from detectron2.engine import default_argument_parser

from ggnet_d2.engine import GGNetTrainer

REPO = Path(__file__).resolve().parents[1]


def test_resume_continues_at_the_right_iteration(tmp_path, tiny_r18_cfg):
    cfg = tiny_r18_cfg("DATASETS.TEST", "()", "SOLVER.MAX_ITER", "2", "SOLVER.STEPS", "(1,)",
                       "SOLVER.CHECKPOINT_PERIOD", "1", "OUTPUT_DIR", str(tmp_path))
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    assert (tmp_path / "model_final.pth").is_file() and (tmp_path / "model_0000000.pth").is_file()
    trained = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    cfg2 = tiny_r18_cfg("DATASETS.TEST", "()", "SOLVER.MAX_ITER", "3", "SOLVER.STEPS", "(1,)",
                        "SOLVER.CHECKPOINT_PERIOD", "1", "OUTPUT_DIR", str(tmp_path))
    resumed = GGNetTrainer(cfg2)
    resumed.resume_or_load(resume=True)
    assert resumed.start_iter == 2
    for k, v in resumed.model.state_dict().items():
        assert torch.equal(v, trained[k]), k
    # the LR scheduler state is restored too: past the step at iteration 1, LR is base x gamma
    assert resumed.scheduler.last_epoch == 2
    resumed.train()
    # only iteration 2 ran (TrainerBase leaves iter one past the last iteration)
    assert resumed.iter == 3 and len(resumed.storage.history("total_loss").values()) == 1
    assert (tmp_path / "model_0000002.pth").is_file()


@pytest.mark.slow
def test_two_cpu_processes_see_different_data_and_end_with_identical_weights(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this test exercises the CPU (gloo) route")
    out = subprocess.run(
        [sys.executable, str(REPO / "tests" / "dist_train_worker.py"), "--num-gpus", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=str(REPO),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world_size"] == ranks[1]["world_size"] == 2
    ids0, ids1 = ranks[0]["image_ids"], ranks[1]["image_ids"]
    assert len(ids0) == len(ids1) == 3 * 2  # 3 iterations x (4 images / 2 processes)
    assert set(ids0).isdisjoint(ids1)  # each rank draws its own shard of the shared permutation
    w0 = torch.load(tmp_path / "rank0.pth")
    w1 = torch.load(tmp_path / "rank1.pth")
    assert w0.keys() == w1.keys() and len(w0) > 50
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k


def _train_net():
    spec = importlib.util.spec_from_file_location("train_net", REPO / "train_net.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_only_prints_the_table_and_writes_predictions(tmp_path, tiny_synth_test, capsys, tiny_r18_cfg,
                                                          tiny_r18_opts, quickstart_config):
    cfg = tiny_r18_cfg("DATASETS.TEST", "()", "SOLVER.MAX_ITER", "1", "SOLVER.STEPS", "()", "OUTPUT_DIR",
                       str(tmp_path))
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    out_dir = tmp_path / "eval"
    args = default_argument_parser().parse_args(
        ["--config-file", quickstart_config, "--eval-only", *tiny_r18_opts,
         "DATASETS.TEST", f"('{tiny_synth_test}',)",
         "MODEL.WEIGHTS", str(tmp_path / "model_final.pth"), "OUTPUT_DIR", str(out_dir)])
    results = _train_net().main(args)
    assert set(results["hoi"]) >= {"mAP_default_full", "mAP_known_object_full", "mean_recall_default_full"}
    logged = (out_dir / "log.txt").read_text()
    assert "mAP_default_full" in logged and "copypaste" in logged
    predictions = json.loads((out_dir / "inference" / tiny_synth_test / "predictions.json").read_text())
    assert len(predictions) == 4 and {"file_name", "predictions", "hoi_prediction"} <= set(predictions[0])
