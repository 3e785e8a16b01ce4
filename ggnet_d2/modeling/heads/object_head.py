"""Object detection branch of GGNet (Sec. 3.1, CenterNet's heads): center heatmap, box size and center offset."""
from torch import nn

from .common import conv_relu_conv

__all__ = ["ObjectHead"]


class ObjectHead(nn.Module):
    """Predicts, from backbone features (B, C_in, H, W) at stride 4:

    - ``obj_heatmap`` (B, C, H, W) logits of object centers (bias init ``bias_init``, -2.19);
    - ``obj_wh`` (B, 2, H, W) box width and height in feature-map pixels;
    - ``obj_offset`` (B, 2, H, W) sub-pixel center offset (x, y) in feature-map pixels.

    Submodules ``hm``, ``wh``, ``reg`` are named as CenterNet's heads.
    """

    def __init__(self, in_channels, num_classes, head_conv=256, bias_init=-2.19):
        super().__init__()
        self.hm = conv_relu_conv(in_channels, head_conv, num_classes, bias_init=bias_init)
        self.wh = conv_relu_conv(in_channels, head_conv, 2)
        self.reg = conv_relu_conv(in_channels, head_conv, 2)

    def forward(self, x):
        return {"obj_heatmap": self.hm(x), "obj_wh": self.wh(x), "obj_offset": self.reg(x)}
