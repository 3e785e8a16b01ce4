"""Issue 12, item 5: non-finite values never reach deform_conv2d (whose CPU kernel segfaults on them): a
detectron2-style FloatingPointError with the iteration is raised instead."""
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from ggnet_d2.layers import ModulatedDeformConv
from ggnet_d2.layers import check_finite

from test_modeling_helpers import tiny_cfg, train_inputs

REPO = Path(__file__).resolve().parents[1]


def test_nan_offset_in_the_gaze_step_raises_floating_point_error_with_iteration():
    torch.manual_seed(0)
    model = build_model(tiny_cfg("resnet")).train()
    with torch.no_grad():
        model.heads[0].interaction.gaze_offsets[1].bias[0] = math.nan  # second gaze step's ActPoint offsets
    with EventStorage(start_iter=17):
        with pytest.raises(FloatingPointError, match=r"ModulatedDeformConv: non-finite offset at iteration=17!"):
            model(train_inputs())
    with torch.no_grad():
        model.heads[0].interaction.gaze_offsets[1].bias[0] = 0.0
    with EventStorage(start_iter=17):
        losses = model(train_inputs())  # finite again: no error
    assert all(torch.isfinite(v) for v in losses.values())


def test_check_finite_names_the_tensor_and_counts():
    conv = ModulatedDeformConv(2, 2, 3, padding=1)
    x, offset, mask = torch.zeros(1, 2, 4, 4), torch.zeros(1, 18, 4, 4), torch.ones(1, 9, 4, 4)
    x[0, 0, 0, :2] = torch.tensor([math.inf, -math.inf])
    with pytest.raises(FloatingPointError, match=r"non-finite x at iteration=\?! \(0 NaN, 2 inf of 32 values"):
        conv(x, offset, mask)
    check_finite("t", a=torch.ones(3), b=None)  # finite and None pass


def test_diverging_run_ends_in_floating_point_error_not_a_crash(tmp_path):
    """BASE_LR 1e12 (the issue's reproduction): the run must end with FloatingPointError, never a signal."""
    opts = ["MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]", "MODEL.GGNET.HEAD_CONV", "8",
            "INPUT.GGNET.INPUT_SIZE", "64", "SOLVER.IMS_PER_BATCH", "2", "SOLVER.BASE_LR", "1e12",
            "SOLVER.MAX_ITER", "30", "SOLVER.STEPS", "()", "DATALOADER.NUM_WORKERS", "0", "DATASETS.TEST", "()",
            "OUTPUT_DIR", str(tmp_path)]
    run = subprocess.run([sys.executable, "train_net.py", "--config-file", "configs/quickstart/GGNet_R18_synth.yaml",
                          *opts], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 1, (run.returncode, run.stderr[-3000:])  # a Python exception, not -11 (SIGSEGV)
    assert "FloatingPointError" in run.stderr and "iteration=" in run.stderr


@pytest.mark.parametrize("kernel,stride,padding,dilation", [(3, 1, 1, 1), (5, 2, 2, 1), (3, 1, 2, 2)])
def test_offset_clamp_is_exact_for_far_samples(kernel, stride, padding, dilation):
    """Offsets far outside the map (1e30, the size of a CUDA-crashing value) give what torchvision gives for any
    out-of-map offset: the clamp changes neither the output nor any gradient."""
    from torchvision.ops import deform_conv2d

    torch.manual_seed(0)
    conv = ModulatedDeformConv(3, 4, kernel, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(2, 3, 9, 11, requires_grad=True)
    h_out = (9 + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    w_out = (11 + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    offset = torch.randn(2, 2 * kernel * kernel, h_out, w_out) * 3
    far = torch.rand_like(offset) < 0.3
    offset[far] = 1e30 * torch.sign(torch.randn(int(far.sum())))
    # reference: the same samples moved merely 1000 px away, which torchvision handles on every device
    offset_ref = offset.clone()
    offset_ref[far] = 1000.0 * torch.sign(offset[far])
    mask = torch.rand(2, kernel * kernel, h_out, w_out)
    results = []
    for off, run in ((offset, conv),  # ours: clamped inside ModulatedDeformConv.forward
                     (offset_ref, lambda x_, o_, m_: deform_conv2d(x_, o_, conv.weight, conv.bias, stride=stride,
                                                                   padding=padding, dilation=dilation, mask=m_))):
        off = off.clone().requires_grad_(True)
        x.grad = None
        y = run(x, off, mask)
        y.square().sum().backward()
        results.append((y.detach(), x.grad.clone(), off.grad))
    (y0, gx0, go0), (y1, gx1, go1) = results
    assert torch.allclose(y0, y1, rtol=1e-5, atol=1e-5) and torch.allclose(gx0, gx1, rtol=1e-5, atol=1e-5)
    assert torch.allclose(go0, go1, rtol=1e-5, atol=1e-5)
    assert torch.count_nonzero(go0[far]) == 0  # an out-of-map sample has no offset gradient
