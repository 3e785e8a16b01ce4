"""All of GGNet's heads applied to one backbone feature map (one Hourglass stack, or the single DLA/ResNet map)."""
from torch import nn

from .apm_head import APMHead
from .glance_gaze_head import GlanceGazeHead
from .object_head import ObjectHead

__all__ = ["HOIHeads"]


class HOIHeads(nn.Module):
    """``object`` (ObjectHead), ``interaction`` (GlanceGazeHead) and ``apm`` (APMHead on the glance features F0).

    forward(x (B, C_in, H, W)) -> dict with every key of the three heads' outputs (see their docstrings).
    """

    def __init__(self, in_channels, *, num_classes, num_verbs, head_conv=256, num_actpoints=25, num_gaze_steps=2,
                 share_gaze_convs=False, apm_per_verb=True, bias_init=-2.19,
                 deform_conv_backend="torchvision"):
        super().__init__()
        self.object = ObjectHead(in_channels, num_classes, head_conv, bias_init)
        self.interaction = GlanceGazeHead(in_channels, num_verbs, head_conv, num_actpoints, num_gaze_steps,
                                          share_gaze_convs, bias_init, deform_conv_backend)
        self.apm = APMHead(head_conv, num_verbs, head_conv, apm_per_verb)

    def forward(self, x):
        out = self.object(x)
        inter = self.interaction(x)
        out.update(inter)
        out.update(self.apm(inter["glance_features"]))
        return out
