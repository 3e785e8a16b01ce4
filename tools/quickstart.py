#!/usr/bin/env python
"""The main job on the embedded default (``make quickstart``): train a light GGNet on the synthetic HOI dataset on
CPU, evaluate it on the held-out split with the generic HOI evaluator, and draw a few predictions.

Idempotent: a finished run is resumed from its last checkpoint (training is skipped) and evaluated again.
Writes everything under ``--output`` (default ``output/quickstart``).
"""
import argparse
import glob
import os
import platform
import subprocess
import sys
import time

from detectron2.utils.logger import setup_logger

from ggnet_d2.engine import GGNetTrainer, setup_cfg
from ggnet_d2.utils.cpu_info import describe_cpu

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, "configs", "quickstart", "GGNet_R18_synth.yaml")
# The README's quickstart time per training iteration (section "Set-up: two commands"; keep the two in step): 800
# iterations of batch 16 in 8.2 minutes of training and evaluation on an idle 2-core AMD EPYC Zen 5 (the README's first
# row, which gives 0.54-0.70 s over its five runs), 2 threads.
README_SECONDS_PER_ITER = 0.61
# The torch thread count of the README's figures: reductions split by thread, so another count gives another mAP.
README_THREADS = 2
# Above this multiple of the README's time the run is named slow: the machine, not the code (issue 25 measured 1.7x
# on a loaded machine of the same kind).
SLOW_FACTOR = 1.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", default=DEFAULT_CONFIG, help="config to train and evaluate")
    parser.add_argument("--output", default=os.path.join(REPO, "output", "quickstart"),
                        help="OUTPUT_DIR: checkpoints, log.txt, visualizations/")
    parser.add_argument("--num-vis", type=int, default=8, help="test images to visualize")
    parser.add_argument("--threads", type=int, default=README_THREADS,
                        help="torch intra-op threads; the result depends on it, and the README's figure is for "
                             f"{README_THREADS} (0: torch's default, one per core)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE pairs")
    args = parser.parse_args()

    start = time.time()
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    setup_logger(output=args.output, name="detectron2")
    setup_logger(output=args.output, name="ggnet_d2")
    cfg = setup_cfg(args.config_file, ["OUTPUT_DIR", args.output, *args.opts])
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "config.yaml"), "w") as f:
        f.write(cfg.dump())

    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=True)
    seconds_per_iter = None
    if trainer.start_iter < cfg.SOLVER.MAX_ITER:
        trainer.train()  # ends with detectron2's EvalHook evaluating DATASETS.TEST
        results = trainer._last_eval_results
        seconds_per_iter = _seconds_per_iter(trainer)
    else:  # a finished run: evaluate its final model again
        results = GGNetTrainer.test(cfg, trainer.model)
    train_seconds = time.time() - start

    vis_dir = os.path.join(args.output, "visualizations")
    test_images = sorted(glob.glob(os.path.join(_synthetic_image_dir(cfg), "*.png")))[: args.num_vis]
    subprocess.run(
        [sys.executable, os.path.join(REPO, "demo", "demo.py"), "--config-file", os.path.join(args.output, "config.yaml"),
         "--input", *test_images, "--output", vis_dir, "--confidence-threshold", "0.05", "--show-actpoints",
         "--opts", "MODEL.WEIGHTS", os.path.join(cfg.OUTPUT_DIR, "model_final.pth")],
        check=True,
    )
    total = time.time() - start
    hoi = results.get(cfg.DATASETS.TEST[0], results).get("hoi", {})
    print(summary(hoi.get("mAP_default_full", float("nan")), train_seconds, total, seconds_per_iter, cfg.SEED))
    print(f"[quickstart] visualizations in {vis_dir}")


def machine_description():
    """'<CPU model (family, model, ISA)>, <n> torch threads, <m> cores available, load <1-min load average>, kernels
    <ATen's instruction set>' (Linux: /proc/cpuinfo, read by ``describe_cpu``)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = describe_cpu(f.read()) or model
    except OSError:
        pass
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    # the instruction set of ATen's kernels (AVX512, AVX2, ...): a seeded figure depends on it (README)
    isa = torch.backends.cpu.get_cpu_capability()
    return f"{model}, {torch.get_num_threads()} torch threads, {cores} cores available{load}, kernels {isa}"


def summary(map_default_full, train_seconds, total_seconds, seconds_per_iter, seed):
    """The quickstart's closing lines: mAP, wall times, seconds per iteration, CPU and threads, and a warning when an
    iteration took more than SLOW_FACTOR x the README's time (``seconds_per_iter`` None: no training in this run)."""
    lines = [f"[quickstart] held-out HOI mAP (Default, Full) = {map_default_full:.2f} (SEED {seed}); "
             f"training+evaluation {train_seconds / 60:.1f} min, total {total_seconds / 60:.1f} min wall"]
    if seconds_per_iter is None:
        lines.append("[quickstart] no training in this run (the finished run was evaluated again)")
    else:
        lines.append(f"[quickstart] {seconds_per_iter:.3f} s per iteration (README: {README_SECONDS_PER_ITER:.2f} s)")
    lines.append(f"[quickstart] CPU: {machine_description()}")
    if seconds_per_iter is not None and seconds_per_iter > SLOW_FACTOR * README_SECONDS_PER_ITER:
        lines.append(f"[quickstart] WARNING: {seconds_per_iter / README_SECONDS_PER_ITER:.1f}x the README's time per "
                     "iteration: this machine is slower or busier than the one measured (an idle 2-core AMD EPYC "
                     "Zen 5); the mAP does not depend on speed, but it does on the CPU generation and the torch "
                     "thread count (README).")
    return "\n".join(lines)


def _seconds_per_iter(trainer):
    """Mean step time that detectron2's IterationTimer recorded (its warm-up iterations excluded)."""
    history = trainer.storage.histories().get("time")
    return history.global_avg() if history is not None and history.values() else None


def _synthetic_image_dir(cfg):
    from detectron2.data import MetadataCatalog

    return MetadataCatalog.get(cfg.DATASETS.TEST[0]).image_root


if __name__ == "__main__":
    main()
