"""Issue 20, item 7 (weights files): a file that is not a checkpoint, a truncated one or another model's, given as
MODEL.WEIGHTS or to tools/convert_weights.py, is an error naming the file and what it holds -- never torch's advice
to load with weights_only=False."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.checkpoint import GGNetCheckpointer, WeightsFileError, load_inference_weights

from test_modeling_helpers import tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _text(p):
    p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 1234\n")  # a Git LFS pointer


def _random(p):
    p.write_bytes(np.random.RandomState(0).bytes(4096))


def _state(p, legacy=False):
    torch.save({"model": build_model(tiny_cfg("resnet")).state_dict()}, p, _use_new_zipfile_serialization=not legacy)


def _truncated(p):
    _state(p)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _truncated_legacy(p):
    _state(p, legacy=True)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _other_model(p):
    torch.save({"model": torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Linear(8, 2)).state_dict()}, p)


def _not_a_state_dict(p):
    torch.save([1, 2, 3], p)


def _python_objects(p):
    torch.save({"model": {"x": torch.zeros(1)}, "note": np.float64(1.0)}, p)  # a numpy scalar: not weights_only


def _empty(p):
    p.write_bytes(b"")


CASES = [
    ("text", _text, r"not a PyTorch checkpoint .*looks like text \('version https://git-lfs"),
    ("random_bytes", _random, r"not a PyTorch checkpoint .*first bytes are"),
    ("truncated", _truncated, r"truncated: a zip archive"),
    ("truncated_legacy", _truncated_legacy, r"truncated: the data ends early"),
    ("other_model", _other_model, r"a checkpoint of another model: none of its 4 tensors is a parameter"),
    ("not_a_state_dict", _not_a_state_dict, r"holds a list, not a state dict"),
    ("python_objects", _python_objects, r"holds Python objects besides tensors \(numpy.*tools/convert_weights.py"),
    ("empty", _empty, r"the file is empty"),
]


@pytest.mark.parametrize("make,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_model_weights_errors_name_file_and_content(tmp_path, make, message):
    path = tmp_path / "weights.pth"
    make(path)
    cfg = tiny_cfg("resnet")
    cfg.MODEL.WEIGHTS, cfg.OUTPUT_DIR = str(path), str(tmp_path / "out")
    for load in (lambda: load_inference_weights(build_model(cfg), cfg),  # --eval-only, demo
                 lambda: GGNetCheckpointer(build_model(cfg)).resume_or_load(str(path), resume=False)):  # training
        with pytest.raises(WeightsFileError, match=message) as err:
            load()
        assert str(err.value).startswith(f"{path}: ") and "weights_only" not in str(err.value)


def test_own_legacy_format_checkpoint_still_loads(tmp_path):
    path = tmp_path / "legacy.pth"
    _state(path, legacy=True)
    cfg = tiny_cfg("resnet")
    cfg.MODEL.WEIGHTS, cfg.OUTPUT_DIR = str(path), str(tmp_path / "out")
    assert load_inference_weights(build_model(cfg), cfg).uninitialised == []


@pytest.mark.parametrize("make,message", [(_text, "not a PyTorch checkpoint"), (_truncated, "truncated"),
                                          (_random, "not a PyTorch checkpoint")])
def test_convert_weights_names_the_file(tmp_path, make, message):
    spec = importlib.util.spec_from_file_location("ggnet_convert_weights", REPO / "tools" / "convert_weights.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    path = tmp_path / "in.pth"
    make(path)
    with pytest.raises(WeightsFileError, match=rf"in.pth: {message}") as err:
        tool.read_reference(str(path))
    assert "Memo value" not in str(err.value) and "weights_only" not in str(err.value)
