#!/usr/bin/env python
"""Train or evaluate GGNet with detectron2 (like detectron2's tools/train_net.py).

    python train_net.py --config-file configs/GGNet_DLA34_HICO.yaml --num-gpus 8
    python train_net.py --config-file configs/GGNet_DLA34_HICO.yaml --eval-only MODEL.WEIGHTS model_final.pth

On a machine without GPUs ``--num-gpus N`` starts N CPU processes with the gloo backend (through detectron2's launch
where it supports that, else through torchrun).
"""
from detectron2.engine import default_argument_parser
from detectron2.evaluation import verify_results

from ggnet_d2.engine import GGNetTrainer, launch_hoi, setup_cfg
from ggnet_d2.modeling.checkpoint import load_inference_weights


def main(args):
    cfg = setup_cfg(args.config_file, args.opts, args)
    if args.eval_only:
        model = GGNetTrainer.build_model(cfg)
        load_inference_weights(model, cfg, resume=args.resume)  # refuses partly random weights
        results = GGNetTrainer.test(cfg, model)
        verify_results(cfg, results)
        return results
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


if __name__ == "__main__":
    args = default_argument_parser().parse_args()
    print("Command Line Args:", args)
    launch_hoi(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )
