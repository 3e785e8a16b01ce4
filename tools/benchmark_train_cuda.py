#!/usr/bin/env python
"""Training speed, peak memory and operator placement of a GGNet config on synthetic data, AMP off and/or on.

    python tools/benchmark_train_cuda.py --config-file configs/GGNet_DLA34_HICO.yaml --iters 50 --amp both
    python tools/benchmark_train_cuda.py --config-file configs/GGNet_DLA34_HICO.yaml --device cpu --iters 2 \
        --batch 2 --amp off     # a slow smoke run where there is no GPU

Per AMP setting: builds the model and optimizer exactly as GGNetTrainer does (build_model / build_optimizer), runs
``--warmup`` then ``--iters`` steps of detectron2's SimpleTrainer / AMPTrainer as GGNetTrainer extends them
(``build_step_trainer``: the losses read to the host once per SOLVER.METRICS_SYNC_PERIOD) on
one fixed batch of synthetic images and targets (random boxes and HOIs through the real target builder, so every
loss is active), and prints iterations/s, images/s and torch.cuda.max_memory_allocated. Then one more step runs under
``ggnet_d2.utils.op_census.OpCensus`` (the device of every ATen operator, forward and backward: CPU compute or mixed
CPU/CUDA operators are CPU fallbacks) and ``torch.profiler`` (self time per device type, top kernels). ``--strict``
exits with status 1 if any CPU fallback ran. ``--json-out`` writes all figures.

``--fastest`` adds the fastest exact configuration (README, "Training speed": MODEL.CHANNELS_LAST, bfloat16 AMP with
the deformable convolutions and losses in float32, SOLVER.ADAM_FUSED, cuDNN benchmark on CUDA, and with
``--compile`` MODEL.COMPILE) and prints every setting side by side. On the CPU it runs as a smoke test.

Timings are only meaningful on an otherwise idle machine.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from detectron2.utils.events import EventStorage  # noqa: E402

from ggnet_d2.config_choices import GAZE_TARGET_SHARP  # noqa: E402
from ggnet_d2.data.targets import build_ggnet_targets  # noqa: E402
from ggnet_d2.engine import GGNetTrainer, setup_cfg  # noqa: E402
from ggnet_d2.engine.deferred_metrics import build_step_trainer  # noqa: E402
from ggnet_d2.utils.op_census import OpCensus  # noqa: E402


def synthetic_batch(cfg, batch, rng):
    """``batch`` training inputs (docs/interfaces.md): random uint8 images, 2-6 boxes and 1-4 HOIs each."""
    g = cfg.INPUT.GGNET
    size, stride = g.INPUT_SIZE, cfg.MODEL.GGNET.OUTPUT_STRIDE
    c, v = cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS
    sharp = cfg.MODEL.GGNET.LOSS.GAZE_TARGET == GAZE_TARGET_SHARP and cfg.MODEL.GGNET.NUM_GAZE_STEPS > 0
    out = []
    for i in range(batch):
        n = int(rng.integers(2, 7))
        xy = rng.uniform(0, size * 0.7, (n, 2))
        wh = rng.uniform(size * 0.1, size * 0.3, (n, 2))
        boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
        classes = rng.integers(0, c, n)
        classes[0] = cfg.MODEL.GGNET.PERSON_CLASS_ID
        hois = [(0, int(rng.integers(1, n)), int(rng.integers(0, v))) for _ in range(int(rng.integers(1, 5)))]
        t = build_ggnet_targets(boxes / stride, classes, hois, c, v, (size // stride, size // stride),
                                np.ones((v, c), bool), g.MAX_OBJECTS, g.MAX_HOIS, g.MIN_OVERLAP, g.HNA_RADIUS,
                                (g.GAZE_SIGMA_FACTOR, g.GAZE_NEGATIVE_SIGMA_FACTOR) if sharp else None)
        image = torch.from_numpy(rng.integers(0, 256, (3, size, size), dtype=np.uint8))
        out.append({"image": image, "height": size, "width": size, "image_id": i, "file_name": f"synthetic_{i}",
                    "ggnet_targets": {k: torch.from_numpy(a) for k, a in t.items()}})
    return out


def _repeat(batch):
    while True:
        yield batch


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _profile(trainer, device):
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.startswith("cuda"):
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        trainer.run_step()
        _sync(device)
    events = prof.key_averages()

    def dev_time(e):
        return getattr(e, "self_device_time_total", getattr(e, "self_cuda_time_total", 0.0))

    kernels = sorted((e for e in events if dev_time(e) > 0), key=dev_time, reverse=True)
    cpu_ops = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    return {
        "self_cpu_ms": sum(e.self_cpu_time_total for e in events) / 1e3,
        "self_device_ms": sum(dev_time(e) for e in events) / 1e3,
        "device_kernels": sum(e.count for e in kernels),
        "top_device_ms": [(e.key[:60], round(dev_time(e) / 1e3, 3)) for e in kernels[:8]],
        "top_cpu_ms": [(e.key[:60], round(e.self_cpu_time_total / 1e3, 3)) for e in cpu_ops[:8]],
        # every op the step ran, with its call count: which ops run does not depend on the machine's load
        "op_counts": {e.key: e.count for e in events},
    }


FASTEST = ["MODEL.CHANNELS_LAST", True, "SOLVER.AMP.ENABLED", True, "SOLVER.AMP.PRECISION", "bfloat16",
           "SOLVER.ADAM_FUSED", True]


def fastest_cfg(cfg, compile_model):
    """``cfg`` with the fastest exact training keys (``FASTEST``, plus MODEL.COMPILE when ``compile_model``)."""
    fast = cfg.clone()
    fast.defrost()
    fast.merge_from_list(FASTEST + (["MODEL.COMPILE", True] if compile_model else []))
    fast.freeze()
    return fast


def side_by_side(rows):
    """One line per setting: name, it/s, images/s, peak memory, total loss of the last timed step."""
    lines = [f"{'setting':<34} {'it/s':>8} {'img/s':>8} {'peak MiB':>10} {'total_loss':>11}"]
    for name, r in rows:
        lines.append(f"{name:<34} {r['iters_per_s']:>8.3f} {r['images_per_s']:>8.2f} "
                     f"{str(r['peak_mem_mib']):>10} {r['last_losses'].get('total_loss', float('nan')):>11.4f}")
    return "\n".join(lines)


def run(cfg, batch, iters, warmup, amp):
    """One setting: returns a dict of figures. Raises FloatingPointError on a non-finite loss (detectron2)."""
    device = cfg.MODEL.DEVICE
    torch.manual_seed(0)
    model = GGNetTrainer.build_model(cfg)
    optimizer = GGNetTrainer.build_optimizer(cfg, model)
    trainer = build_step_trainer(model, _repeat(batch), optimizer, amp=amp, period=cfg.SOLVER.METRICS_SYNC_PERIOD,
                                 max_iter=None)
    with EventStorage(0) as storage:
        trainer.storage = storage
        for i in range(warmup):
            storage.iter = trainer.iter = i  # the step trainer files its losses under trainer.iter
            trainer.run_step()
        _sync(device)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for i in range(warmup, warmup + iters):
            storage.iter = trainer.iter = i  # the step trainer files its losses under trainer.iter
            trainer.run_step()
        _sync(device)
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2 ** 20 if device.startswith("cuda") else None
        trainer.flush_metrics()  # the losses still on the device since the last period
        losses = {k: round(v.latest(), 4) for k, v in storage.histories().items() if k.startswith(("loss", "total"))}
        with OpCensus(device) as census:
            trainer.run_step()
            _sync(device)
        profile = _profile(trainer, device)
    return {"amp": amp, "iters": iters, "seconds": round(seconds, 3), "iters_per_s": round(iters / seconds, 3),
            "images_per_s": round(iters * len(batch) / seconds, 2), "peak_mem_mib": peak and round(peak, 1),
            "params_on": sorted({p.device.type for p in model.parameters()}), "last_losses": losses,
            "ops": census.summary(), "ops_by_class": {k: dict(c.most_common(12)) for k, c in census.counts.items()},
            "profile": profile}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config-file", required=True, help="GGNet config to train (synthetic data, no dataset read)")
    p.add_argument("--iters", type=int, default=50, help="timed training iterations")
    p.add_argument("--warmup", type=int, default=5, help="untimed iterations before them")
    p.add_argument("--batch", type=int, default=0, help="images per step (default: SOLVER.IMS_PER_BATCH)")
    p.add_argument("--amp", choices=("off", "on", "both"), default="both", help="mixed precision runs (CUDA only)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="MODEL.DEVICE (default: cuda when available, else cpu as a smoke test)")
    p.add_argument("--strict", action="store_true", help="exit 1 if a CPU fallback operator ran")
    p.add_argument("--fastest", action="store_true", help="also run the fastest exact configuration, side by side")
    p.add_argument("--compile", action="store_true", help="with --fastest: MODEL.COMPILE (torch.compile) too")
    p.add_argument("--json-out", default="", help="also write the figures to this JSON file")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE ...")
    args = p.parse_args(argv)
    # no dataset: building the model would read the datasets' metadata files
    cfg = setup_cfg(args.config_file, ["MODEL.WEIGHTS", "", "DATASETS.TRAIN", "()", "DATASETS.TEST", "()",
                                       "MODEL.DEVICE", args.device,
                                       *args.opts])
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = bool(cfg.CUDNN_BENCHMARK)  # as detectron2's default_setup does
    batch = synthetic_batch(cfg, args.batch or cfg.SOLVER.IMS_PER_BATCH, np.random.default_rng(0))
    settings = {"off": [False], "on": [True], "both": [False, True]}[args.amp]
    header = {"config": args.config_file, "device": args.device, "batch": len(batch),
              "input": cfg.INPUT.GGNET.INPUT_SIZE, "cudnn_benchmark": torch.backends.cudnn.benchmark,
              "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
              "torch": torch.__version__}
    print(json.dumps(header))
    results, fallback = [], False
    for amp in settings:
        if amp and not args.device.startswith("cuda"):
            print("AMP skipped: detectron2's AMPTrainer needs CUDA")
            continue
        r = run(cfg, batch, args.iters, args.warmup, amp)
        results.append(r)
        fallback |= bool(r["ops"]["cpu_fallback"]) and args.device.startswith("cuda")
        print(f"AMP {'on ' if amp else 'off'}: {r['iters_per_s']:.3f} it/s, {r['images_per_s']:.2f} img/s, "
              f"peak {r['peak_mem_mib']} MiB, params on {r['params_on']}; ops per class {r['ops']}")
        print(f"  profiler: {json.dumps(r['profile'])}")
    if args.fastest:
        fast = fastest_cfg(cfg, args.compile)
        benchmark = torch.backends.cudnn.benchmark
        torch.backends.cudnn.benchmark = args.device.startswith("cuda")  # detectron2's CUDNN_BENCHMARK
        try:
            r = run(fast, batch, args.iters, args.warmup, False)  # bfloat16: GGNet autocasts, SimpleTrainer steps
        finally:
            torch.backends.cudnn.benchmark = benchmark
        r["setting"] = "fastest"
        results.append(r)
        fallback |= bool(r["ops"]["cpu_fallback"]) and args.device.startswith("cuda")
        names = [f"default, AMP {'float16' if x['amp'] else 'off'}" for x in results[:-1]]
        names.append("fastest (NHWC, bf16, fused Adam" + (", cuDNN bench" if args.device.startswith("cuda") else "")
                     + (", compile)" if args.compile else ")"))
        print(side_by_side(list(zip(names, results))))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"header": header, "results": results}, indent=1))
    if args.strict and fallback:
        print("CPU fallback operators ran during a CUDA step (see cpu_fallback above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
