"""Issue 24 item 1: the training losses are read to the host once per SOLVER.METRICS_SYNC_PERIOD, not once per step
(engine/deferred_metrics.py), with the same logged metrics as detectron2's per-step writer and the same
FloatingPointError naming the iteration."""
import json
import logging
import re

import pytest
import torch
from detectron2.engine import SimpleTrainer
from detectron2.utils.events import EventStorage
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ggnet_d2.engine import ConfigError, GGNetTrainer
from ggnet_d2.engine import deferred_metrics
from ggnet_d2.engine.deferred_metrics import (DeferredMetricsMixin, DeferredSimpleTrainer, build_step_trainer,
                                              check_metrics_sync_period)

# ---------------------------------------------------------------- a toy model: losses from the data, no host reads


class _Losses(nn.Module):
    """Two losses per step, ``w * x`` and ``w * 2x`` with x from the data (so a test decides the values)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return {"loss_a": self.w * x, "loss_b": self.w * (2 * x)}


def _toy_trainer(values, period, max_iter, cls=DeferredSimpleTrainer):
    """A step trainer over ``values`` (one float per iteration) with period ``period``."""
    model = _Losses()
    trainer = cls(model, iter([torch.tensor(v) for v in values]), torch.optim.SGD(model.parameters(), lr=0.0))
    if period is not None:
        trainer.configure_metrics_sync(period, max_iter)
    return trainer


def _steps(trainer, storage, iterations):
    for i in iterations:
        storage.iter = trainer.iter = i
        trainer.run_step()


def _loss_history(storage):
    return {k: list(h.values()) for k, h in storage.histories().items() if "loss" in k}


def test_toy_losses_land_under_their_own_iterations_as_with_detectron2():
    values = [0.5 + 0.25 * i for i in range(10)]
    histories = []
    for period in (None, 5):  # None: detectron2's SimpleTrainer unchanged (the independent path)
        cls = SimpleTrainer if period is None else DeferredSimpleTrainer
        trainer = _toy_trainer(values, period, 10, cls)
        with EventStorage(0) as storage:
            _steps(trainer, storage, range(3))
            if period:  # nothing read yet: the losses of iterations 0-2 are still on the device
                assert "total_loss" not in storage.histories()
            _steps(trainer, storage, range(3, 10))
        histories.append(_loss_history(storage))
    reference, deferred = histories
    assert deferred == reference
    # by hand: total_loss = x + 2x = 3x, each under its iteration
    assert reference["total_loss"] == [(3 * v, i) for i, v in enumerate(values)]
    assert reference["loss_b"][4] == (2 * values[4], 4)


def test_non_finite_loss_raises_naming_its_iteration_at_the_flush_at_latest():
    values = [1.0] * 12
    values[7] = float("nan")
    for period, raised_at in ((1, 7), (5, 9)):
        trainer = _toy_trainer(values, period, 12)
        with EventStorage(0) as storage:
            with pytest.raises(FloatingPointError, match=r"Loss became infinite or NaN at iteration=7!"):
                _steps(trainer, storage, range(12))
            assert trainer.iter == raised_at  # per step: at once; deferred: at the flush ending that period
            assert storage.iter == raised_at  # restored after the flush
            # the iterations before the bad one were written, each under its own iteration
            assert [it for _, it in storage.history("total_loss").values()] == list(range(7))


def test_last_iteration_and_explicit_flush_write_the_rest():
    trainer = _toy_trainer([1.0, 2.0, 3.0, 4.0], 20, 4)
    with EventStorage(0) as storage:
        _steps(trainer, storage, range(2))
        assert "total_loss" not in storage.histories()
        trainer.flush_metrics()  # as EarlyProgress / after_train do
        assert [it for _, it in storage.history("total_loss").values()] == [0, 1]
        trainer.flush_metrics()  # nothing left: no-op
        _steps(trainer, storage, range(2, 4))  # iteration 3 is the last (max_iter 4): flushed
        assert storage.history("total_loss").values() == [(3.0, 0), (6.0, 1), (9.0, 2), (12.0, 3)]
        assert [it for _, it in storage.history("data_time").values()] == [0, 1, 2, 3]


class _NewStyleBase:
    """detectron2 after April 2023: ``_write_metrics(loss_dict, data_time, prefix="", iter=None)``."""

    iter = 0

    def __init__(self):
        self.calls = []

    def _write_metrics(self, loss_dict, data_time, prefix="", iter=None):  # noqa: A002
        self.calls.append((iter, {k: (v.device.type, float(v)) for k, v in loss_dict.items()}, data_time, prefix))


class _NewStyle(DeferredMetricsMixin, _NewStyleBase):
    pass


def test_newer_detectron2_gets_each_iteration_as_iter(monkeypatch):
    monkeypatch.setattr(deferred_metrics, "write_metrics_takes_iter", lambda: True)
    t = _NewStyle()
    t.configure_metrics_sync(2, None)
    with EventStorage(0):
        for i in range(4):
            t.iter = i
            t._write_metrics({"loss_a": torch.tensor(float(i))}, 0.1 * i)
    assert [c[0] for c in t.calls] == [0, 1, 2, 3]
    assert t.calls[3] == (3, {"loss_a": ("cpu", 3.0)}, 0.30000000000000004, "")
    t.configure_metrics_sync(1, None)  # period 1: the base class's writer, with the caller's arguments as given
    t._write_metrics({"loss_a": torch.tensor(7.0)}, 0.5, "val_", iter=11)
    assert t.calls[-1] == (11, {"loss_a": ("cpu", 7.0)}, 0.5, "val_")


def test_a_loss_with_several_elements_is_named():
    trainer = _toy_trainer([1.0], 5, 10)
    with EventStorage(0):
        with pytest.raises(ValueError, match=r"\['loss_v'\] are not scalars"):
            trainer._write_metrics({"loss_v": torch.ones(3)}, 0.0)


@pytest.mark.parametrize("period", [0, 3, 40, 2.0, True])
def test_period_must_divide_the_writer_period(period):
    with pytest.raises(ValueError, match="must divide 20"):
        check_metrics_sync_period(period)


def test_config_check_refuses_a_period_that_does_not_divide_20(tiny_r18_cfg):
    with pytest.raises(ConfigError, match="METRICS_SYNC_PERIOD = 3"):
        tiny_r18_cfg("SOLVER.METRICS_SYNC_PERIOD", "3")
    assert tiny_r18_cfg().SOLVER.METRICS_SYNC_PERIOD == 20  # the default: sync-free between writer outputs


# ---------------------------------------------------------------- host reads per step, counted


class _HostReads(TorchDispatchMode):
    """Counts ``aten::_local_scalar_dense`` (``.item()``, ``float(t)``, ``bool(t)``: a host read of a tensor's value)
    and copies whose source is not on the CPU (``.cpu()`` of a device tensor) while active."""

    def __init__(self):
        super().__init__()
        self.reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense":
            self.reads += 1
        elif name in ("_to_copy", "copy_"):
            src, dst = (args[1], args[0].device) if name == "copy_" else (args[0], kwargs.get("device"))
            self.reads += int(src.device.type != "cpu" and dst is not None and torch.device(dst).type == "cpu")
        return func(*args, **kwargs)


def _reads_per_step(trainer, n):
    counts = []
    with EventStorage(0) as storage:
        for i in range(n):
            storage.iter = trainer.iter = i
            with _HostReads() as mode:
                trainer.run_step()
            counts.append(mode.reads)
    return counts


def test_host_reads_happen_only_at_the_flush_step():
    """The toy model's step has no host read of its own, so every read counted is the writer's."""
    deferred = _reads_per_step(_toy_trainer([1.0] * 10, 5, 100), 10)
    assert [i for i, c in enumerate(deferred) if c] == [4, 9]
    assert deferred[4] == 5 * 2  # detectron2's .item() of 2 losses x 5 iterations, at the flush
    per_step = _reads_per_step(_toy_trainer([1.0] * 10, None, 100, SimpleTrainer), 10)
    assert all(c == 2 for c in per_step)  # detectron2 v0.6: every loss of every step


# ---------------------------------------------------------------- the full trainer: same metrics.json


def _train(tmp_path, tiny_r18_cfg, period):
    out = tmp_path / f"period{period}"
    cfg = tiny_r18_cfg("DATASETS.TEST", "()", "SOLVER.MAX_ITER", "23", "SOLVER.STEPS", "(21,)", "SEED", "3",
                       "SOLVER.CHECKPOINT_PERIOD", "1000", "SOLVER.METRICS_SYNC_PERIOD", str(period),
                       "OUTPUT_DIR", str(out))
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    metrics = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    return metrics, _loss_history(trainer.storage), trainer


def _early_lines(caplog):
    """(iteration, total_loss) of EarlyProgress's lines."""
    found = [re.search(r"iteration (\d+)/23: .*total_loss (\S+)$", r.getMessage()) for r in caplog.records]
    return [m.groups() for m in found if m]


def test_training_logs_the_same_metrics_with_the_deferred_writer(tmp_path, tiny_r18_cfg, caplog):
    """train_net's trainer, 23 iterations (writer outputs at 19 and 22): detectron2's per-step writer (period 1) and
    the deferred one (period 20; EarlyProgress also flushes at 0, 1, 2, 4, 9) log identical losses."""
    with caplog.at_level(logging.INFO, logger="ggnet_d2"):
        ref_metrics, ref_history, ref_trainer = _train(tmp_path, tiny_r18_cfg, 1)
        ref_early = _early_lines(caplog)
        caplog.clear()
        metrics, history, trainer = _train(tmp_path, tiny_r18_cfg, 20)
        early = _early_lines(caplog)
    assert early == ref_early and [it for it, _ in early] == ["1", "2", "3", "5", "10"]
    assert type(trainer._trainer).__name__ == "DeferredSimpleTrainer" and trainer._trainer.metrics_sync_period == 20
    assert history == ref_history  # every loss term, every iteration, exact
    assert len(history["total_loss"]) == 23 and {"loss_glance", "loss_wh", "loss_apm_object"} <= set(history)
    assert [m["iteration"] for m in metrics] == [m["iteration"] for m in ref_metrics] == [19, 22]
    for m, r in zip(metrics, ref_metrics):
        losses = {k: v for k, v in m.items() if "loss" in k}
        assert losses == {k: v for k, v in r.items() if "loss" in k} and len(losses) >= 9
        assert {"data_time", "lr", "time"} <= set(m)  # still logged
        assert m["lr"] == r["lr"]


# ---------------------------------------------------------------- CUDA: the trainer's steps under sync debug "error"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="host synchronisation is a CUDA matter")
def test_cuda_trainer_steps_between_flushes_have_no_host_synchronisation():
    """GGNetTrainer's step trainer (forward, losses, backward, Adam, the deferred loss writer) on CUDA with
    torch.cuda.set_sync_debug_mode("error") on every step but the flushes: any host read in those steps raises.
    The flush step does synchronise (the positive control)."""
    from detectron2.modeling import build_model

    from test_modeling_helpers import tiny_cfg, train_inputs

    torch.manual_seed(0)
    cfg = tiny_cfg("dla")
    cfg.MODEL.DEVICE = "cuda"
    model = build_model(cfg)
    batch = [{**x, "image": x["image"].cuda(), "ggnet_targets": {k: v.cuda() for k, v in x["ggnet_targets"].items()}}
             for x in train_inputs()]  # on the device already, as a pinned-memory loader with non_blocking would be

    def forever():
        while True:
            yield batch

    trainer = build_step_trainer(model, forever(), GGNetTrainer.build_optimizer(cfg, model), amp=False, period=5,
                                 max_iter=100)
    debug = torch.cuda.get_sync_debug_mode()
    with EventStorage(0) as storage:
        for i in range(10):
            storage.iter = trainer.iter = i
            flush = (i + 1) % 5 == 0
            if i > 0 and not flush:  # the first step: cuDNN/cuBLAS set-up may synchronise
                torch.cuda.set_sync_debug_mode("error")
            try:
                trainer.run_step()
            finally:
                torch.cuda.set_sync_debug_mode(debug)
        assert [it for _, it in storage.history("total_loss").values()] == list(range(10))
        storage.iter = trainer.iter = 14
        torch.cuda.set_sync_debug_mode("error")
        try:
            with pytest.raises(RuntimeError, match="synchroniz"):
                trainer.run_step()  # iteration 14 ends a period: the one host read
        finally:
            torch.cuda.set_sync_debug_mode(debug)
