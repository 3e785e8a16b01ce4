"""Exported GGNet (ONNX through onnxruntime, TorchScript) against the PyTorch model on the 30 HOI-W photos.

A tiny ResNet-18 GGNet with perturbed random weights (so heatmaps have distinct peaks), both decoding presets
(Eq. 8 / the authors' matching + dedup + their box clip), both test placements. Checked:
- network level (same normalised input): head maps max |diff| <= 1e-4; the top-100 triplets identical in order
  (verbs, classes, indices, validity), scores within 1e-5, boxes and points within 1e-3 input pixels;
- end to end: the torch-free runtime (``ggnet_d2/deploy/runtime.py``) in a subprocess where torch, torchvision,
  detectron2 and ggnet_d2 cannot be imported (TorchScript: detectron2 and ggnet_d2), on the image files, against
  ``GGNet.forward`` on detectron2's test augmentation of the same files: the same triplets in original pixels and
  the same prediction entries as ``outputs_to_prediction_entry`` (the evaluation's converter).
"""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from detectron2.data import MetadataCatalog  # noqa: E402
from detectron2.data import transforms as T  # noqa: E402
from detectron2.data.detection_utils import read_image  # noqa: E402
from detectron2.modeling import build_model  # noqa: E402

from ggnet_d2.data import build_hoi_test_augmentation  # noqa: E402
from ggnet_d2.deploy import runtime  # noqa: E402
from ggnet_d2.deploy.adapter import HEAD_MAP_OUTPUTS, GGNetDeployAdapter  # noqa: E402
from ggnet_d2.deploy.export import export_onnx, export_torchscript  # noqa: E402
from ggnet_d2.deploy.torchscript import TorchScriptNetwork  # noqa: E402
from ggnet_d2.evaluation.prediction_format import invert_id_map, outputs_to_prediction_entry  # noqa: E402

from deploy_helpers import (PHOTOS, PLACEMENTS, PRESETS, SHARED, assert_close, entry_triplets,  # noqa: E402
                            tie_canonical, tiny_cfg, varied_weights)

REPO = Path(__file__).resolve().parents[1]
needs_photos = pytest.mark.skipif(len(PHOTOS) != 30, reason=f"the 30 HOI-W photos are not under {SHARED}/hoiw_demo")


@pytest.fixture(scope="module")
def weights():
    return varied_weights()


def _model(preset, placement, weights):
    model = build_model(tiny_cfg(preset, placement))
    model.load_state_dict(weights)
    return model.eval()


@pytest.fixture(scope="module")
def exports(tmp_path_factory, weights):
    """Lazily exported folders by (format, preset), with one spec per placement (the graph is the same)."""
    cache = {}

    def get(fmt, preset):
        if (fmt, preset) not in cache:
            root = tmp_path_factory.mktemp(f"{fmt}_{preset}")
            folders = {}
            for placement in PLACEMENTS:
                folder = root / placement
                if not folders:
                    export = export_onnx if fmt == "onnx" else export_torchscript
                    export(_model(preset, placement, weights), tiny_cfg(preset, placement), str(folder), head_maps=True)
                else:
                    folder.mkdir()
                    model_file = runtime.MODEL_FILES[fmt]
                    os.symlink(folders[PLACEMENTS[0]] / model_file, folder / model_file)
                    spec = runtime.load_deploy_spec(str(folders[PLACEMENTS[0]]))
                    spec["test_placement"] = placement
                    (folder / runtime.DEPLOY_SPEC_FILE).write_text(__import__("json").dumps(spec))
                folders[placement] = folder
            cache[(fmt, preset)] = folders
        return cache[(fmt, preset)]

    return get


def _network(fmt, folder):
    spec = runtime.load_deploy_spec(str(folder))
    path = runtime.find_model_file(str(folder), fmt)
    return runtime.ONNXRuntimeNetwork(path, ["CPUExecutionProvider"]) if fmt == "onnx" else \
        TorchScriptNetwork(path, spec["output_names"])


