"""Subprocess of tests/test_deploy.py: run ggnet_d2/deploy/runtime.py (and, for TorchScript, torchscript.py) on
images with the named top-level packages made unimportable, then pickle the results.

    python tests/deploy_runtime_worker.py --block torch,torchvision,detectron2,ggnet_d2 --backend onnx \
        --folder EXPORT_DIR --out results.pkl IMAGE [IMAGE ...]

The blocker is a meta-path finder installed before anything else is imported, so an ``import torch`` anywhere (the
runtime, onnxruntime, cv2) fails; the modules are loaded from their files, not through the ggnet_d2 package.
"""
import argparse
import importlib.abc
import importlib.util
import pickle
import sys
from pathlib import Path


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ImportError(f"{fullname} is blocked in this test process")
        return None


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--block", default="torch,torchvision,detectron2,ggnet_d2")
    parser.add_argument("--backend", choices=["onnx", "torchscript"], default="onnx")
    parser.add_argument("--folder", action="append", required=True, help="export folder (repeatable)")
    parser.add_argument("--out", required=True)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    blocked = [n for n in args.block.split(",") if n]
    sys.meta_path.insert(0, _Blocker(blocked))
    deploy = Path(__file__).resolve().parents[1] / "ggnet_d2" / "deploy"
    runtime = _load("ggnet_runtime_standalone", deploy / "runtime.py")
    import cv2

    images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in args.images]
    results = {}
    for folder in args.folder:
        network = None
        if args.backend == "torchscript":
            ts = _load("ggnet_torchscript_standalone", deploy / "torchscript.py")
            spec = runtime.load_deploy_spec(folder)
            network = ts.TorchScriptNetwork(runtime.find_model_file(folder, "torchscript"), spec["output_names"])
        predictor = runtime.HOIRuntimePredictor(folder, network=network)
        outs = predictor.predict(images)
        results[folder] = {"results": outs, "entries": [runtime.prediction_entry(r, p, predictor.spec)
                                                        for r, p in zip(outs, args.images)]}
    leaked = sorted(n for n in sys.modules if n.split(".")[0] in blocked)
    with open(args.out, "wb") as f:
        pickle.dump({"results": results, "leaked": leaked}, f)


if __name__ == "__main__":
    main()
