"""GGNetTrainer: detectron2's DefaultTrainer wired for HOI data, GGNet's optimizer and CPU-only distributed training."""
import logging
import os
import weakref

import torch
from detectron2.data import build_detection_test_loader, build_detection_train_loader
from detectron2.engine import DefaultTrainer, TrainerBase
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm
from detectron2.utils.env import seed_all_rng
from detectron2.utils.logger import setup_logger
from torch.nn.parallel import DistributedDataParallel

from ggnet_d2.config_choices import OPTIMIZER_ADAM, resolve_choice
from ggnet_d2.data import HOIDatasetMapper
from ggnet_d2.data.replacing_map_dataset import ReplacingMapDataset
from ggnet_d2.data.zero_shot import (check_model_zero_shot_restriction, zero_shot_mapper_overrides,
                                     zero_shot_train_dicts)
from ggnet_d2.evaluation import build_hoi_evaluator
from ggnet_d2.modeling import GGNetCheckpointer

from .batch_scaling import fit_batch_to_world_size
from .dataset_facts import adopt_dataset_facts
from .deferred_metrics import build_step_trainer
from .device_checks import check_amp_device, check_model_device, check_outputs_on_first_forward
from .early_progress import EarlyProgress
from .hooks import FiniteCheckHook
from .speed import apply_speed_options, check_amp_precision

__all__ = ["GGNetTrainer", "create_ddp_model", "scale_glance_lr"]

logger = logging.getLogger(__name__)


def create_ddp_model(model, **kwargs):
    """Wrap ``model`` in DistributedDataParallel when more than one process runs; CPU models get no device_ids.

    detectron2 v0.6's ``create_ddp_model`` always passes ``device_ids=[local_rank]``, which DDP rejects for CPU modules.
    """
    if comm.get_world_size() == 1:
        return model
    if next(model.parameters()).device.type == "cuda":
        kwargs.setdefault("device_ids", [comm.get_local_rank()])
    return DistributedDataParallel(model, **kwargs)


def scale_glance_lr(param_groups, model, factor):
    """Multiply the LR of the glance parameters (``model.glance_parameters()``: ``glance_conv``, ``glance_cls`` of
    every GlanceGazeHead) by ``factor``, splitting optimizer param groups where needed.

    The authors' ``--recover_loss_weight`` (src/main.py): every parameter whose name contains "hm_rel" -- the glance
    head; the gaze modules are named refine_* / hm_dcn -- gets lr / refine_weight = 10x, and every LR drop multiplies
    each group by 0.1, which detectron2's LRMultiplier also does (it scales each group's initial LR).

    Args:
        param_groups (list[dict]): from ``get_default_optimizer_params`` (each with "params" and "lr").
        model (nn.Module): the model those parameters belong to, with ``glance_parameters()`` (GGNet; a
            DistributedDataParallel wrapper is unwrapped).
        factor (float): LR multiplier.

    Returns:
        list[dict]: new param groups (the input when ``factor == 1``).
    """
    if factor == 1.0:
        return param_groups
    glance = {id(p) for p in getattr(model, "module", model).glance_parameters()}
    groups = []
    for group in param_groups:
        inside = [p for p in group["params"] if id(p) in glance]
        outside = [p for p in group["params"] if id(p) not in glance]
        if outside:
            groups.append({**group, "params": outside})
        if inside:
            groups.append({**group, "params": inside, "lr": group["lr"] * factor})
    return groups


