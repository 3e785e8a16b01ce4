#!/usr/bin/env python
"""Per-image latency of GGNet in PyTorch vs its ONNX export in onnxruntime vs its TorchScript export, side by side.

    python tools/benchmark_export.py                       # GGNet-DLA34 and GGNet-Hourglass-104, 512x512, batch 1
    python tools/benchmark_export.py --models dla34 --repeats 10 --image photo.jpg

Random weights (latency does not depend on them). Every backend gets the same image and shares the runtime's numpy
pre-processing (resize, placement, normalisation) and post-processing (valid triplets, original pixels), so the
columns differ in the network only: PyTorch runs ``GGNetDeployAdapter`` eagerly (backbone, heads, decoding) with the
config's deform-conv backend; onnxruntime (CPU provider; CUDA provider too when torch sees a GPU and onnxruntime has
it) and TorchScript run the exported graphs. "pytorch model" is ``GGNet.forward`` end to end (detectron2's test
resize, the model's own padding/normalisation, decoding, ``Instances``) for reference. Prints a markdown table
(median milliseconds per image over ``--repeats`` runs after one warm-up) and the exported file sizes.
"""
import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = {"dla34": ("GGNet-DLA34", "configs/GGNet_DLA34_HICO.yaml"),
          "hourglass104": ("GGNet-Hourglass-104", "configs/GGNet_Hourglass104_HICO.yaml"),
          "resnet18": ("GGNet-R18 (quickstart widths)", "configs/quickstart/GGNet_R18_synth.yaml")}


def get_parser():
    parser = argparse.ArgumentParser(description="Latency of PyTorch vs onnxruntime vs TorchScript GGNet")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["dla34", "hourglass104"],
                        help="which configs to benchmark")
    parser.add_argument("--size", type=int, default=512, help="INPUT.GGNET.TEST_SIZE (square network input)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per backend (after one warm-up)")
    parser.add_argument("--image", help="an image file (default: a 640x480 random image)")
    parser.add_argument("--device", default="cpu", help="MODEL.DEVICE of the PyTorch and TorchScript runs")
    parser.add_argument("--threads", type=int, default=0, help="torch / onnxruntime intra-op threads (0: default)")
    parser.add_argument("--workdir", help="where the exports are written (default: a temporary folder)")
    return parser


def _timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def benchmark(key, args, image, workdir):
    """Rows of the table for one config: (backend, pre ms, network ms, post ms, total ms)."""
    import numpy as np
    import torch
    from detectron2.modeling import build_model

    from detectron2.data import transforms as T

    from ggnet_d2.data import build_hoi_test_augmentation
    from ggnet_d2.deploy import runtime
    from ggnet_d2.deploy.adapter import GGNetDeployAdapter
    from ggnet_d2.deploy.export import export_onnx, export_torchscript
    from ggnet_d2.deploy.torchscript import TorchScriptNetwork
    from ggnet_d2.engine import setup_cfg

    name, config = MODELS[key]
    cfg = setup_cfg(str(Path(__file__).resolve().parents[1] / config),
                    ["MODEL.DEVICE", args.device, "MODEL.WEIGHTS", "", "MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL", "True",
                     "INPUT.GGNET.TEST_SIZE", str(args.size)])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    folder = os.path.join(workdir, key)
    t0 = time.perf_counter()
    export_onnx(model, cfg, folder)
    t_onnx = time.perf_counter() - t0
    t0 = time.perf_counter()
    export_torchscript(model, cfg, folder)
    t_ts = time.perf_counter() - t0
    spec = runtime.load_deploy_spec(folder)
    sizes = {fmt: os.path.getsize(runtime.find_model_file(folder, fmt)) / 2**20 for fmt in ("onnx", "torchscript")}

    chw, info = runtime.preprocess(image, spec)
    batch = chw[None]
    adapter = GGNetDeployAdapter(model).eval()

    def torch_net(x):
        with torch.no_grad():
            outs = adapter(torch.from_numpy(x).to(args.device))
        return {n: o.cpu().numpy() for n, o in zip(adapter.output_names, outs)}

    networks = {f"pytorch ({cfg.MODEL.DEFORM_CONV_BACKEND} deform conv)": torch_net,
                "onnxruntime CPU": runtime.ONNXRuntimeNetwork(runtime.find_model_file(folder, "onnx"),
                                                              ["CPUExecutionProvider"], args.threads),
                "torchscript": TorchScriptNetwork(runtime.find_model_file(folder, "torchscript"),
                                                  spec["output_names"], args.device)}
    import onnxruntime as ort

    if torch.cuda.is_available() and "CUDAExecutionProvider" in ort.get_available_providers():
        networks["onnxruntime CUDA"] = runtime.ONNXRuntimeNetwork(runtime.find_model_file(folder, "onnx"),
                                                                   ["CUDAExecutionProvider"])
    pre = _timed(lambda: runtime.preprocess(image, spec), args.repeats)
    outputs = torch_net(batch)
    post = _timed(lambda: runtime.postprocess(outputs, 0, info, spec), args.repeats)
    rows = []
    for backend, net in networks.items():
        ms = _timed(lambda: net(batch), args.repeats)
        out = net(batch)
        same = all(np.array_equal(outputs[k], out[k]) for k in ("verb_classes", "object_classes", "valid")) and \
            float(np.abs(outputs["hoi_scores"] - out["hoi_scores"]).max()) <= 1e-5
        rows.append((backend, pre, ms, post, pre + ms + post, "yes" if same else "no"))
    aug = T.AugmentationList(build_hoi_test_augmentation(cfg))

    def model_forward():  # demo/predictor.py's HOIPredictor.__call__ (BGR configs)
        aug_input = T.AugInput(image)
        aug(aug_input)
        tensor = torch.as_tensor(aug_input.image.astype("float32").transpose(2, 0, 1))
        with torch.no_grad():
            return model([{"image": tensor, "height": image.shape[0], "width": image.shape[1]}])

    total = _timed(model_forward, args.repeats)
    rows.append(("pytorch model (GGNet.forward)", None, None, None, total, "-"))
    return name, rows, sizes, (t_onnx, t_ts)


def main(argv=None):
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import cv2
    import numpy as np
    import onnxruntime
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    image = cv2.imread(args.image, cv2.IMREAD_COLOR) if args.image else \
        np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    if image is None:
        raise SystemExit(f"--image {args.image}: cannot be read")
    workdir = args.workdir or tempfile.mkdtemp(prefix="ggnet_export_bench_")
    from ggnet_d2.deploy.export import ONNX_OPSET

    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, ONNX opset {ONNX_OPSET}, "
          f"{torch.get_num_threads()} torch threads, image {image.shape[1]}x{image.shape[0]}, input "
          f"{args.size}x{args.size}, batch 1, median of {args.repeats} runs (ms)")
    print("| model | backend | pre | network | post | total | same triplets as PyTorch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for key in args.models:
        name, rows, sizes, (t_onnx, t_ts) = benchmark(key, args, image, workdir)
        for backend, pre, net, post, total, same in rows:
            cells = [f"{v:.1f}" if v is not None else "-" for v in (pre, net, post, total)]
            print(f"| {name} | {backend} | " + " | ".join(cells) + f" | {same} |", flush=True)
        notes.append(f"{name}: model.onnx {sizes['onnx']:.1f} MiB (export {t_onnx:.0f} s), model.ts "
                     f"{sizes['torchscript']:.1f} MiB (export {t_ts:.0f} s)")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
