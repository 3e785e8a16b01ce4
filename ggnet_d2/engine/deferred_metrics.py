"""Training losses logged without a host read per step (issue 24): detectron2's step trainers, extended.

detectron2's ``SimpleTrainer.run_step`` (and ``AMPTrainer``'s) hands the step's loss dict to ``_write_metrics``,
which reads every loss to the host (``v.detach().cpu().item()``): on CUDA one synchronisation per step, which stalls
the CPU until the step's kernels are done instead of letting it queue the next step. The writers only print every 20
iterations (``PeriodicWriter`` in ``DefaultTrainer.build_hooks``), each value the median of the last 20 iterations.

``DeferredMetricsMixin`` keeps each step's detached losses on the device and moves all of them to the host in one
copy every ``period`` iterations (``SOLVER.METRICS_SYNC_PERIOD``), at the last iteration, and when asked
(``flush_metrics``). The flush hands each buffered iteration to detectron2's own ``_write_metrics`` with the
event storage's iteration set to that iteration (``EventStorage.iter``, restored afterwards; newer detectron2 also
gets ``iter=``), so every scalar lands in the storage under its own iteration exactly as the per-step writer puts
it: same values, same iterations, same medians in ``metrics.json`` and the console -- provided a flush precedes each
writer output, i.e. ``period`` divides 20 (``check_metrics_sync_period``). detectron2's ``FloatingPointError``
("Loss became infinite or NaN at iteration=<i>!") is raised by that same code, naming the iteration, at the latest
at the flush that follows it. ``period == 1`` is detectron2's per-step behaviour.
"""
import torch
from detectron2.engine import AMPTrainer, SimpleTrainer
from detectron2.utils.events import get_event_storage

from ggnet_d2.utils.detectron2_variant import write_metrics_takes_iter

__all__ = ["DeferredMetricsMixin", "DeferredSimpleTrainer", "DeferredAMPTrainer", "WRITER_PERIOD",
           "check_metrics_sync_period", "build_step_trainer"]

# detectron2's DefaultTrainer.build_hooks: PeriodicWriter(self.build_writers(), period=20), a literal in its code
WRITER_PERIOD = 20


def check_metrics_sync_period(period):
    """Raise ValueError unless ``period`` is a positive integer dividing ``WRITER_PERIOD`` (1, 2, 4, 5, 10, 20): any
    other period would leave the writers, which print every 20 iterations, with losses not yet read."""
    if isinstance(period, bool) or not isinstance(period, int) or period < 1 or WRITER_PERIOD % period:
        divisors = [d for d in range(1, WRITER_PERIOD + 1) if WRITER_PERIOD % d == 0]
        raise ValueError(f"SOLVER.METRICS_SYNC_PERIOD = {period!r}: must divide {WRITER_PERIOD}, detectron2's writer "
                         f"period, so that every printed median sees all its losses: one of {divisors}")