class GGNetTrainer(DefaultTrainer):
    """DefaultTrainer for GGNet (paper Sec. 4.2): Adam (or SGD), step schedule, HOIDatasetMapper, HOI evaluators.

    Everything else (hooks, periodic evaluation, checkpoints, console/JSON/TensorBoard writers, resume) is
    detectron2's; its step trainer reads the losses to the host once per SOLVER.METRICS_SYNC_PERIOD iterations
    instead of every step (``deferred_metrics.py``: the same logged values). ``cfg.SOLVER.CLIP_GRADIENTS`` and
    ``cfg.SOLVER.AMP.ENABLED`` (CUDA only) work as in detectron2.
    With ``cfg.SEED >= 0`` the python/numpy/torch generators are seeded with SEED + rank before the model is built
    (as detectron2's ``default_setup``), so a run on one machine with one thread count repeats exactly on the CPU.
    """

    def __init__(self, cfg):
        # DefaultTrainer.__init__'s steps, in its order, with three changes for which detectron2 v0.6 has no
        # extension point (its other steps are the build_* classmethods, which we override where needed):
        # - DDP: it calls the module-global `detectron2.engine.defaults.create_ddp_model`, which always passes
        #   device_ids=[local_rank]; DistributedDataParallel rejects device_ids for CPU modules (gloo processes).
        # - batch: it calls `DefaultTrainer.auto_scale_workers` by class name (an override would not be used); we
        #   call it too, then fit IMS_PER_BATCH to the world size (batch_scaling.py; a no-op after setup_cfg).
        # - checkpointer: it constructs DetectionCheckpointer directly; GGNet needs GGNetCheckpointer, which also
        #   loads CenterNet/PPDM/GGNet reference checkpoints (MODEL.WEIGHTS), and the periodic-checkpoint hook built
        #   in build_hooks() must hold that same object.
        # Replacing attributes after DefaultTrainer.__init__ instead would build the DDP wrapper (and fail) first.
        TrainerBase.__init__(self)
        if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
            setup_logger()
        world_size = comm.get_world_size()
        cfg = fit_batch_to_world_size(DefaultTrainer.auto_scale_workers(cfg, world_size), world_size)
        check_amp_precision(cfg)
        check_amp_device(cfg)
        s = cfg.SOLVER
        logger.info(f"Batch: {s.IMS_PER_BATCH} images per iteration = {world_size} process(es) x "
                    f"{s.IMS_PER_BATCH // world_size}; BASE_LR {s.BASE_LR:g} (glance x {s.GLANCE_LR_FACTOR:g}), "
                    f"MAX_ITER {s.MAX_ITER}, STEPS {tuple(s.STEPS)}, AMP {s.AMP.ENABLED}, device {cfg.MODEL.DEVICE}")
        if cfg.SEED >= 0:
            # Here and not only in default_setup (train_net.py): the quickstart and tests build trainers without it.
            # Weight init, the sampler's shuffle (comm.shared_random_seed), augmentation and the DataLoader
            # workers' seeds (worker_init_reset_seed, from torch's RNG) all draw from these generators.
            seed_all_rng(cfg.SEED + comm.get_rank())
        logger.info(f"Building the model ({cfg.MODEL.META_ARCHITECTURE}, {cfg.MODEL.BACKBONE.NAME})")
        model = self.build_model(cfg)
        check_model_device(model, cfg.MODEL.DEVICE)
        check_outputs_on_first_forward(model, cfg.MODEL.DEVICE)
        optimizer = self.build_optimizer(cfg, model)
        logger.info(f"Reading the training data: {', '.join(cfg.DATASETS.TRAIN)}")
        data_loader = self.build_train_loader(cfg)
        if len(cfg.DATASETS.TRAIN):
            adopt_dataset_facts(model, cfg.DATASETS.TRAIN[0])  # the training data is loaded now
        model = create_ddp_model(model, broadcast_buffers=False)
        # float16: detectron2's AMPTrainer; bfloat16: GGNet autocasts its own forward (SimpleTrainer, no scaler);
        # either with the losses read to the host once per SOLVER.METRICS_SYNC_PERIOD, not every step
        amp_trainer = cfg.SOLVER.AMP.ENABLED and cfg.SOLVER.AMP.PRECISION == "float16"
        self._trainer = build_step_trainer(model, data_loader, optimizer, amp=amp_trainer,
                                           period=cfg.SOLVER.METRICS_SYNC_PERIOD, max_iter=cfg.SOLVER.MAX_ITER)
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        # GGNetCheckpointer also loads CenterNet/PPDM/GGNet reference checkpoints (MODEL.WEIGHTS), renaming their keys.
        self.checkpointer = GGNetCheckpointer(model, cfg.OUTPUT_DIR, trainer=weakref.proxy(self),
                                              allow_partial=cfg.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL)
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    @classmethod
    def build_model(cls, cfg):
        """DefaultTrainer.build_model, then the speed options (``apply_speed_options``: channels-last, compile)."""
        return apply_speed_options(super().build_model(cfg), cfg)

    def build_hooks(self):
        """DefaultTrainer's hooks plus ``FiniteCheckHook`` (the deformable convolutions' deferred finite check) and
        :class:`EarlyProgress` (iterations 1, 2, 3, 5 and 10 logged)."""
        return [*super().build_hooks(), FiniteCheckHook(self.cfg.SOLVER.FINITE_CHECK_PERIOD), EarlyProgress()]

    def flush_metrics(self):
        """Write the losses the step trainer still holds on the device to the event storage (one host read;
        ``DeferredMetricsMixin.flush_metrics``). Raises detectron2's FloatingPointError for a non-finite one."""
        self._trainer.flush_metrics()

    def after_train(self):
        """The losses of the last iterations of an interrupted run are written before the writers close."""
        try:
            self.flush_metrics()
        finally:
            super().after_train()

    @classmethod
    def build_optimizer(cls, cfg, model):
        """Adam as in the paper (Sec. 4.2), or detectron2's SGD; optional gradient clipping; the glance parameters'
        LR times SOLVER.GLANCE_LR_FACTOR (the authors' --recover_loss_weight, ``scale_glance_lr``).

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
        params = scale_glance_lr(params, model, cfg.SOLVER.GLANCE_LR_FACTOR)
        if resolve_choice("SOLVER.OPTIMIZER", cfg.SOLVER.OPTIMIZER) == OPTIMIZER_ADAM:
            optimizer_cls, kwargs = torch.optim.Adam, {"weight_decay": cfg.SOLVER.WEIGHT_DECAY}
            if cfg.SOLVER.ADAM_FUSED:
                kwargs["fused"] = True
        else:
            optimizer_cls = torch.optim.SGD
            kwargs = {"momentum": cfg.SOLVER.MOMENTUM, "nesterov": cfg.SOLVER.NESTEROV,
                      "weight_decay": cfg.SOLVER.WEIGHT_DECAY}
        return maybe_add_gradient_clipping(cfg, optimizer_cls)(params, lr=cfg.SOLVER.BASE_LR, **kwargs)

    @classmethod
    def build_train_loader(cls, cfg):
        """detectron2's training loader (its sampler, batching and workers from cfg) over a
        :class:`ReplacingMapDataset`: an image the mapper skips is replaced by another one, on any Python and
        detectron2 version (v0.6's own retry fails on Python >= 3.11). Under a zero-shot split the dataset is the
        training set without the unseen HOI classes, and hard negatives come from the seen classes (zero_shot.py)."""
        dataset = zero_shot_train_dicts(cfg) if cfg.DATASETS.HOI.ZERO_SHOT_SPLIT else None
        mapper = HOIDatasetMapper(cfg, is_train=True, **zero_shot_mapper_overrides(cfg))
        args = build_detection_train_loader.from_config(cfg, mapper=mapper, dataset=dataset)
        args["dataset"] = ReplacingMapDataset(args["dataset"], args["mapper"])
        args["mapper"] = None
        return build_detection_train_loader(**args)

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        return build_detection_test_loader(cfg, dataset_name, mapper=HOIDatasetMapper(cfg, is_train=False))

    @classmethod
    def test(cls, cfg, model, evaluators=None):
        """DefaultTrainer.test, after checking the model against each test dataset (person class) and giving it the
        first one's correspondence where it has none (``adopt_dataset_facts``); under a zero-shot split, checking
        that this correspondence admits every unseen class (``check_model_zero_shot_restriction``)."""
        for name in cfg.DATASETS.TEST:
            adopt_dataset_facts(model, name)
            check_model_zero_shot_restriction(model, cfg, name)  # logs it; refuses one suppressing unseen classes
        return super().test(cfg, model, evaluators)

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        if output_folder is None:
            output_folder = os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        return build_hoi_evaluator(cfg, dataset_name, output_folder)
