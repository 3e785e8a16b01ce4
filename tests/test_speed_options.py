"""Issue 24 item 2: the speed options keep training exact where they promise to (CPU checks): channels-last gives the
same outputs, AMP keeps the deformable convolutions and the losses in float32, fused Adam, compile in place."""
import copy

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from ggnet_d2.engine import GGNetTrainer
from ggnet_d2.engine.speed import apply_speed_options
from ggnet_d2.layers import ModulatedDeformConv

from test_modeling_helpers import tiny_cfg, train_inputs


def _losses(model, inputs, start_iter=0):
    with EventStorage(start_iter):
        return model(inputs)


@pytest.mark.parametrize("backbone", ["resnet", "dla"])
def test_channels_last_gives_the_same_losses_and_gradients(backbone):
    torch.manual_seed(0)
    cfg = tiny_cfg(backbone)
    model = build_model(cfg).train()
    fast_cfg = cfg.clone()
    fast_cfg.MODEL.CHANNELS_LAST = True
    fast = apply_speed_options(copy.deepcopy(model), fast_cfg)
    assert any(p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
               for p in fast.parameters())
    inputs = train_inputs()
    results = []
    for m in (model, fast):
        losses = _losses(m, inputs)
        sum(losses.values()).backward()
        results.append((losses, {n: p.grad for n, p in m.named_parameters() if p.grad is not None}))
    (l0, g0), (l1, g1) = results
    for k in l0:
        torch.testing.assert_close(l1[k], l0[k], rtol=1e-4, atol=1e-6)
    assert g0.keys() == g1.keys()
    # float32 summation order of other kernels: measured up to 1.1e-5 of the model's largest gradient (gradients
    # that are 0 up to rounding, e.g. a bias before BatchNorm, differ by rounding alone)
    scale = max(float(g.abs().max()) for g in g0.values())
    for k in g0:
        assert float((g1[k] - g0[k]).abs().max()) <= 1e-4 * scale, k


def test_deform_conv_runs_in_float32_under_bf16_autocast():
    torch.manual_seed(0)
    conv = ModulatedDeformConv(4, 5, 3, padding=1, backend="gather_gemm").train()
    x, offset, mask = torch.randn(2, 4, 6, 6), torch.randn(2, 18, 6, 6) * 2, torch.rand(2, 9, 6, 6)
    x16, offset16, mask16 = x.bfloat16(), offset.bfloat16(), mask.bfloat16()  # what autocast's convs hand over
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16  # autocast is on
        out = conv(x16, offset16, mask16)
    assert out.dtype == torch.float32
    # exactly the float32 computation on the same (bf16-rounded) inputs
    assert torch.equal(out, conv(x16.float(), offset16.float(), mask16.float()))


def test_losses_run_in_float32_under_bf16_autocast():
    torch.manual_seed(0)
    model = build_model(tiny_cfg("resnet")).train()
    inputs = train_inputs()
    images = model.preprocess_image(inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model.heads[0](model.backbone(images.tensor)[model.backbone._out_features[0]])
        assert out["interaction_logits"][0].dtype == torch.bfloat16  # the heads do run in bf16
        with EventStorage(0):
            losses = model.loss([out], inputs, model.device)
    with EventStorage(0):
        reference = model.loss([out], inputs, model.device)  # same bf16 head outputs, no autocast at all
    for k, v in losses.items():
        assert v.dtype == torch.float32, k
        assert torch.equal(v, reference[k]), k


def test_bf16_training_forward_on_the_cpu_is_close_to_float32():
    torch.manual_seed(0)
    cfg = tiny_cfg("resnet")
    model = build_model(cfg).train()
    cfg.SOLVER.AMP.ENABLED, cfg.SOLVER.AMP.PRECISION = True, "bfloat16"
    amp = build_model(cfg).train()
    amp.load_state_dict(model.state_dict())
    assert amp.train_autocast_dtype == torch.bfloat16 and model.train_autocast_dtype is None
    inputs = train_inputs()
    ref, got = _losses(model, inputs), _losses(amp, inputs)
    for k in ref:
        assert got[k].dtype == torch.float32 and torch.isfinite(got[k])
        torch.testing.assert_close(got[k], ref[k], rtol=0.05, atol=1e-3, msg=k)  # bf16 noise, not a bug
    assert any(not torch.equal(got[k], ref[k]) for k in ref)  # and autocast did act


def test_fused_adam_and_in_place_compile_keep_the_training_contract():
    torch.manual_seed(0)
    cfg = tiny_cfg("resnet")
    cfg.SOLVER.ADAM_FUSED = True
    model = build_model(cfg).train()
    optimizer = GGNetTrainer.build_optimizer(cfg, model)
    assert all(g.get("fused") for g in optimizer.param_groups)
    cfg.SOLVER.ADAM_FUSED = False
    reference = copy.deepcopy(model)
    ref_opt = GGNetTrainer.build_optimizer(cfg, reference)
    inputs = train_inputs()
    for m, opt in ((model, optimizer), (reference, ref_opt)):
        sum(_losses(m, inputs).values()).backward()
        opt.step()
    for (n, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=n)
    keys = list(model.state_dict())
    cfg.MODEL.COMPILE = True
    apply_speed_options(model, cfg)  # nn.Module.compile: lazy, in place
    assert list(model.state_dict()) == keys  # checkpoints keep their parameter names


def test_benchmark_fastest_setting_and_table():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "benchmark_train_cuda.py"
    spec = importlib.util.spec_from_file_location("benchmark_train_cuda", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cfg = tiny_cfg("resnet")
    cfg.freeze()
    fast = bench.fastest_cfg(cfg, compile_model=True)
    assert (fast.MODEL.CHANNELS_LAST, fast.SOLVER.AMP.ENABLED, fast.SOLVER.AMP.PRECISION, fast.SOLVER.ADAM_FUSED,
            fast.MODEL.COMPILE) == (True, True, "bfloat16", True, True)
    assert not cfg.MODEL.CHANNELS_LAST and not bench.fastest_cfg(cfg, compile_model=False).MODEL.COMPILE
    row = {"iters_per_s": 1.5, "images_per_s": 34.5, "peak_mem_mib": 100.0, "last_losses": {"total_loss": 2.0}}
    table = bench.side_by_side([("default", row), ("fastest", {**row, "iters_per_s": 3.0})])
    assert table.splitlines()[1].split()[:3] == ["default", "1.500", "34.50"]
    assert table.splitlines()[2].split()[1] == "3.000"