class DeferredMetricsMixin:
    """Overrides ``_write_metrics`` of a detectron2 step trainer (module docstring). Put it before the trainer class
    in the bases; call ``configure_metrics_sync`` after construction (until then it writes every step).

    Attributes:
        metrics_sync_period (int): iterations between host reads (1: detectron2's per-step read).
        metrics_max_iter (int | None): the run's MAX_ITER; its last iteration always flushes.
    """

    metrics_sync_period = 1
    metrics_max_iter = None

    def configure_metrics_sync(self, period, max_iter):
        """Set the period (``check_metrics_sync_period``: ValueError unless it divides 20) and the last iteration."""
        check_metrics_sync_period(period)
        self.metrics_sync_period, self.metrics_max_iter = period, max_iter
        self._pending_metrics = []

    def _write_metrics(self, loss_dict, data_time, prefix="", iter=None):  # noqa: A002 -- detectron2's name
        """Buffer the step's losses (detached, still on their device: no host read) and flush on a period
        boundary; with period 1 and nothing buffered, detectron2's per-step writer.

        Args:
            loss_dict (dict[str, Tensor]): one-element loss tensors. data_time (float): seconds.
            prefix (str): key prefix (detectron2's). iter (int | None): the step's iteration (newer detectron2's
                asynchronous writer passes it); default ``self.iter``.

        Raises:
            ValueError: a loss with other than one element (detectron2's ``.item()`` would fail on it).
            FloatingPointError: at a flush, detectron2's, for the first buffered iteration with a non-finite sum.
        """
        pending = getattr(self, "_pending_metrics", [])
        if self.metrics_sync_period == 1 and not pending:
            extra = {} if iter is None else {"iter": iter}
            return super()._write_metrics(loss_dict, data_time, prefix, **extra)
        it = self.iter if iter is None else iter
        bad = [k for k, v in loss_dict.items() if v.numel() != 1]
        if bad:
            raise ValueError(f"losses {bad} are not scalars: the trainer logs one value per loss and iteration")
        pending.append((it, {k: v.detach() for k, v in loss_dict.items()}, data_time, prefix))
        self._pending_metrics = pending
        last = self.metrics_max_iter is not None and it + 1 >= self.metrics_max_iter
        if (it + 1) % self.metrics_sync_period == 0 or last:
            self.flush_metrics()
        return None

    def flush_metrics(self):
        """Move every buffered loss to the host (one copy per device and dtype, normally one in all) and write each
        buffered iteration through detectron2's ``_write_metrics`` under its own iteration. A no-op when nothing
        is buffered.

        Raises:
            FloatingPointError: detectron2's, naming the first buffered iteration whose losses sum to inf or NaN
                (the iterations before it are written).
        """
        pending, self._pending_metrics = getattr(self, "_pending_metrics", []), []
        if not pending:
            return
        host = _to_host([v for _, losses, _, _ in pending for v in losses.values()])
        storage = get_event_storage()
        current, takes_iter, pos = storage.iter, write_metrics_takes_iter(), 0
        try:
            for it, losses, data_time, prefix in pending:
                on_host = dict(zip(losses, host[pos:pos + len(losses)]))
                pos += len(losses)
                storage.iter = it  # detectron2 v0.6 puts the scalars under (and names in its error) storage.iter
                extra = {"iter": it} if takes_iter else {}
                super()._write_metrics(on_host, data_time, prefix, **extra)
        finally:
            storage.iter = current


def _to_host(values):
    """CPU copies of one-element tensors, in order: one ``torch.stack(...).cpu()`` per (device, dtype) group, so a
    CUDA run synchronises once however many losses and iterations are buffered. No dtype conversion: the host
    values are exactly the device ones.

    Returns:
        list[Tensor]: 0-dim CPU tensors.
    """
    groups = {}
    for i, v in enumerate(values):
        groups.setdefault((v.device, v.dtype), []).append(i)
    out = [None] * len(values)
    for indices in groups.values():
        stacked = torch.stack([values[i].reshape(()) for i in indices]).cpu()  # the host read
        for i, v in zip(indices, stacked):
            out[i] = v
    return out


class DeferredSimpleTrainer(DeferredMetricsMixin, SimpleTrainer):
    """detectron2's ``SimpleTrainer`` with the deferred loss read (``DeferredMetricsMixin``)."""


class DeferredAMPTrainer(DeferredMetricsMixin, AMPTrainer):
    """detectron2's ``AMPTrainer`` (float16 autocast, loss scaling) with the deferred loss read."""


def build_step_trainer(model, data_loader, optimizer, *, amp, period, max_iter):
    """The step trainer GGNetTrainer drives: ``DeferredAMPTrainer`` when ``amp`` (float16), else
    ``DeferredSimpleTrainer``, configured with ``period`` (SOLVER.METRICS_SYNC_PERIOD) and ``max_iter``.

    Raises:
        ValueError: ``period`` does not divide 20 (``check_metrics_sync_period``).
    """
    trainer = (DeferredAMPTrainer if amp else DeferredSimpleTrainer)(model, data_loader, optimizer)
    trainer.configure_metrics_sync(period, max_iter)
    return trainer
