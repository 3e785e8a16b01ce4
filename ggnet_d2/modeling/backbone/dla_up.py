"""CenterNet's DLAUp / IDAUp aggregation (Zhou et al., "Objects as Points", 2019; Yu et al., "Deep Layer
Aggregation", 2018), upsampling DLA-34 features to output stride 4.

Attribute names (``proj_i``, ``up_i``, ``node_i``, ``ida_i``, ``actf``, ``conv``) mirror CenterNet's
``pose_dla_dcn.py`` so its released weights load by prefix rewriting (see ``checkpoint/convert.py``).
"""
import math

import numpy as np
from torch import nn

from ...layers import ModulatedDeformConvPack

__all__ = ["DeformConvBlock", "IDAUp", "DLAUp", "fill_up_weights"]

BN_MOMENTUM = 0.1


def fill_up_weights(up):
    """Initialise a depth-wise ConvTranspose2d as bilinear upsampling (CenterNet's initialisation)."""
    w = up.weight.data
    f = math.ceil(w.size(2) / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for i in range(w.size(2)):
        for j in range(w.size(3)):
            w[0, 0, i, j] = (1 - math.fabs(i / f - c)) * (1 - math.fabs(j / f - c))
    w[1:, 0] = w[0, 0]


class DeformConvBlock(nn.Module):
    """3x3 modulated deformable conv (or plain conv when ``use_dcn`` is False) + BN + ReLU: (B, chi, H, W) ->
    (B, cho, H, W)."""

    def __init__(self, chi, cho, use_dcn=True, dcn_backend="torchvision"):
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(cho, momentum=BN_MOMENTUM), nn.ReLU(inplace=True))
        if use_dcn:
            self.conv = ModulatedDeformConvPack(chi, cho, 3, stride=1, padding=1, backend=dcn_backend)
        else:
            self.conv = nn.Conv2d(chi, cho, 3, padding=1)

    def forward(self, x):
        return self.actf(self.conv(x))


class IDAUp(nn.Module):
    """Iterative deep aggregation: projects each level to ``o`` channels, upsamples it by ``up_f[i]`` and merges it
    with the previous level."""

    def __init__(self, o, channels, up_f, use_dcn=True, dcn_backend="torchvision"):
        super().__init__()
        for i in range(1, len(channels)):
            f = int(up_f[i])
            up = nn.ConvTranspose2d(o, o, f * 2, stride=f, padding=f // 2, output_padding=0, groups=o, bias=False)
            fill_up_weights(up)
            setattr(self, f"proj_{i}", DeformConvBlock(channels[i], o, use_dcn, dcn_backend))
            setattr(self, f"up_{i}", up)
            setattr(self, f"node_{i}", DeformConvBlock(o, o, use_dcn, dcn_backend))

    def forward(self, layers, startp, endp):
        """Updates ``layers[startp + 1: endp]`` in place (list of (B, C_i, H_i, W_i) tensors)."""
        for i in range(startp + 1, endp):
            j = i - startp
            layers[i] = getattr(self, f"up_{j}")(getattr(self, f"proj_{j}")(layers[i]))
            layers[i] = getattr(self, f"node_{j}")(layers[i] + layers[i - 1])


class DLAUp(nn.Module):
    """Deep layer aggregation upsampling over DLA levels ``startp``..end; returns the list of aggregated levels,
    finest first."""

    def __init__(self, startp, channels, scales, use_dcn=True, dcn_backend="torchvision"):
        super().__init__()
        self.startp = startp
        channels = list(channels)
        in_channels = list(channels)
        scales = np.array(scales, dtype=int)
        for i in range(len(channels) - 1):
            j = -i - 2
            setattr(self, f"ida_{i}", IDAUp(channels[j], in_channels[j:], scales[j:] // scales[j], use_dcn,
                                                dcn_backend))
            scales[j + 1:] = scales[j]
            in_channels[j + 1:] = [channels[j] for _ in channels[j + 1:]]

    def forward(self, layers):
        layers = list(layers)
        out = [layers[-1]]
        for i in range(len(layers) - self.startp - 1):
            getattr(self, f"ida_{i}")(layers, len(layers) - i - 2, len(layers))
            out.insert(0, layers[-1])
        return out
