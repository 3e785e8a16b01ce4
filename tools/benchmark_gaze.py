#!/usr/bin/env python
"""Time GGNet's modulated deformable convolutions per backend (MODEL.DEFORM_CONV_BACKEND), side by side in one run.

Cases (``--only`` picks a subset):
  gaze_hico        one gaze step (offset/mask conv + DCN, Sec. 3.2) at the HICO-DET training shape: 512 input ->
                   128x128 maps, 256 channels, 5x5 kernel (25 ActPoints), batch ``--batch`` (3 = HICO batch per GPU);
                   forward and forward+backward.
  gaze_quickstart  the same at configs/quickstart/GGNet_R18_synth.yaml's shape (input size / 4, HEAD_CONV,
                   NUM_ACTPOINTS, IMS_PER_BATCH).
  train_quickstart one full quickstart training step (forward, losses, backward, Adam step) on random images with
                   hand-built targets (no dataset files).
  infer_dla34      GGNet-DLA34 (configs/GGNet_DLA34_HICO.yaml) inference at 512x512, batch 1, plus the PPDM-DLA34
                   baseline (configs/ablations/PPDM_baseline_DLA34_HICO.yaml) with the same backend; also both test
                   paths' multiply-adds (fvcore, as tools/model_complexity.py), whose ratio bounds the time ratio.

Each case reports the median of ``--repeats`` timed runs after one warm-up, per backend, and the ratio to torchvision.
Timings are only comparable within one run on an otherwise idle machine.

Usage: python tools/benchmark_gaze.py [--device cpu|cuda] [--repeats 3] [--batch 3]
       [--only gaze_hico gaze_quickstart train_quickstart infer_dla34] [--backends torchvision gather_gemm]
"""
import argparse
import os
import statistics
import time

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from torch import nn

import ggnet_d2  # noqa: F401  registers GGNet and its backbones
from ggnet_d2 import add_ggnet_config
from ggnet_d2.data.targets import build_ggnet_targets
from ggnet_d2.layers import ModulatedDeformConv, split_offset_mask

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["gaze_hico", "gaze_quickstart", "train_quickstart", "infer_dla34"]


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device, repeats):
    fn()  # warm-up: allocator, cuDNN/oneDNN plans
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _load_cfg(path, device, backend):
    cfg = add_ggnet_config(get_cfg())
    cfg.merge_from_file(os.path.join(REPO, path))
    cfg.MODEL.DEVICE = str(device)
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.DEFORM_CONV_BACKEND = backend
    return cfg


