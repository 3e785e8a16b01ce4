"""The converter maps state dicts named as in CenterNet / PPDM / GGNet (built here from our module shapes with the
reference naming) onto ours, tensor for tensor."""
import importlib.util
import re
from pathlib import Path

import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.checkpoint import GGNetCheckpointer, IncompleteCheckpointError, convert_reference_state_dict

from reference_layouts import reference_layout
from test_modeling_helpers import C, V, tiny_cfg

REPO = Path(__file__).resolve().parents[1]

_HEAD = {"object.hm": "hm", "object.wh": "wh", "object.reg": "reg", "apm.subject": "sub_offset",
         "apm.object": "obj_offset"}


def _reference_name(ours, hourglass):
    """Our name -> the reference implementation's name (written independently of the converter's rules)."""
    if ours.startswith("backbone."):
        return ours[len("backbone."):]
    s, rest = re.match(r"heads\.(\d+)\.(.*)", ours).groups()
    for mine, ref in _HEAD.items():
        if rest.startswith(mine + "."):
            idx, param = rest[len(mine) + 1:].split(".", 1)
            if not hourglass:
                return f"{ref}.{idx}.{param}"
            return f"{ref}.{s}.0.conv.{param}" if idx == "0" else f"{ref}.{s}.1.{param}"
    table = {
        "interaction.glance_conv.": f"hm_rel.{s}.0.conv." if hourglass else "hm_rel.0.",
        "interaction.glance_cls.": f"hm_rel.{s}.1." if hourglass else "hm_rel.2.",
        "interaction.gaze_feats.0.": f"hm_dcn1.{s}.conv.", "interaction.gaze_feats.1.": f"hm_dcn2.{s}.conv.",
        "interaction.gaze_offsets.0.": f"refine_dcn1.{s}.conv_offset_mask.",
        "interaction.gaze_offsets.1.": f"refine_dcn2.{s}.conv_offset_mask.",
        "interaction.gaze_dcns.0.": f"refine_dcn1.{s}.", "interaction.gaze_dcns.1.": f"refine_dcn2.{s}.",
        "interaction.gaze_cls.0.": f"refine_head1.{s}.0.", "interaction.gaze_cls.1.0.": f"refine_head2.{s}.0.conv.",
        "interaction.gaze_cls.1.2.": f"refine_head2.{s}.1.",
    }
    for mine, ref in table.items():
        if rest.startswith(mine):
            return ref + rest[len(mine):]
    raise AssertionError(f"no reference name for {ours}")


def _reference_state(model, hourglass):
    torch.manual_seed(1)
    return {"module." + _reference_name(k, hourglass): torch.randn_like(v.float()).to(v.dtype)
            for k, v in model.state_dict().items() if k != "valid_verb_object"}  # ours, not a reference weight


def test_ggnet_hourglass_checkpoint_lands_every_tensor():
    model = build_model(tiny_cfg("hourglass"))
    ref = _reference_state(model, hourglass=True)
    assert "module.kps.1.low2.low2.up1.0.conv1.weight" in ref and "module.refine_dcn2.1.weight" in ref
    ref["module.junk.weight"] = torch.zeros(1)
    converted, report = convert_reference_state_dict(ref, model.state_dict())
    assert report["unmatched"] == ["junk.weight"] and not report["shape_mismatch"] and not report["not_loaded"]
    for k, v in model.state_dict().items():
        if k != "valid_verb_object":
            assert torch.equal(converted[k], ref["module." + _reference_name(k, True)]), k


def test_centernet_dla_coco_checkpoint_and_checkpointer(tmp_path):
    model = build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))
    ref = {k: v for k, v in _reference_state(model, hourglass=False).items()
           if not k.startswith(("module.hm_rel", "module.sub_offset", "module.obj_offset"))}  # a detector
    ref["module.base.fc.weight"] = torch.randn(1000, 32, 1, 1)
    converted, report = convert_reference_state_dict(ref, model.state_dict())
    assert report["source"].key == "centernet_dla34"
    assert report["unmatched"] == [] and report["unused"] == ["base.fc.weight"] and report["complete"]
    assert report["missing"] == [] and report["accepted_gaps"] and all(
        k.startswith(("heads.0.interaction.", "heads.0.apm.")) for k in report["accepted_gaps"])
    assert converted["backbone.dla_up.ida_0.proj_1.conv.conv_offset_mask.weight"].shape[0] == 27
    path = tmp_path / "centernet.pth"
    torch.save({"epoch": 70, "state_dict": ref}, path)
    fresh = build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))
    checkpointer = GGNetCheckpointer(fresh)
    checkpointer.load(str(path))  # training from a COCO detector: the HOI heads are its declared gap
    sd = fresh.state_dict()
    for k, v in converted.items():
        assert torch.equal(sd[k], v), k
    assert set(checkpointer.uninitialised) == set(report["accepted_gaps"])


