"""MODEL.GGNET.HEAD_BIAS_INIT: which head biases each rule leaves where, against the authors' Hourglass networks
(ggnet_hourglass_s1/_s2.py exkp: only hm, hm_rel, refine_head1/2 classifiers filled with -2.19; DCNv2 offset/mask
convs and deformable-conv biases 0; every other conv bias nn.Conv2d's default)."""
import math

import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.heads import apply_head_bias_init

from test_modeling_helpers import tiny_cfg

# our parameter name (suffix after "heads.<i>.") -> the authors' module, whose bias keeps nn.Conv2d's default
DEFAULT_IN_AUTHORS = {
    "object.hm.0.bias": "hm[s][0].conv", "object.wh.0.bias": "wh[s][0].conv", "object.wh.2.bias": "wh[s][1]",
    "object.reg.0.bias": "reg[s][0].conv", "object.reg.2.bias": "reg[s][1]",
    "interaction.glance_conv.bias": "hm_rel[s][0].conv", "interaction.gaze_feats.0.bias": "hm_dcn1[s].conv",
    "interaction.gaze_feats.1.bias": "hm_dcn2[s].conv",
    "apm.subject.0.bias": "sub_offset[s][0].conv", "apm.subject.2.bias": "sub_offset[s][1]",
    "apm.object.0.bias": "obj_offset[s][0].conv", "apm.object.2.bias": "obj_offset[s][1]",
}
PRIOR = ["object.hm.2.bias", "interaction.glance_cls.bias", "interaction.gaze_cls.0.bias",
         "interaction.gaze_cls.1.2.bias"]
DEFAULT_IN_BOTH = ["interaction.gaze_cls.1.0.bias"]  # refine_head2[s][0].conv: default here too
ZERO = ["interaction.gaze_offsets.0.bias", "interaction.gaze_offsets.1.bias", "interaction.gaze_dcns.0.bias",
        "interaction.gaze_dcns.1.bias"]


def _biases(rule):
    torch.manual_seed(0)
    model = build_model(tiny_cfg("hourglass", NUM_GAZE_STEPS=2, HEAD_BIAS_INIT=rule))
    return {k.split(".", 2)[2]: v for k, v in model.state_dict().items() if k.startswith("heads.0.") and
            k.endswith("bias")}, model


def test_authors_rule_redraws_exactly_their_default_biases():
    zero, _ = _biases("zero")
    theirs, model = _biases("pytorch_default")
    # every head bias is classified
    assert set(DEFAULT_IN_AUTHORS) | set(PRIOR) | set(ZERO) | set(DEFAULT_IN_BOTH) == set(zero)
    for name in DEFAULT_IN_AUTHORS:
        assert not zero[name].any(), name
        b = theirs[name]
        w = dict(model.named_parameters())["heads.0." + name[:-len("bias")] + "weight"]
        bound = 1 / math.sqrt(w[0].numel())
        assert b.abs().max() <= bound and b.abs().max() > 0.2 * bound and b.std() > 0, name
    for name in PRIOR:
        assert torch.all(zero[name] == -2.19) and torch.equal(theirs[name], zero[name]), name
    for name in DEFAULT_IN_BOTH:
        assert zero[name].any() and torch.equal(theirs[name], zero[name]), name
    for name in ZERO:
        assert not zero[name].any() and not theirs[name].any(), name


def test_unknown_rule():
    with pytest.raises(ValueError, match="HEAD_BIAS_INIT"):
        apply_head_bias_init(torch.nn.Conv2d(2, 2, 1), "authors")