class _GazeStep(nn.Module):
    """One gaze step as in GlanceGazeHead: ActPoint offsets/weights from a conv, then the DCN at those ActPoints."""

    def __init__(self, channels, ks, backend):
        super().__init__()
        self.offsets = nn.Conv2d(channels, 3 * ks * ks, ks, padding=ks // 2)
        self.dcn = ModulatedDeformConv(channels, channels, ks, padding=ks // 2, backend=backend)

    def forward(self, x):
        offset, mask = split_offset_mask(self.offsets(x))
        return torch.relu(self.dcn(x, offset, mask))


def bench_gaze(shape, backend, device, repeats):
    b, c, h, w, ks = shape
    torch.manual_seed(0)
    step = _GazeStep(c, ks, backend).to(device)
    nn.init.normal_(step.offsets.weight, std=0.01)  # non-zero offsets, as after training
    x = torch.randn(b, c, h, w, device=device, requires_grad=True)

    def fwd():
        with torch.no_grad():
            step(x)

    def fwd_bwd():
        step(x).sum().backward()

    return {"forward": _time(fwd, device, repeats), "forward+backward": _time(fwd_bwd, device, repeats)}


def _quickstart_inputs(cfg, device):
    size = cfg.INPUT.GGNET.INPUT_SIZE
    stride = cfg.MODEL.GGNET.OUTPUT_STRIDE
    g = cfg.MODEL.GGNET
    rng = np.random.default_rng(0)
    inputs = []
    for _ in range(cfg.SOLVER.IMS_PER_BATCH):
        m = size // stride
        xy = rng.uniform(0, m * 0.6, (3, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(3, m * 0.4, (3, 2))], 1).astype(np.float32)
        classes = np.array([0, 1 % g.NUM_CLASSES, 2 % g.NUM_CLASSES])
        t = build_ggnet_targets(boxes, classes, [(0, 1, 0), (0, 2, 1 % g.NUM_VERBS)], g.NUM_CLASSES, g.NUM_VERBS,
                                (m, m))
        inputs.append({"image": torch.randint(0, 256, (3, size, size), dtype=torch.uint8), "file_name": "bench.png",
                       "ggnet_targets": {k: torch.as_tensor(v) for k, v in t.items()}})
    return inputs


def bench_train_quickstart(backend, device, repeats):
    cfg = _load_cfg("configs/quickstart/GGNet_R18_synth.yaml", device, backend)
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ()
    torch.manual_seed(0)
    model = build_model(cfg).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.SOLVER.BASE_LR)
    inputs = _quickstart_inputs(cfg, device)

    def step():
        losses = model(inputs)
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()

    return {"train step": _time(step, device, repeats)}


def multiply_adds(path, size=512):
    """fvcore multiply-adds of the config's test path at size x size (deformable convs counted as convs), as
    tools/model_complexity.py counts them: the floor that no exact backend can go under."""
    from fvcore.nn import FlopCountAnalysis
    from model_complexity import _TestPath, deform_conv_flop  # tools/ is sys.path[0] when run as a script
    cfg = _load_cfg(path, torch.device("cpu"), "torchvision")
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ()
    flops = FlopCountAnalysis(_TestPath(build_model(cfg).eval()), torch.zeros(1, 3, size, size))
    flops.set_op_handle("torchvision::deform_conv2d", deform_conv_flop)
    flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        return flops.total()


def bench_infer(path, backend, device, repeats, size=512):
    cfg = _load_cfg(path, device, backend)
    cfg.DATASETS.TRAIN, cfg.DATASETS.TEST = (), ()
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    image = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)

    def infer():
        with torch.no_grad():
            model([{"image": image, "height": size, "width": size}])

    return _time(infer, device, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="torch device to time on (cpu, cuda, cuda:1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best is reported")
    parser.add_argument("--batch", type=int, default=3, help="batch of the HICO gaze step (3 per GPU in training)")
    parser.add_argument("--only", nargs="+", choices=CASES, default=CASES, help="cases to time (default: all)")
    parser.add_argument("--backends", nargs="+", default=["torchvision", "gather_gemm"],
                        help="deformable-convolution backends to compare (MODEL.DEFORM_CONV_BACKEND values)")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, repeats {args.repeats}")

    def report(case, per_backend):
        base = per_backend.get("torchvision")
        for metric in next(iter(per_backend.values())):
            cells = []
            for name, res in per_backend.items():
                ratio = f" ({base[metric] / res[metric]:.2f}x vs torchvision)" if base and name != "torchvision" else ""
                cells.append(f"{name} {res[metric] * 1e3:.1f} ms{ratio}")
            print(f"{case:17s} {metric:17s} " + " | ".join(cells), flush=True)

    if "gaze_hico" in args.only:
        shape = (args.batch, 256, 128, 128, 5)
        report(f"gaze_hico b{args.batch}", {b: bench_gaze(shape, b, device, args.repeats) for b in args.backends})
    if "gaze_quickstart" in args.only:
        q = _load_cfg("configs/quickstart/GGNet_R18_synth.yaml", device, "torchvision")
        m = q.INPUT.GGNET.INPUT_SIZE // q.MODEL.GGNET.OUTPUT_STRIDE
        ks = int(round(q.MODEL.GGNET.NUM_ACTPOINTS ** 0.5))
        shape = (q.SOLVER.IMS_PER_BATCH, q.MODEL.GGNET.HEAD_CONV, m, m, ks)
        report("gaze_quickstart", {b: bench_gaze(shape, b, device, args.repeats) for b in args.backends})
    if "train_quickstart" in args.only:
        report("train_quickstart", {b: bench_train_quickstart(b, device, args.repeats) for b in args.backends})
    if "infer_dla34" in args.only:
        ggnet_macs = multiply_adds("configs/GGNet_DLA34_HICO.yaml")
        ppdm_macs = multiply_adds("configs/ablations/PPDM_baseline_DLA34_HICO.yaml")
        print(f"infer_dla34 512   multiply-adds (fvcore): GGNet {ggnet_macs / 1e9:.2f} G, PPDM {ppdm_macs / 1e9:.2f} G, "
              f"GGNet/PPDM {ggnet_macs / ppdm_macs:.2f}", flush=True)
        res = {}
        for b in args.backends:
            ggnet = bench_infer("configs/GGNet_DLA34_HICO.yaml", b, device, args.repeats)
            ppdm = bench_infer("configs/ablations/PPDM_baseline_DLA34_HICO.yaml", b, device, args.repeats)
            res[b] = (ggnet, ppdm)
            print(f"infer_dla34 512   {b}: GGNet {ggnet * 1e3:.1f} ms, PPDM {ppdm * 1e3:.1f} ms, "
                  f"GGNet/PPDM {ggnet / ppdm:.2f} (target <= 1.3)", flush=True)
        if "torchvision" in res:
            for b, (g, _) in res.items():
                if b != "torchvision":
                    print(f"infer_dla34 512   GGNet torchvision/{b}: {res['torchvision'][0] / g:.2f}x")


if __name__ == "__main__":
    main()
