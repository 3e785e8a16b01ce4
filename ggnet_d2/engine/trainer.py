"""GGNetTrainer: detectron2's DefaultTrainer wired for HOI data, GGNet's optimizer and CPU-only distributed training."""
import logging
import os
import weakref

import torch
from detectron2.data import build_detection_test_loader, build_detection_train_loader
from detectron2.engine import AMPTrainer, DefaultTrainer, SimpleTrainer, TrainerBase
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger
from torch.nn.parallel import DistributedDataParallel

from ggnet_d2.data import HOIDatasetMapper
from ggnet_d2.evaluation import build_hoi_evaluator
from ggnet_d2.modeling import GGNetCheckpointer
from ggnet_d2.modeling.meta_arch.dataset_facts import adopt_dataset_facts

__all__ = ["GGNetTrainer", "create_ddp_model"]


def create_ddp_model(model, **kwargs):
    """Wrap ``model`` in DistributedDataParallel when more than one process runs; CPU models get no device_ids.

    detectron2 v0.6's ``create_ddp_model`` always passes ``device_ids=[local_rank]``, which DDP rejects for CPU modules.
    """
    if comm.get_world_size() == 1:
        return model
    if next(model.parameters()).device.type == "cuda":
        kwargs.setdefault("device_ids", [comm.get_local_rank()])
    return DistributedDataParallel(model, **kwargs)


class GGNetTrainer(DefaultTrainer):
    """DefaultTrainer for GGNet (paper Sec. 4.2): Adam (or SGD), step schedule, HOIDatasetMapper, HOI evaluators.

    Everything else (hooks, periodic evaluation, checkpoints, console/JSON/TensorBoard writers, resume) is
    detectron2's. ``cfg.SOLVER.CLIP_GRADIENTS`` and ``cfg.SOLVER.AMP.ENABLED`` (CUDA only) work as in detectron2.
    """

    def __init__(self, cfg):
        # Same steps as DefaultTrainer.__init__, except for the DDP wrapper (CPU processes need device_ids=None).
        TrainerBase.__init__(self)
        if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
            setup_logger()
        cfg = DefaultTrainer.auto_scale_workers(cfg, comm.get_world_size())
        model = self.build_model(cfg)
        optimizer = self.build_optimizer(cfg, model)
        data_loader = self.build_train_loader(cfg)
        if len(cfg.DATASETS.TRAIN):
            adopt_dataset_facts(model, cfg.DATASETS.TRAIN[0])  # the training data is loaded now
        model = create_ddp_model(model, broadcast_buffers=False)
        trainer_cls = AMPTrainer if cfg.SOLVER.AMP.ENABLED else SimpleTrainer
        self._trainer = trainer_cls(model, data_loader, optimizer)
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        # GGNetCheckpointer also loads CenterNet/PPDM/GGNet reference checkpoints (MODEL.WEIGHTS), renaming their keys.
        self.checkpointer = GGNetCheckpointer(model, cfg.OUTPUT_DIR, trainer=weakref.proxy(self))
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    @classmethod
    def build_optimizer(cls, cfg, model):
        """Adam as in the paper (Sec. 4.2), or detectron2's SGD; optional gradient clipping.

        Raises:
            ValueError: for an unknown ``cfg.SOLVER.OPTIMIZER``.
        """
        params = get_default_optimizer_params(
            model,
            base_lr=cfg.SOLVER.BASE_LR,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
            bias_lr_factor=cfg.SOLVER.BIAS_LR_FACTOR,
            weight_decay_bias=cfg.SOLVER.WEIGHT_DECAY_BIAS,
        )
        name = cfg.SOLVER.OPTIMIZER.upper()
        if name == "ADAM":
            optimizer_cls, kwargs = torch.optim.Adam, {"weight_decay": cfg.SOLVER.WEIGHT_DECAY}
        elif name == "SGD":
            optimizer_cls = torch.optim.SGD
            kwargs = {"momentum": cfg.SOLVER.MOMENTUM, "nesterov": cfg.SOLVER.NESTEROV,
                      "weight_decay": cfg.SOLVER.WEIGHT_DECAY}
        else:
            raise ValueError(f"SOLVER.OPTIMIZER must be 'ADAM' or 'SGD', got {cfg.SOLVER.OPTIMIZER!r}")
        return maybe_add_gradient_clipping(cfg, optimizer_cls)(params, lr=cfg.SOLVER.BASE_LR, **kwargs)

    @classmethod
    def build_train_loader(cls, cfg):
        return build_detection_train_loader(cfg, mapper=HOIDatasetMapper(cfg, is_train=True))

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        return build_detection_test_loader(cfg, dataset_name, mapper=HOIDatasetMapper(cfg, is_train=False))

    @classmethod
    def test(cls, cfg, model, evaluators=None):
        """DefaultTrainer.test, after checking the model against each test dataset (person class) and giving it the
        first one's correspondence where it has none (``adopt_dataset_facts``)."""
        for name in cfg.DATASETS.TEST:
            adopt_dataset_facts(model, name)
        return super().test(cfg, model, evaluators)

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        if output_folder is None:
            output_folder = os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        return build_hoi_evaluator(cfg, dataset_name, output_folder)
