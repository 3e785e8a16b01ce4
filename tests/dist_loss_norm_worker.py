"""Worker for tests/test_loss_normalization.py: trains a tiny GGNet for 3 SGD iterations on fixed images, either in N
gloo processes with ``--per-process-batch`` b each or in one process with batch N*b, and writes (rank 0) the logged
losses per iteration and the parameters before training, after the first step and at the end. Not a test module.

Iteration i uses images [i*N*b, (i+1)*N*b) of synth_hoi_train; process r takes its r-th slice of b, so both runs
see the same images. No augmentation (the mapper is deterministic), BatchNorm frozen (batch statistics would depend
on the per-process batch), plain SGD (Adam's first step is nearly sign(grad) and would hide a wrong loss scale).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from detectron2.data import DatasetCatalog  # noqa: E402
from detectron2.engine import HookBase  # noqa: E402
from detectron2.layers import FrozenBatchNorm2d  # noqa: E402
from detectron2.utils import comm  # noqa: E402

from ggnet_d2.data import HOIDatasetMapper  # noqa: E402
from ggnet_d2.engine import GGNetTrainer, launch_hoi, setup_cfg  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITERS = 3


def _opts(total_batch, out):
    return [
        "INPUT.GGNET.INPUT_SIZE", "64", "INPUT.GGNET.TEST_SIZE", "64", "INPUT.GGNET.SCALE_RANGE", "(1.0, 1.0)",
        "INPUT.GGNET.SHIFT", "0.0", "INPUT.GGNET.FLIP_PROB", "0.0", "INPUT.GGNET.COLOR_JITTER", "0.0",
        "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[32, 32, 32]", "MODEL.GGNET.HEAD_CONV", "16",
        "SOLVER.OPTIMIZER", "SGD", "SOLVER.MOMENTUM", "0.0", "SOLVER.WEIGHT_DECAY", "0.0", "SOLVER.BASE_LR", "0.05",
        "SOLVER.IMS_PER_BATCH", str(total_batch), "SOLVER.MAX_ITER", str(ITERS), "SOLVER.STEPS", "()",
        "SOLVER.CHECKPOINT_PERIOD", "100000", "DATALOADER.NUM_WORKERS", "0", "DATASETS.TEST", "()",
        "MODEL.DEVICE", "cpu", "OUTPUT_DIR", out,
    ]


class FixedBatchTrainer(GGNetTrainer):
    @classmethod
    def build_model(cls, cfg):
        torch.manual_seed(0)  # the same initial weights in both runs (DDP also broadcasts rank 0's)
        return FrozenBatchNorm2d.convert_frozen_batchnorm(super().build_model(cfg))

    @classmethod
    def build_train_loader(cls, cfg):
        world, rank = comm.get_world_size(), comm.get_rank()
        total = cfg.SOLVER.IMS_PER_BATCH
        b = total // world
        dicts = DatasetCatalog.get("synth_hoi_train")[:ITERS * total]
        mapper = HOIDatasetMapper(cfg, is_train=True)

        def batches():
            for i in range(ITERS):
                yield [mapper(d) for d in dicts[i * total + rank * b:i * total + (rank + 1) * b]]

        return batches()


class SnapshotAfterFirstStep(HookBase):
    def __init__(self, out):
        self.out = out

    def after_step(self):
        if self.trainer.iter == 0 and comm.is_main_process():
            torch.save(_params(self.trainer.model), os.path.join(self.out, "params_step1.pth"))


def _params(model):
    model = model.module if hasattr(model, "module") else model
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def main(args):
    world = comm.get_world_size()
    cfg = setup_cfg(os.path.join(REPO, "configs", "quickstart", "GGNet_R18_synth.yaml"),
                    _opts(args.per_process_batch * world, args.out))
    trainer = FixedBatchTrainer(cfg)
    trainer.register_hooks([SnapshotAfterFirstStep(args.out)])
    if comm.is_main_process():
        torch.save(_params(trainer.model), os.path.join(args.out, "params_init.pth"))
    trainer.train()
    if comm.is_main_process():
        torch.save(_params(trainer.model), os.path.join(args.out, "params_final.pth"))
        history = trainer.storage.histories()
        losses = {k: [v for v, _ in h.values()] for k, h in history.items() if k.startswith(("loss_", "total_loss"))}
        with open(os.path.join(args.out, "losses.json"), "w") as f:
            json.dump({"world_size": world, "batch": cfg.SOLVER.IMS_PER_BATCH, "losses": losses}, f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-gpus", type=int, default=2)
    parser.add_argument("--per-process-batch", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    launch_hoi(main, args.num_gpus, dist_url="auto", args=(args,))
