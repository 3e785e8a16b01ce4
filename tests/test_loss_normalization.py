"""Issue 11: loss normalisation across processes -- 2 gloo processes with batch b train exactly like 1 process with
batch 2b (same weights, same images, BatchNorm frozen): logged losses and parameters agree to 1e-5."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ggnet_d2.modeling.losses import cross_process_normalizer, hna_focal_loss, masked_l1_loss

REPO = Path(__file__).resolve().parents[1]


def test_single_process_normalizer_is_the_local_rule():
    counts = {"a": torch.tensor(0.0), "b": torch.tensor(3.0), "c": torch.tensor(0.0)}
    out = cross_process_normalizer(counts, {"a": ("max", 1.0), "b": ("max", 1.0), "c": ("add", 1e-4)})
    assert out["a"].item() == 1.0 and out["b"].item() == 3.0 and out["c"].item() == pytest.approx(1e-4)
    # with an explicit normaliser equal to the local one, the losses do not change
    logits = torch.randn(2, 3, 5, 5)
    m = torch.zeros(2, 3, 5, 5)
    m[0, 1, 2, 2] = 1
    m[1, 0, 3, 1] = 1
    m[1, 2, 1, 1] = -1
    assert hna_focal_loss(logits, m, normalizer=torch.tensor(2.0)) == pytest.approx(hna_focal_loss(logits, m).item())
    pred, idx = torch.randn(2, 2, 4, 4), torch.tensor([[0, 5], [3, 0]])
    mask, target = torch.tensor([[1.0, 1.0], [1.0, 0.0]]), torch.randn(2, 2, 2)
    assert masked_l1_loss(pred, idx, mask, target, normalizer=6 + 1e-4) == pytest.approx(
        masked_l1_loss(pred, idx, mask, target).item())


def _run(num_processes, per_process_batch, out):
    out.mkdir()
    res = subprocess.run(
        [sys.executable, str(REPO / "tests" / "dist_loss_norm_worker.py"), "--num-gpus", str(num_processes),
         "--per-process-batch", str(per_process_batch), "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=str(REPO))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads((out / "losses.json").read_text())


@pytest.mark.slow
def test_two_processes_of_batch_b_equal_one_process_of_batch_2b(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this test exercises the CPU (gloo) route")
    one = _run(1, 4, tmp_path / "one")
    two = _run(2, 2, tmp_path / "two")
    assert (one["world_size"], one["batch"], two["world_size"], two["batch"]) == (1, 4, 2, 4)
    assert one["losses"].keys() == two["losses"].keys() and "loss_gaze2" in one["losses"]
    for key, values in one["losses"].items():
        assert len(values) == 3
        assert two["losses"][key] == pytest.approx(values, abs=1e-5, rel=1e-5), key  # mean over the 2 processes
    init = torch.load(tmp_path / "one" / "params_init.pth")
    assert all(torch.equal(v, torch.load(tmp_path / "two" / "params_init.pth")[k]) for k, v in init.items())
    for name in ("params_step1.pth", "params_final.pth"):
        p1, p2 = torch.load(tmp_path / "one" / name), torch.load(tmp_path / "two" / name)
        assert p1.keys() == p2.keys() and len(p1) > 50
        for k in p1:
            torch.testing.assert_close(p2[k], p1[k], atol=1e-5, rtol=0, msg=k)
    # The step is large enough that a loss off by a factor (e.g. each process normalising by its own positives)
    # would show: the biggest update is far above the 1e-5 tolerance.
    step1 = torch.load(tmp_path / "one" / "params_step1.pth")
    assert max((step1[k] - init[k]).abs().max().item() for k in init) > 1e-2
