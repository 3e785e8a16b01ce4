"""Issue 24 item 1: the deformable convolutions' finite check without a host read (deferred: a device-side flag read
once per period by FiniteCheckHook), still ending in detectron2's FloatingPointError naming the iteration."""
import math

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from ggnet_d2.engine.hooks import FiniteCheckHook
from ggnet_d2.layers import ModulatedDeformConv, raise_if_nonfinite

from test_modeling_helpers import tiny_cfg, train_inputs


def _conv(backend="gather_gemm"):
    conv = ModulatedDeformConv(2, 3, 3, padding=1, backend=backend).train()
    conv.finite_check = "deferred"
    return conv


def _inputs(bad=None):
    x, offset, mask = torch.randn(1, 2, 5, 5), torch.randn(1, 18, 5, 5), torch.rand(1, 9, 5, 5)
    if bad == "offset":
        offset[0, 3, 2, 2] = math.nan
    elif bad == "x":
        x[0, 1, 0, 0] = -math.inf
    return x, offset, mask


def test_deferred_check_flags_the_first_bad_iteration_and_raises_at_the_check():
    conv = _conv()
    with EventStorage(start_iter=16) as storage:
        conv(*_inputs())  # finite: nothing flagged
        assert int(conv.nonfinite_iter) == -1
        raise_if_nonfinite(conv)
        storage.iter = 17
        conv(*_inputs("offset"))  # no error here: the step goes on (gather_gemm gives NaN, no crash)
        assert int(conv.nonfinite_iter) == 17
        storage.iter = 18
        conv(*_inputs("x"))
        assert int(conv.nonfinite_iter) == 17  # the first iteration is kept
    with pytest.raises(FloatingPointError, match=r"non-finite input at iteration=17!"):
        raise_if_nonfinite(conv)


def test_deferred_check_in_a_model_names_the_module_and_the_earliest_iteration():
    torch.manual_seed(0)
    model = build_model(tiny_cfg("resnet")).train()
    convs = [m for m in model.modules() if isinstance(m, ModulatedDeformConv)]
    assert convs
    for m in convs:
        m.finite_check = "deferred"
    with EventStorage(start_iter=5):
        losses = model(train_inputs())  # finite: no flag
    assert all(int(m.nonfinite_iter) == -1 for m in convs)
    raise_if_nonfinite(model)
    with torch.no_grad():
        model.heads[0].interaction.gaze_offsets[1].bias[0] = math.nan  # second gaze step's ActPoint offsets
    with EventStorage(start_iter=9):
        losses = model(train_inputs())  # no error inside the step
    assert not all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(FloatingPointError, match=r"heads\.0\.interaction\.\S+ \(ModulatedDeformConv\): non-finite "
                                                 r"input at iteration=9!"):
        raise_if_nonfinite(model)


def test_flag_is_a_non_persistent_buffer_that_follows_the_module():
    conv = _conv()
    assert "nonfinite_iter" not in conv.state_dict()  # checkpoints unchanged
    assert conv.nonfinite_iter.dtype == torch.long and conv.nonfinite_iter.device == conv.weight.device


def test_deferred_check_refuses_torchvision_on_the_cpu():
    """torchvision's CPU kernel would segfault on the NaN before any deferred check could report it."""
    conv = _conv("torchvision")
    with pytest.raises(ValueError, match="gather_gemm"):
        conv(*_inputs())


def test_auto_mode_stays_synchronous_on_the_cpu():
    conv = ModulatedDeformConv(2, 3, 3, padding=1).train()
    assert conv.finite_check == "auto"
    with EventStorage(start_iter=3):
        with pytest.raises(FloatingPointError, match=r"non-finite offset at iteration=3!"):
            conv(*_inputs("offset"))


class _Trainer:
    def __init__(self, model, max_iter):
        self.model, self.max_iter, self.iter = model, max_iter, 0


def test_hook_checks_once_per_period_and_at_the_last_iteration():
    conv = _conv()
    with EventStorage(start_iter=2):
        conv(*_inputs("offset"))
    trainer = _Trainer(conv, max_iter=45)
    hook = FiniteCheckHook(20)
    hook.trainer = trainer
    for it in (2, 3, 18, 20, 21):
        trainer.iter = it
        hook.after_step()  # not a check iteration: no host read, no error
    trainer.iter = 19  # 20 iterations done
    with pytest.raises(FloatingPointError, match="iteration=2!"):
        hook.after_step()
    trainer.iter = 44  # the last iteration, off the period
    with pytest.raises(FloatingPointError, match="iteration=2!"):
        hook.after_step()
    with pytest.raises(ValueError):
        FiniteCheckHook(0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="host synchronisation is a CUDA matter")
def test_cuda_training_step_has_no_host_synchronisation():
    """Forward, losses, backward and the optimizer step of a GGNet model on CUDA under
    torch.cuda.set_sync_debug_mode("error"): any host read inside the step raises."""
    torch.manual_seed(0)
    cfg = tiny_cfg("dla")
    cfg.MODEL.DEVICE = "cuda"
    model = build_model(cfg).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def on_device(inputs):
        return [{**x, "image": x["image"].cuda(), "ggnet_targets": {k: v.cuda() for k, v in x["ggnet_targets"].items()}}
                for x in inputs]

    batches = [on_device(train_inputs()) for _ in range(3)]
    with EventStorage(0) as storage:
        for i, batch in enumerate(batches):
            storage.iter = i
            debug = torch.cuda.get_sync_debug_mode()
            if i > 0:  # the first step: cuDNN/cuBLAS set-up may synchronise
                torch.cuda.set_sync_debug_mode("error")
            try:
                losses = model(batch)
                loss = sum(losses.values())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            finally:
                torch.cuda.set_sync_debug_mode(debug)
    torch.cuda.synchronize()
    raise_if_nonfinite(model)  # finite run: the one host read, after the steps
