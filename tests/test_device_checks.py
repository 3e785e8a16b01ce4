"""Issue 11: a CUDA run cannot silently fall back to the CPU -- set-up, trainer start and the first forward check the
device; the operator census classifies CPU work inside a step; the CUDA benchmark script runs (on CPU here)."""
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from ggnet_d2.engine import GGNetTrainer, setup_cfg
from ggnet_d2.engine.device_checks import check_amp_device, check_model_device, check_outputs_on_first_forward
from ggnet_d2.utils.op_census import OpCensus

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = str(REPO / "configs" / "quickstart" / "GGNet_R18_synth.yaml")
TINY = ["INPUT.GGNET.INPUT_SIZE", "64", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
        "MODEL.GGNET.HEAD_CONV", "16", "DATASETS.TEST", "()", "SOLVER.IMS_PER_BATCH", "2",
        "DATALOADER.NUM_WORKERS", "0"]
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a GPU")


@no_gpu
def test_cuda_from_the_config_file_falls_back_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        cfg = setup_cfg(str(REPO / "configs" / "GGNet_DLA34_HICO.yaml"), TINY)  # says MODEL.DEVICE "cuda"
    assert cfg.MODEL.DEVICE == "cpu"
    assert "no CUDA device" in caplog.text


@no_gpu
def test_a_config_naming_no_device_runs_on_the_cpu_without_warning(caplog):
    """Issue 20, item 8: the quickstart names no device; on a CPU machine it warned on every run."""
    with caplog.at_level(logging.WARNING):
        cfg = setup_cfg(QUICKSTART, TINY)
    assert cfg.MODEL.DEVICE == "cpu"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "DEVICE" in r.getMessage()]


@no_gpu
def test_cuda_asked_for_explicitly_is_an_error():
    with pytest.raises(RuntimeError, match="MODEL.DEVICE cuda was requested"):
        setup_cfg(QUICKSTART, TINY + ["MODEL.DEVICE", "cuda"])


def test_amp_off_cuda_is_refused_at_start(tmp_path):
    cfg = setup_cfg(QUICKSTART, TINY + ["MODEL.DEVICE", "cpu", "SOLVER.AMP.ENABLED", "True"])
    with pytest.raises(ValueError, match="AMP"):
        check_amp_device(cfg)
    cfg = setup_cfg(QUICKSTART, TINY + ["MODEL.DEVICE", "cpu", "SOLVER.AMP.ENABLED", "True",
                                        "OUTPUT_DIR", str(tmp_path)])
    with pytest.raises(ValueError, match="AMP"):
        GGNetTrainer(cfg)


def test_model_on_the_wrong_device_is_named():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    check_model_device(model, "cpu")
    with pytest.raises(RuntimeError, match=r"cuda.*0\.weight is on cpu"):
        check_model_device(model, "cuda")


class _LossesOn(nn.Module):
    def __init__(self, device):
        super().__init__()
        self.device = device

    def forward(self, x):
        return {"loss_a": torch.zeros((), device=self.device), "loss_b": torch.zeros((), device=self.device)}


def test_first_forward_losses_must_be_on_the_device():
    good = _LossesOn("cpu")
    check_outputs_on_first_forward(good, "cpu")
    good(0)
    assert not good._forward_hooks  # one-shot: removed after the first forward
    bad = _LossesOn("meta")  # stands in for a model whose losses end up off the configured device
    check_outputs_on_first_forward(bad, "cpu")
    with pytest.raises(RuntimeError, match="first forward returned losses on"):
        bad(0)


def test_op_census_classifies_cpu_work_next_to_the_target_device():
    x = torch.randn(4, 4, device="meta", requires_grad=True)  # "meta" plays the accelerator
    with OpCensus("meta") as census:
        (x * 2).sum().backward()  # forward and backward on the target
        torch.ones(3).exp()  # CPU compute
        torch.stack([torch.ones(2), torch.ones(2)])  # CPU staging of inputs
        x[torch.tensor([0, 2])]  # a CPU index tensor feeding a target-device op
        x.float()  # same-device cast
    c = census.counts
    assert c["target"]["aten::mul"] == 2 and c["target"]["aten::sum"] == 1
    assert dict(c["cpu_compute"]) == {"aten::exp": 1}
    assert c["cpu_staging"]["aten::stack"] == 1
    assert dict(c["mixed"]) == {"aten::index": 1}
    assert census.summary()["cpu_fallback"] == {"aten::exp": 1, "aten::index": 1}
    with OpCensus("cpu") as on_cpu:
        torch.ones(3).exp()
    assert on_cpu.summary()["cpu_fallback"] == {}


@pytest.mark.slow
def test_benchmark_script_runs_on_cpu(tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run(
        [sys.executable, str(REPO / "tools" / "benchmark_train_cuda.py"), "--config-file", QUICKSTART,
         "--device", "cpu", "--iters", "2", "--warmup", "1", "--batch", "2", "--amp", "both", "--json-out", str(out),
         "INPUT.GGNET.INPUT_SIZE", "64", "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]",
         # torchvision's op, whose profile name the test looks for ("auto" picks gather_gemm for CPU training)
         "MODEL.DEFORM_CONV_BACKEND", "torchvision"],
        capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "AMP skipped" in res.stdout and "it/s" in res.stdout
    data = json.loads(out.read_text())
    (r,) = data["results"]
    assert r["iters"] == 2 and r["iters_per_s"] > 0 and r["params_on"] == ["cpu"] and not r["amp"]
    assert r["ops"]["target"] > 100 and r["ops"]["cpu_fallback"] == {}
    # the op census, not the timing ranking (top_cpu_ms), whose order moves with the machine's load
    assert any("deform_conv2d" in name for name in r["profile"]["op_counts"])
    assert len(r["profile"]["top_cpu_ms"]) == 8
    assert set(r["last_losses"]) >= {"loss_glance", "loss_gaze2", "loss_apm_subject", "total_loss"}
