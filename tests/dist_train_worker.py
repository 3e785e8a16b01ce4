"""Worker for tests/test_engine.py: trains a tiny GGNet for a few iterations in N processes (launch_hoi) and writes, per
rank, the image ids its data loader yielded and the final parameters. Not a test module itself."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from detectron2.utils import comm  # noqa: E402

from ggnet_d2.engine import GGNetTrainer, launch_hoi, setup_cfg  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [
    "INPUT.GGNET.INPUT_SIZE", "64", "INPUT.GGNET.TEST_SIZE", "64", "SOLVER.IMS_PER_BATCH", "4", "SOLVER.MAX_ITER", "3",
    "SOLVER.STEPS", "(2,)", "DATALOADER.NUM_WORKERS", "0", "DATASETS.TEST", "()", "SEED", "7",
    "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[32, 32, 32]", "MODEL.GGNET.HEAD_CONV", "16",
]


class RecordingTrainer(GGNetTrainer):
    seen_image_ids = []

    @classmethod
    def build_train_loader(cls, cfg):
        loader = super().build_train_loader(cfg)

        def recorded():
            for batch in loader:
                cls.seen_image_ids.extend(int(d["image_id"]) for d in batch)
                yield batch

        return recorded()


def main(args):
    cfg = setup_cfg(os.path.join(REPO, "configs", "quickstart", "GGNet_R18_synth.yaml"),
                    TINY + ["OUTPUT_DIR", args.out])
    trainer = RecordingTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    model = trainer.model.module if hasattr(trainer.model, "module") else trainer.model
    rank = comm.get_rank()
    # Parameters only: BatchNorm running statistics are rank-local (broadcast_buffers=False, as in detectron2), and
    # checkpoints are written by rank 0.
    params = {k: v.detach().cpu() for k, v in model.named_parameters()}
    torch.save(params, os.path.join(args.out, f"rank{rank}.pth"))
    with open(os.path.join(args.out, f"rank{rank}.json"), "w") as f:
        json.dump({"world_size": comm.get_world_size(), "image_ids": RecordingTrainer.seen_image_ids}, f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-gpus", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    launch_hoi(main, args.num_gpus, dist_url="auto", args=(args,))
