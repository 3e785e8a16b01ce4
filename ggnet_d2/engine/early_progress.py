"""Progress lines for the first training iterations, before detectron2's writer prints its first one."""
import logging
import time

from detectron2.engine import HookBase

__all__ = ["EarlyProgress"]

logger = logging.getLogger(__name__)


class EarlyProgress(HookBase):
    """Logs iterations 1, 2, 3, 5 and 10 of a run (time since the start of training, the last step's time and
    ``total_loss``).

    detectron2's ``PeriodicWriter`` prints every 20 iterations; on a CPU a large model's first 20 iterations took
    minutes without a line, which reads as a hang. A trainer with ``flush_metrics`` (GGNetTrainer, whose losses stay
    on the device between periods) is asked to write its buffered losses first: one host read at each of these
    iterations, none later.

    Args:
        iterations (tuple[int]): which iterations of this run (counted from its first, resumed or not) to log.
    """

    def __init__(self, iterations=(1, 2, 3, 5, 10)):
        self.iterations = set(iterations)
        self._start = self._step = None

    def before_train(self):
        self._start = time.perf_counter()
        logger.info(f"Training from iteration {self.trainer.start_iter} to {self.trainer.max_iter}: the first "
                    "iteration also starts the data-loader workers; iterations "
                    f"{', '.join(map(str, sorted(self.iterations)))} are logged, then detectron2's writer takes over")

    def before_step(self):
        self._step = time.perf_counter()

    def after_step(self):
        n = self.trainer.iter + 1 - self.trainer.start_iter
        if n not in self.iterations or self._step is None:
            return
        now = time.perf_counter()
        flush = getattr(self.trainer, "flush_metrics", None)
        if flush is not None:  # GGNetTrainer reads the losses once per period: these 5 iterations read theirs now
            flush()
        try:
            loss = f"; total_loss {self.trainer.storage.history('total_loss').latest():.4g}"
        except KeyError:
            loss = ""
        logger.info(f"iteration {self.trainer.iter + 1}/{self.trainer.max_iter}: {now - self._start:.1f} s since the "
                    f"start of training, this iteration {now - self._step:.2f} s{loss}")
