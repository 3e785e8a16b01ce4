"""demo/demo.py with --backend pytorch, onnxruntime and torchscript on HOI-W photos: the same prediction entries
(the documented prediction format, docs/interfaces.md), which tools/evaluate_hoi.py scores."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from detectron2.modeling import build_model  # noqa: E402

from ggnet_d2.deploy.export import export_onnx, export_torchscript  # noqa: E402

from deploy_helpers import PHOTOS, SHARED, assert_close, entry_triplets, tiny_cfg, varied_weights  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _demo_module():
    spec = importlib.util.spec_from_file_location("ggnet_demo_backends", REPO / "demo" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(len(PHOTOS) != 30, reason=f"the 30 HOI-W photos are not under {SHARED}/hoiw_demo")
def test_demo_backends_write_the_same_prediction_file(tmp_path):
    cfg = tiny_cfg("authors", "center")
    model = build_model(cfg).eval()
    model.load_state_dict(varied_weights())
    torch.save({"model": model.state_dict()}, tmp_path / "model.pth")
    cfg.MODEL.WEIGHTS = str(tmp_path / "model.pth")
    (tmp_path / "cfg.yaml").write_text(cfg.dump())
    export_onnx(model, cfg, str(tmp_path / "export"))
    export_torchscript(model, cfg, str(tmp_path / "export"))
    photos = [str(p) for p in PHOTOS[:3]]
    demo = _demo_module()
    runs = {"pytorch": ["--config-file", str(tmp_path / "cfg.yaml")],
            "onnxruntime": ["--backend", "onnxruntime", "--model-dir", str(tmp_path / "export")],
            "torchscript": ["--backend", "torchscript", "--model-dir", str(tmp_path / "export")]}
    entries = {}
    for backend, args in runs.items():
        out = tmp_path / backend
        demo.main(args + ["--input", *photos, "--output", str(out), "--confidence-threshold", "0.3"])
        entries[backend] = json.loads((out / "predictions.json").read_text())
        assert sorted(p.name for p in out.iterdir()) == sorted(
            [Path(p).name for p in photos] + [Path(p).stem + ".json" for p in photos] + ["predictions.json"])
    for backend in ("onnxruntime", "torchscript"):
        for ref, got in zip(entries["pytorch"], entries[backend]):
            assert set(got) == {"file_name", "predictions", "hoi_prediction"} and got["file_name"] == ref["file_name"]
            r, g = entry_triplets(ref), entry_triplets(got)
            assert len(r["scores"]) > 0
            for name in r:
                assert_close(name, r[name], g[name], f"{backend} {got['file_name']}")
    # the prediction file is what the offline scorer takes (the split has 30 images; 27 are not in the file)
    env = dict(os.environ, DETECTRON2_DATASETS=str(SHARED), PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "evaluate_hoi.py"), "--predictions",
                           str(tmp_path / "onnxruntime" / "predictions.json"), "--dataset", "hoiw_demo",
                           "--allow-missing-images"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "mAP" in proc.stdout + proc.stderr