def test_coco_classes_differing_from_ours_fail_strictly_unless_partial(tmp_path):
    model = build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))
    ref = {k: v for k, v in _reference_state(model, hourglass=False).items()
           if not k.startswith(("module.hm_rel", "module.sub_offset", "module.obj_offset"))}
    ref["module.hm.2.weight"] = torch.randn(80, 8, 1, 1)  # COCO's 80 classes vs our 4
    ref["module.hm.2.bias"] = torch.randn(80)
    _, report = convert_reference_state_dict(ref, model.state_dict())
    assert len(report["shape_mismatch"]) == 2 and "hm.2.weight -> heads.0.object.hm.2.weight" in \
        report["shape_mismatch"][0]
    assert report["missing"] == ["heads.0.object.hm.2.weight", "heads.0.object.hm.2.bias"]
    path = tmp_path / "centernet.pth"
    torch.save({"epoch": 70, "state_dict": ref}, path)
    with pytest.raises(IncompleteCheckpointError, match=r"hm\.2\.weight -> heads\.0\.object\.hm\.2\.weight"):
        GGNetCheckpointer(build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))).load(str(path))
    partial = GGNetCheckpointer(build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0)), allow_partial=True)
    partial.load(str(path))
    assert "heads.0.object.hm.2.weight" in partial.uninitialised


def test_ggnet_1_step_tensors_land_where_the_authors_use_them():
    """ggnet_hourglass_s1.py: hm_dcn = F_1 conv, refine_dcn = DCN_O1 (offsets from i_hm_feature = F0, deformable conv
    on h_feature = F_1), refine_head = make_kp_refine_layer (the final classifier)."""
    cfg = tiny_cfg("hourglass", NUM_GAZE_STEPS=1)
    model = build_model(cfg)
    layout = reference_layout("ggnet_hourglass_s1", C, V, hg_dims=(8, 8, 12, 12, 12, 16), hg_modules=(1,) * 6,
                              hg_stem=4, cnv_dim=8, head_conv=8, kernel=3)
    torch.manual_seed(0)
    ref = {k: torch.randn(shape) if shape else torch.tensor(5) for k, shape in layout.items()}
    converted, report = convert_reference_state_dict(ref, model.state_dict(), apm_input="glance")
    assert report["complete"] and len(converted) == len(ref) == _num_weights(model)
    expect = {"hm_dcn.1.conv.weight": "heads.1.interaction.gaze_feats.0.weight",
              "refine_dcn.1.conv_offset_mask.bias": "heads.1.interaction.gaze_offsets.0.bias",
              "refine_dcn.1.weight": "heads.1.interaction.gaze_dcns.0.weight",
              "refine_head.0.0.conv.weight": "heads.0.interaction.gaze_cls.0.0.weight",
              "refine_head.1.1.bias": "heads.1.interaction.gaze_cls.0.2.bias",
              "hm_rel.1.0.conv.weight": "heads.1.interaction.glance_conv.weight",
              "sub_offset.1.1.weight": "heads.1.apm.subject.2.weight",
              "kps.1.low2.low2.up1.0.conv1.weight": "backbone.kps.1.low2.low2.up1.0.conv1.weight"}
    for theirs, ours in expect.items():
        assert converted[ours] is ref[theirs], (theirs, ours)
    assert len({id(v) for v in converted.values()}) == len(ref)  # one-to-one


def test_convert_tool_reports_the_source_and_refuses_incomplete(tmp_path, capsys):
    cfg = tiny_cfg("hourglass", NUM_GAZE_STEPS=1)
    cfg_file = tmp_path / "tiny.yaml"
    cfg_file.write_text(cfg.dump())
    layout = reference_layout("ggnet_hourglass_s1", C, V, hg_dims=(8, 8, 12, 12, 12, 16), hg_modules=(1,) * 6,
                              hg_stem=4, cnv_dim=8, head_conv=8, kernel=3)
    ref = {"module." + k: torch.zeros(shape) for k, shape in layout.items()}
    torch.save({"epoch": 120, "state_dict": ref}, tmp_path / "ref.pth")
    tool = _tool()
    out = tmp_path / "converted.pth"
    assert tool.main(["--config-file", str(cfg_file), "--input", str(tmp_path / "ref.pth"), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recognised source: ggnet_hourglass_s1" in printed and "conversion complete" in printed
    fresh = build_model(cfg)
    GGNetCheckpointer(fresh).load(str(out))
    del ref["module.refine_head.1.1.weight"]
    torch.save({"state_dict": ref}, tmp_path / "ref_missing.pth")
    args = ["--config-file", str(cfg_file), "--input", str(tmp_path / "ref_missing.pth"), "--output",
            str(tmp_path / "partial.pth")]
    assert tool.main(args) == 1 and not (tmp_path / "partial.pth").exists()
    assert "heads.1.interaction.gaze_cls.0.2.weight" in capsys.readouterr().out
    assert tool.main(args + ["--allow-partial"]) == 0 and (tmp_path / "partial.pth").exists()


def _tool():
    spec = importlib.util.spec_from_file_location("convert_weights", REPO / "tools" / "convert_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_own_checkpoints_load_unchanged(tmp_path):
    model = build_model(tiny_cfg("resnet"))
    GGNetCheckpointer(model, save_dir=str(tmp_path)).save("mine")
    fresh = build_model(tiny_cfg("resnet"))
    GGNetCheckpointer(fresh).load(str(tmp_path / "mine.pth"))
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k


def _num_weights(model):
    """State-dict entries a checkpoint converts: all but GGNet's ``valid_verb_object`` (a dataset fact)."""
    return sum(not k.endswith("valid_verb_object") for k in model.state_dict())
