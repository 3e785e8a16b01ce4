"""Action-aware Points Matching (APM) regressor of GGNet (Sec. 3.2 "APM"; PPDM's point-matching offsets)."""
from torch import nn

from .common import conv_relu_conv

__all__ = ["APMHead"]


class APMHead(nn.Module):
    """From its input features (B, C_in, H, W) -- the glance features F0 in GGNet, the backbone's in PPDM --
    predicts, at every interaction point, the 2-D offsets (interaction point - subject center) and (interaction
    point - object center), feature-map pixels, (x, y).

    With ``per_verb`` (GGNet) each of ``subject``/``object`` has 2V channels, verb v in channels [2v, 2v+1]; without
    it (PPDM) one shared 2-channel regressor each. Submodules ``subject``/``object`` correspond to PPDM/GGNet's
    ``sub_offset``/``obj_offset`` heads.
    """

    def __init__(self, in_channels, num_verbs, head_conv=256, per_verb=True):
        super().__init__()
        out = 2 * num_verbs if per_verb else 2
        self.per_verb = per_verb
        self.subject = conv_relu_conv(in_channels, head_conv, out)
        self.object = conv_relu_conv(in_channels, head_conv, out)

    def forward(self, x):
        """Returns ``{"apm_subject": (B, 2V or 2, H, W), "apm_object": same}``."""
        return {"apm_subject": self.subject(x), "apm_object": self.object(x)}
