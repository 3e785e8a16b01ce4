"""The converter maps state dicts named as in CenterNet / PPDM / GGNet (built here from our module shapes with the
reference naming) onto ours, tensor for tensor."""
import re

import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.checkpoint import GGNetCheckpointer, convert_reference_state_dict

from test_modeling_helpers import tiny_cfg

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
    ref["module.hm.2.weight"] = torch.randn(80, 8, 1, 1)  # COCO's 80 classes vs our 4: skipped
    ref["module.hm.2.bias"] = torch.randn(80)
    ref["module.base.fc.weight"] = torch.randn(1000, 32, 1, 1)
    converted, report = convert_reference_state_dict(ref, model.state_dict())
    assert report["unmatched"] == ["base.fc.weight"]
    assert len(report["shape_mismatch"]) == 2 and "hm.2.weight -> heads.0.object.hm.2.weight" in \
        report["shape_mismatch"][0]
    assert "heads.0.object.hm.2.weight" in report["not_loaded"]
    assert converted["backbone.dla_up.ida_0.proj_1.conv.conv_offset_mask.weight"].shape[0] == 27
    path = tmp_path / "centernet.pth"
    torch.save({"epoch": 70, "state_dict": ref}, path)
    fresh = build_model(tiny_cfg("dla", NUM_GAZE_STEPS=0))
    GGNetCheckpointer(fresh).load(str(path))
    sd = fresh.state_dict()
    for k, v in converted.items():
        assert torch.equal(sd[k], v), k


def test_own_checkpoints_load_unchanged(tmp_path):
    model = build_model(tiny_cfg("resnet"))
    GGNetCheckpointer(model, save_dir=str(tmp_path)).save("mine")
    fresh = build_model(tiny_cfg("resnet"))
    GGNetCheckpointer(fresh).load(str(tmp_path / "mine.pth"))
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
