"""Hourglass-104 backbone (Newell et al. 2016, as used by CornerNet / CenterNet), GGNet's main backbone (Sec. 4.2).

Module names mirror CenterNet's ``large_hourglass.py`` (``pre``, ``kps``, ``cnvs``, ``inters``, ``inters_``,
``cnvs_``; inside ``kps``: ``up1``, ``low1``, ``low2``, ``low3``) so its COCO weights load by prefix rewriting.
"""
from torch import nn

from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, Backbone

__all__ = ["HourglassBackbone", "build_hourglass104_backbone"]


class Convolution(nn.Module):
    """k x k conv + BN + ReLU (CornerNet's ``convolution``)."""

    def __init__(self, k, inp_dim, out_dim, stride=1, with_bn=True):
        super().__init__()
        pad = (k - 1) // 2
        self.conv = nn.Conv2d(inp_dim, out_dim, k, padding=pad, stride=stride, bias=not with_bn)
        self.bn = nn.BatchNorm2d(out_dim) if with_bn else nn.Sequential()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Residual(nn.Module):
    """Two 3x3 conv-BN layers with a (projected when needed) skip connection (CornerNet's ``residual``)."""

    def __init__(self, k, inp_dim, out_dim, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp_dim, out_dim, 3, padding=1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(out_dim)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_dim, out_dim, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_dim)
        self.skip = (nn.Sequential(nn.Conv2d(inp_dim, out_dim, 1, stride=stride, bias=False), nn.BatchNorm2d(out_dim))
                     if stride != 1 or inp_dim != out_dim else nn.Sequential())
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu(out + self.skip(x))


def _layer(inp_dim, out_dim, modules, first_stride=1):
    layers = [Residual(3, inp_dim, out_dim, stride=first_stride)]
    layers += [Residual(3, out_dim, out_dim) for _ in range(1, modules)]
    return nn.Sequential(*layers)


def _layer_revr(inp_dim, out_dim, modules):
    layers = [Residual(3, inp_dim, inp_dim) for _ in range(modules - 1)]
    layers.append(Residual(3, inp_dim, out_dim))
    return nn.Sequential(*layers)


class KPModule(nn.Module):
    """One recursive hourglass level: ``up1`` keeps resolution, ``low1`` (stride 2) -> ``low2`` (inner hourglass)
    -> ``low3`` -> nearest 2x upsampling, summed with ``up1``."""

    def __init__(self, n, dims, modules):
        super().__init__()
        curr_dim, next_dim = dims[0], dims[1]
        self.up1 = _layer(curr_dim, curr_dim, modules[0])
        self.low1 = _layer(curr_dim, next_dim, modules[0], first_stride=2)
        self.low2 = KPModule(n - 1, dims[1:], modules[1:]) if n > 1 else _layer(next_dim, next_dim, modules[1])
        self.low3 = _layer_revr(next_dim, curr_dim, modules[0])
        self.up2 = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up1(x) + self.up2(self.low3(self.low2(self.low1(x))))


class HourglassBackbone(Backbone):
    """Stacked hourglass network.

    Input (B, 3, H, W), H and W multiples of 4 * 2 ** (len(dims) - 1) (128 for Hourglass-104). Output one entry per
    stack, ``{"hg0": ..., "hg{S-1}": ...}``, each (B, dims[0], H/4, W/4) in feature-map pixels (stride 4); GGNet
    applies its heads to every stack in training and to the last one at test (CenterNet's protocol).
    """

    def __init__(self, num_stacks, dims, modules, stem_channels):
        super().__init__()
        if len(dims) != len(modules) or len(dims) < 2:
            raise ValueError(f"HOURGLASS.DIMS and MODULES must have equal length >= 2, got {dims} / {modules}")
        n = len(dims) - 1
        curr_dim = cnv_dim = dims[0]
        self.num_stacks = num_stacks
        self._divisor = 4 * 2 ** n
        self.pre = nn.Sequential(Convolution(7, 3, stem_channels, stride=2),
                                 Residual(3, stem_channels, curr_dim, stride=2))
        self.kps = nn.ModuleList([KPModule(n, dims, modules) for _ in range(num_stacks)])
        self.cnvs = nn.ModuleList([Convolution(3, curr_dim, cnv_dim) for _ in range(num_stacks)])
        self.inters = nn.ModuleList([Residual(3, curr_dim, curr_dim) for _ in range(num_stacks - 1)])
        self.inters_ = nn.ModuleList([nn.Sequential(nn.Conv2d(curr_dim, curr_dim, 1, bias=False),
                                                    nn.BatchNorm2d(curr_dim)) for _ in range(num_stacks - 1)])
        self.cnvs_ = nn.ModuleList([nn.Sequential(nn.Conv2d(cnv_dim, curr_dim, 1, bias=False),
                                                  nn.BatchNorm2d(curr_dim)) for _ in range(num_stacks - 1)])
        self.relu = nn.ReLU(inplace=True)
        self._out_features = [f"hg{i}" for i in range(num_stacks)]
        self._out_feature_channels = {k: cnv_dim for k in self._out_features}
        self._out_feature_strides = {k: 4 for k in self._out_features}

    @property
    def size_divisibility(self):
        return self._divisor

    def forward(self, x):
        if x.shape[-1] % self._divisor or x.shape[-2] % self._divisor:
            raise ValueError(f"Hourglass input size must be a multiple of {self._divisor}, got {tuple(x.shape[-2:])}")
        inter = self.pre(x)
        outs = {}
        for i in range(self.num_stacks):
            cnv = self.cnvs[i](self.kps[i](inter))
            outs[f"hg{i}"] = cnv
            if i < self.num_stacks - 1:
                inter = self.inters[i](self.relu(self.inters_[i](inter) + self.cnvs_[i](cnv)))
        return outs

    def output_shape(self):
        return {k: ShapeSpec(channels=self._out_feature_channels[k], stride=4) for k in self._out_features}


@BACKBONE_REGISTRY.register()
def build_hourglass104_backbone(cfg, input_shape=None):
    """Build the stacked hourglass from ``cfg.MODEL.HOURGLASS`` (NUM_STACKS, DIMS, MODULES, STEM_CHANNELS)."""
    h = cfg.MODEL.HOURGLASS
    return HourglassBackbone(h.NUM_STACKS, list(h.DIMS), list(h.MODULES), h.STEM_CHANNELS)
