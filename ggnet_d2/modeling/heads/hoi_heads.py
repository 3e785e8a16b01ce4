"""All of GGNet's heads applied to one backbone feature map (one Hourglass stack, or the single DLA/ResNet map)."""
from torch import nn

from ...config_choices import APM_INPUT_GLANCE, resolve_choice
from .apm_head import APMHead
from .glance_gaze_head import GlanceGazeHead
from .object_head import ObjectHead

__all__ = ["HOIHeads"]


class HOIHeads(nn.Module):
    """``object`` (ObjectHead), ``interaction`` (GlanceGazeHead) and ``apm`` (APMHead).

    ``apm_input`` chooses what APM reads: ``"glance"`` the glance features F0 (GGNet Sec. 3.2; the authors'
    ggnet_hourglass_s1/s2.py), ``"backbone"`` the backbone features x like every other head (PPDM's pose_dla_dcn.py
    / large_hourglass.py, so PPDM's checkpoints load into this variant). ``verb_classifier``, ``text_embeddings``
    and ``logit_scale_init`` go to GlanceGazeHead (MODEL.GGNET.VERB_CLASSIFIER, issue 23).

    forward(x (B, C_in, H, W)) -> dict with every key of the three heads' outputs (see their docstrings).

    Raises:
        ValueError: ``apm_input`` is neither ``"glance"`` nor ``"backbone"``.
    """

    def __init__(self, in_channels, *, num_classes, num_verbs, head_conv=256, num_actpoints=25, num_gaze_steps=2,
                 share_gaze_convs=False, apm_per_verb=True, bias_init=-2.19, apm_input="glance",
                 deform_conv_backend="torchvision", verb_classifier="conv", text_embeddings=None,
                 logit_scale_init=1.0 / 0.07):
        super().__init__()
        self.object = ObjectHead(in_channels, num_classes, head_conv, bias_init)
        self.interaction = GlanceGazeHead(in_channels, num_verbs, head_conv, num_actpoints, num_gaze_steps,
                                          share_gaze_convs, bias_init, deform_conv_backend, verb_classifier,
                                          text_embeddings, logit_scale_init)
        self.apm_input = apm_input = resolve_choice("MODEL.GGNET.APM_INPUT", apm_input)
        self.apm = APMHead(head_conv if apm_input == APM_INPUT_GLANCE else in_channels, num_verbs, head_conv,
                           apm_per_verb)

    def forward(self, x):
        out = self.object(x)
        inter = self.interaction(x)
        out.update(inter)
        out.update(self.apm(inter["glance_features"] if self.apm_input == APM_INPUT_GLANCE else x))
        return out
