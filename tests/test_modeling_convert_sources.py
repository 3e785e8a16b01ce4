"""Strict conversion of every released reference network, at full size, from state dicts carrying the authors'
exact parameter names and shapes (tests/reference_layouts.py; nothing is allocated: meta tensors)."""
from pathlib import Path

import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.engine import setup_cfg
from ggnet_d2.modeling.checkpoint import (IncompleteCheckpointError, check_conversion, convert_reference_state_dict,
                                          detect_reference_source, format_conversion_report)

from reference_layouts import reference_layout

REPO = Path(__file__).resolve().parents[1]

# source -> (config, overrides, verbs)
CASES = {
    "ggnet_hourglass_s1": ("configs/released/GGNet_Hourglass104_HICO.yaml", [], 117),
    "ggnet_hourglass_s2": ("configs/released/GGNet_Hourglass104_VCOCO.yaml", [], 25),
    "ggnet_hourglass_s3": ("configs/GGNet_Hourglass104_HICO.yaml", ["MODEL.GGNET.NUM_GAZE_STEPS", "3"], 117),
    "ppdm_dla34": ("configs/released/PPDM_DLA34_HICO.yaml", [], 117),
    "ppdm_hourglass104": ("configs/released/PPDM_Hourglass104_HICO.yaml", [], 117),
    "centernet_dla34": ("configs/GGNet_DLA34_HICO.yaml", [], 117),
    "centernet_hourglass104": ("configs/GGNet_Hourglass104_HICO.yaml", [], 117),
}


def meta_model(config, overrides=()):
    cfg = setup_cfg(str(REPO / config), list(overrides) + ["MODEL.DEVICE", "meta", "DATASETS.TRAIN", "()",
                                                           "DATASETS.TEST", "()"])
    with torch.device("meta"):
        return build_model(cfg)


def meta_state(layout):
    return {"module." + k: torch.empty(shape, device="meta") for k, shape in layout.items()}


@pytest.mark.parametrize("source", sorted(CASES))
def test_every_reference_tensor_maps(source):
    config, overrides, verbs = CASES[source]
    model = meta_model(config, overrides)
    ref = meta_state(reference_layout(source, num_verbs=verbs))
    assert detect_reference_source(ref).key == source
    converted, report = convert_reference_state_dict(ref, model.state_dict(), apm_input=model.heads[0].apm_input)
    assert report["source"].key == source
    assert report["unmatched"] == [] and report["shape_mismatch"] == [] and report["missing"] == []
    assert report["problems"] == [] and report["complete"]
    assert report["unused"] == (["base.fc.weight", "base.fc.bias"] if source.endswith("dla34") else [])
    if source.startswith("centernet"):
        # the declared gap: exactly the HOI heads (glance, gaze, APM) of every stack
        assert report["accepted_gaps"] and all(".interaction." in k or ".apm." in k
                                               for k in report["accepted_gaps"])
        assert len(converted) + len(report["accepted_gaps"]) == _num_weights(model)
    else:
        assert report["accepted_gaps"] == [] and len(converted) == _num_weights(model)
    text = format_conversion_report(report)
    assert f"recognised source: {source}" in text and "conversion complete" in text


def test_ggnet_checkpoint_missing_one_gaze_tensor_fails_naming_it():
    model = meta_model(*CASES["ggnet_hourglass_s1"][:2])
    ref = meta_state(reference_layout("ggnet_hourglass_s1"))
    del ref["module.refine_dcn.1.conv_offset_mask.weight"]
    _, report = convert_reference_state_dict(ref, model.state_dict(), apm_input="glance")
    assert report["missing"] == ["heads.1.interaction.gaze_offsets.0.weight"] and not report["complete"]
    with pytest.raises(IncompleteCheckpointError, match=r"heads\.1\.interaction\.gaze_offsets\.0\.weight"):
        check_conversion(report)
    check_conversion(report, allow_partial=True)  # the override


def test_the_1_step_checkpoint_into_the_paper_2_step_model_is_refused():
    model = meta_model("configs/GGNet_Hourglass104_HICO.yaml")  # the paper's text: 2 gaze steps
    ref = meta_state(reference_layout("ggnet_hourglass_s1"))
    _, report = convert_reference_state_dict(ref, model.state_dict(), apm_input="glance")
    assert not report["complete"]
    assert any("1 gaze step(s), the model 2" in p for p in report["problems"])
    # s1's last classifier lands on gaze_cls.0.0/.2, which the 2-step model does not have (there it is one conv)
    assert "refine_head.0.0.conv.weight" in report["unmatched"]
    assert "heads.0.interaction.gaze_dcns.1.weight" in report["missing"]


def test_ppdm_hourglass_into_a_glance_apm_model_is_refused_although_shapes_agree():
    model = meta_model("configs/released/PPDM_Hourglass104_HICO.yaml", ["MODEL.GGNET.APM_INPUT", "glance"])
    ref = meta_state(reference_layout("ppdm_hourglass104"))
    _, report = convert_reference_state_dict(ref, model.state_dict(), apm_input="glance")
    assert not report["unmatched"] and not report["shape_mismatch"] and not report["missing"]
    assert not report["complete"] and "APM_INPUT" in report["problems"][0]


def test_ppdm_dla_into_a_glance_apm_model_mismatches_the_offset_heads():
    model = meta_model("configs/ablations/PPDM_baseline_DLA34_HICO.yaml", ["MODEL.GGNET.APM_INPUT", "glance"])
    ref = meta_state(reference_layout("ppdm_dla34"))
    _, report = convert_reference_state_dict(ref, model.state_dict())
    assert "sub_offset.0.weight -> heads.0.apm.subject.0.weight: (256, 64, 3, 3) vs (256, 256, 3, 3)" in \
        report["shape_mismatch"]


def test_the_ppdm_baseline_ablation_is_ppdms_network():
    model = meta_model("configs/ablations/PPDM_baseline_DLA34_HICO.yaml")
    _, report = convert_reference_state_dict(meta_state(reference_layout("ppdm_dla34")), model.state_dict(),
                                             apm_input=model.heads[0].apm_input)
    assert report["complete"] and not report["accepted_gaps"]


def _num_weights(model):
    """State-dict entries a checkpoint converts: all but GGNet's ``valid_verb_object`` (a dataset fact)."""
    return sum(not k.endswith("valid_verb_object") for k in model.state_dict())
