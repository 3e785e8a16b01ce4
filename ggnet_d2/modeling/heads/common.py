"""Small building blocks shared by GGNet's heads."""
from torch import nn

__all__ = ["conv_relu_conv"]


def conv_relu_conv(in_channels, mid_channels, out_channels, kernel_size=3, bias_init=0.0):
    """CenterNet's head: k x k conv (``.0``) + ReLU (``.1``) + 1x1 conv (``.2``); (B, in, H, W) -> (B, out, H, W).

    ``bias_init`` fills the last conv's bias (-2.19 for heatmaps: sigmoid prior 0.1, CenterNet Sec. 4).
    """
    head = nn.Sequential(nn.Conv2d(in_channels, mid_channels, kernel_size, padding=kernel_size // 2),
                         nn.ReLU(inplace=True), nn.Conv2d(mid_channels, out_channels, 1))
    nn.init.constant_(head[0].bias, 0.0)
    nn.init.constant_(head[2].bias, bias_init)
    return head
