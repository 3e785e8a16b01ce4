"""Bias initialisation of GGNet's heads: ours (zero) or the GGNet authors' (PyTorch's default).

The heads are built with every hidden and regression conv bias at 0 and the heatmap classifiers at the sigmoid prior
-2.19 (CenterNet Sec. 4), as CenterNet/PPDM's DLA heads (``pose_dla_dcn.py``: ``fill_fc_weights`` zeroes the
regression heads' biases). The authors' GGNet Hourglass networks (``ggnet_hourglass_s1.py`` / ``_s2.py`` ``exkp``)
fill only the heatmap classifiers (``hm``, ``hm_rel``, ``refine_head1``, ``refine_head2``) with -2.19 and the DCNv2
offset/mask convs and deformable-conv biases with 0 (``dcn_v2.py`` ``init_offset``, ``reset_parameters``); every
other conv bias (the 3x3 convs of every head, ``hm_dcn1``/``hm_dcn2``, ``sub_offset``/``obj_offset``, ``wh``,
``reg``) keeps ``nn.Conv2d``'s default, uniform(+-1/sqrt(fan_in)).
"""
import math

from torch import nn

from ...config_choices import CHOICES, HEAD_BIAS_ZERO

__all__ = ["HEAD_BIAS_INITS", "apply_head_bias_init"]

HEAD_BIAS_INITS = CHOICES["MODEL.GGNET.HEAD_BIAS_INIT"]


def apply_head_bias_init(heads, rule):
    """Apply ``rule`` to freshly built heads (an ``nn.Module``), in place; returns ``heads``.

    "zero" keeps them as built. "pytorch_default" redraws, from uniform(+-1/sqrt(fan_in)) as ``nn.Conv2d`` does,
    the bias of every ``nn.Conv2d`` that was built with a zero bias and non-zero weights -- all but the heatmap
    classifiers (non-zero bias: their prior) and the ActPoint offset/mask convs (zero weights: DCNv2's
    ``init_offset``); the deformable convolutions' own biases (not ``nn.Conv2d``) stay 0, as DCNv2's.

    Raises:
        ValueError: an unknown rule.
    """
    if rule not in HEAD_BIAS_INITS:
        raise ValueError(f"MODEL.GGNET.HEAD_BIAS_INIT must be one of {HEAD_BIAS_INITS}, got {rule!r}")
    if rule == HEAD_BIAS_ZERO:
        return heads
    for m in heads.modules():
        if type(m) is nn.Conv2d and m.bias is not None and not m.bias.any() and m.weight.any():
            fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(m.bias, -bound, bound)
    return heads