def _triplets(o):
    """Per-triplet arrays of one image's network outputs, canonically ordered (``tie_canonical``)."""
    keys = np.concatenate([o["interaction_points"], o["verb_classes"][:, None], o["subject_boxes"],
                           o["object_boxes"]], axis=1).astype(np.float64)
    order = tie_canonical(o["hoi_scores"], keys)
    names = ("hoi_scores", "verb_classes", "subject_boxes", "object_boxes", "object_classes", "valid",
             "interaction_points", "actpoints", "actpoint_weights")
    return {n: o[n][order] for n in names}


def _candidates(o, prefix):
    boxes, scores = o[prefix + "boxes"], o[prefix + "scores"]
    order = tie_canonical(scores, boxes.astype(np.float64))
    cand = {"boxes": boxes[order], "scores": scores[order]}
    if prefix + "classes" in o:
        cand["classes"] = o[prefix + "classes"][order]
    return cand


def _assert_outputs_equal(ref, out, names, where):
    """Network outputs of one image: head maps within 1e-4; triplets and candidates in the same order (exactly
    tied scores: as sets), scores within 1e-5, boxes and points within 1e-3 input pixels; the raw indices agree
    wherever no tie makes the candidate order arbitrary."""
    ref = {n: r.numpy()[0] for n, r in zip(names, ref)}
    out = {n: v[0] for n, v in out.items()}
    for name in HEAD_MAP_OUTPUTS:
        diff = np.abs(ref[name] - out[name]).max()
        assert diff <= 1e-4, f"{where} {name}: head map max |diff| {diff}"
    r, o = _triplets(ref), _triplets(out)
    for name in r:
        assert_close(name, r[name], o[name], where)
    for prefix in ("human_", "candidate_object_"):
        r, o = _candidates(ref, prefix), _candidates(out, prefix)
        for name in r:
            assert_close(prefix + name, r[name], o[name], where)
    if len(np.unique(ref["human_scores"])) == len(ref["human_scores"]) and \
            len(np.unique(ref["candidate_object_scores"])) == len(ref["candidate_object_scores"]):
        for name in ("subject_index", "object_index"):
            r_sorted = ref[name][tie_canonical(ref["hoi_scores"], ref["interaction_points"].astype(np.float64))]
            o_sorted = out[name][tie_canonical(out["hoi_scores"], out["interaction_points"].astype(np.float64))]
            assert_close(name, r_sorted, o_sorted, where)


@needs_photos
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_exported_network_equals_pytorch_on_hoiw_photos(fmt, preset, exports, weights):
    folders = exports(fmt, preset)
    net = _network(fmt, folders["top_left"])
    checked_valid = 0
    for placement in PLACEMENTS:
        spec = runtime.load_deploy_spec(str(folders[placement]))
        adapter = GGNetDeployAdapter(_model(preset, placement, weights), head_maps=True)
        for path in PHOTOS:
            chw, _ = runtime.preprocess(read_image(str(path), format="BGR"), spec)
            with torch.no_grad():
                ref = adapter(torch.from_numpy(chw)[None])
            out = net(chw[None])
            assert ref[0].shape[1] == 100
            _assert_outputs_equal(ref, out, spec["output_names"], f"{fmt}/{preset}/{placement}/{path.name}")
            checked_valid += int(out["valid"].sum())
    assert checked_valid > 30 * 2 * 10  # real triplets were compared, not only invalid ones


def _pytorch_outputs(preset, placement, weights):
    """GGNet.forward on detectron2's test augmentation of each photo (the evaluation's path)."""
    cfg = tiny_cfg(preset, placement)
    model = _model(preset, placement, weights)
    aug = T.AugmentationList(build_hoi_test_augmentation(cfg))
    outputs = []
    for path in PHOTOS:
        img = read_image(str(path), format="BGR")
        aug_input = T.AugInput(img)
        aug(aug_input)
        image = torch.as_tensor(aug_input.image.astype("float32").transpose(2, 0, 1))
        with torch.no_grad():
            outputs.append(model([{"image": image, "height": img.shape[0], "width": img.shape[1]}])[0])
    return outputs


def _run_worker(fmt, folders, tmp_path, block):
    out = tmp_path / "results.pkl"
    cmd = [sys.executable, str(REPO / "tests" / "deploy_runtime_worker.py"), "--block", block, "--backend", fmt,
           "--out", str(out)]
    for placement in PLACEMENTS:
        cmd += ["--folder", str(folders[placement])]
    env = dict(os.environ, PYTHONPATH="")  # the worker loads the runtime from its file, not through ggnet_d2
    # the timeout guards against a hang only: 300 s expired on the shared 2-core machine under load 20
    proc = subprocess.run(cmd + [str(p) for p in PHOTOS], capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, "rb") as f:
        return pickle.load(f)


@needs_photos
@pytest.mark.parametrize("fmt,block", [("onnx", "torch,torchvision,detectron2,ggnet_d2"),
                                       ("torchscript", "detectron2,ggnet_d2")])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_runtime_without_torch_equals_pytorch_model(fmt, block, preset, exports, weights, tmp_path):
    folders = exports(fmt, preset)
    got = _run_worker(fmt, folders, tmp_path, block)
    assert got["leaked"] == []
    meta = MetadataCatalog.get("hoiw_demo")
    thing_ids = invert_id_map(meta.thing_dataset_id_to_contiguous_id, "thing")
    verb_ids = invert_id_map(meta.verb_dataset_id_to_contiguous_id, "verb")
    for placement in PLACEMENTS:
        res = got["results"][str(folders[placement])]
        for path, ref, out, entry in zip(PHOTOS, _pytorch_outputs(preset, placement, weights), res["results"],
                                         res["entries"]):
            where = f"{fmt}/{preset}/{placement}/{path.name}"
            hoi = ref["hoi_instances"]
            assert len(hoi) == len(out["hoi"]["scores"]) > 0, where
            r = {"scores": hoi.scores.numpy(), "verb_classes": hoi.verb_classes.numpy(),
                 "object_classes": hoi.object_classes.numpy(), "subject_boxes": hoi.subject_boxes.tensor.numpy(),
                 "object_boxes": hoi.object_boxes.tensor.numpy(), "interaction_points": hoi.interaction_points.numpy(),
                 "actpoints": hoi.actpoints.numpy(), "actpoint_weights": hoi.actpoint_weights.numpy()}
            for name, values in _by_triplet(r).items():
                assert_close(name, values, _by_triplet(out["hoi"])[name], where)
            inst = ref["instances"]
            r_inst = _candidates({"boxes": inst.pred_boxes.tensor.numpy(), "scores": inst.scores.numpy(),
                                  "classes": inst.pred_classes.numpy()}, "")
            for name, values in _candidates(out["instances"], "").items():
                assert_close("instances." + name, r_inst[name], values, where)
            expected = outputs_to_prediction_entry(str(path), ref, thing_ids, verb_ids)
            assert set(entry) == {"file_name", "predictions", "hoi_prediction"}, where
            assert entry["file_name"] == expected["file_name"], where
            for name, values in entry_triplets(expected).items():
                assert_close("entry." + name, values, entry_triplets(entry)[name], where)


def _by_triplet(hoi):
    keys = np.concatenate([hoi["interaction_points"], hoi["verb_classes"][:, None], hoi["subject_boxes"],
                           hoi["object_boxes"]], axis=1).astype(np.float64)
    order = tie_canonical(hoi["scores"], keys)
    return {n: np.asarray(hoi[n])[order] for n in ("scores", "verb_classes", "object_classes", "subject_boxes",
                                                   "object_boxes", "interaction_points", "actpoints",
                                                   "actpoint_weights")}
