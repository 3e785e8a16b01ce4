"""DLA-34 backbone with CenterNet's DLAUp/IDAUp upsampling, output stride 4 (GGNet Sec. 4.2, ablation backbone).

Module names mirror CenterNet's ``pose_dla_dcn.py`` (``base``, ``dla_up``, ``ida_up``; inside ``base``:
``base_layer``, ``level0``..``level5``, ``tree1``/``tree2``/``root``/``project``) so CenterNet's COCO weights load by
prefix rewriting.
"""
import torch
from torch import nn

from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, Backbone

from ...config_choices import UP_CONV_DCN, resolve_choice
from .dla_up import DLAUp, IDAUp

__all__ = ["DLA", "DLASegBackbone", "build_dla34_backbone"]

BN_MOMENTUM = 0.1


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection (ResNet basic block, DLA's block for DLA-34)."""

    def __init__(self, inplanes, planes, stride=1, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, bias=False, dilation=dilation)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=dilation, bias=False, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)

    def forward(self, x, residual=None):
        residual = x if residual is None else residual
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class Root(nn.Module):
    """Aggregation node: 1x1 conv-BN-ReLU over the concatenated children."""

    def __init__(self, in_channels, out_channels, kernel_size, residual):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, stride=1, bias=False, padding=(kernel_size - 1) // 2)
        self.bn = nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual

    def forward(self, *children):
        x = self.bn(self.conv(torch.cat(children, 1)))
        if self.residual:
            x = x + children[0]
        return self.relu(x)


class Tree(nn.Module):
    """Hierarchical deep aggregation tree of DLA."""

    def __init__(self, levels, block, in_channels, out_channels, stride=1, level_root=False, root_dim=0,
                 root_kernel_size=1, dilation=1, root_residual=False):
        super().__init__()
        if root_dim == 0:
            root_dim = 2 * out_channels
        if level_root:
            root_dim += in_channels
        if levels == 1:
            self.tree1 = block(in_channels, out_channels, stride, dilation=dilation)
            self.tree2 = block(out_channels, out_channels, 1, dilation=dilation)
            self.root = Root(root_dim, out_channels, root_kernel_size, root_residual)
        else:
            self.tree1 = Tree(levels - 1, block, in_channels, out_channels, stride, root_dim=0,
                              root_kernel_size=root_kernel_size, dilation=dilation, root_residual=root_residual)
            self.tree2 = Tree(levels - 1, block, out_channels, out_channels, root_dim=root_dim + out_channels,
                              root_kernel_size=root_kernel_size, dilation=dilation, root_residual=root_residual)
        self.level_root = level_root
        self.levels = levels
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
        self.project = None
        if in_channels != out_channels:
            self.project = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=1, bias=False),
                                         nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM))

    def forward(self, x, residual=None, children=None):
        children = [] if children is None else children
        bottom = self.downsample(x) if self.downsample is not None else x
        residual = self.project(bottom) if self.project is not None else bottom
        if self.level_root:
            children.append(bottom)
        x1 = self.tree1(x, residual)
        if self.levels == 1:
            return self.root(self.tree2(x1), x1, *children)
        children.append(x1)
        return self.tree2(x1, children=children)


class DLA(nn.Module):
    """DLA base network: (B, 3, H, W) -> list of 6 feature maps at strides 1, 2, 4, 8, 16, 32 with ``channels``."""

    def __init__(self, levels, channels):
        super().__init__()
        if len(levels) != 6 or len(channels) != 6:
            raise ValueError(f"DLA needs 6 levels and 6 channel counts, got {levels} / {channels}")
        self.channels = list(channels)
        self.base_layer = nn.Sequential(nn.Conv2d(3, channels[0], 7, stride=1, padding=3, bias=False),
                                        nn.BatchNorm2d(channels[0], momentum=BN_MOMENTUM), nn.ReLU(inplace=True))
        self.level0 = self._make_conv_level(channels[0], channels[0], levels[0])
        self.level1 = self._make_conv_level(channels[0], channels[1], levels[1], stride=2)
        self.level2 = Tree(levels[2], BasicBlock, channels[1], channels[2], 2, level_root=False)
        self.level3 = Tree(levels[3], BasicBlock, channels[2], channels[3], 2, level_root=True)
        self.level4 = Tree(levels[4], BasicBlock, channels[3], channels[4], 2, level_root=True)
        self.level5 = Tree(levels[5], BasicBlock, channels[4], channels[5], 2, level_root=True)

    @staticmethod
    def _make_conv_level(inplanes, planes, convs, stride=1):
        modules = []
        for i in range(convs):
            modules += [nn.Conv2d(inplanes, planes, 3, stride=stride if i == 0 else 1, padding=1, bias=False),
                        nn.BatchNorm2d(planes, momentum=BN_MOMENTUM), nn.ReLU(inplace=True)]
            inplanes = planes
        return nn.Sequential(*modules)

    def forward(self, x):
        x = self.base_layer(x)
        out = []
        for i in range(6):
            x = getattr(self, f"level{i}")(x)
            out.append(x)
        return out


class DLASegBackbone(Backbone):
    """DLA + DLAUp + IDAUp (CenterNet's ``DLASeg`` without heads).

    Input (B, 3, H, W) normalised image, H and W multiples of 32 (input pixels). Output ``{"p2": (B, channels[2],
    H/4, W/4)}``, feature-map pixels at stride 4.
    """

    def __init__(self, levels, channels, use_dcn=True, dcn_backend="torchvision"):
        super().__init__()
        self.first_level, self.last_level = 2, 5  # stride 4 output, CenterNet's down_ratio=4
        self.base = DLA(levels, channels)
        chans = self.base.channels[self.first_level:]
        self.dla_up = DLAUp(self.first_level, chans, [2 ** i for i in range(len(chans))], use_dcn,
                            dcn_backend)
        self.ida_up = IDAUp(chans[0], self.base.channels[self.first_level:self.last_level],
                            [2 ** i for i in range(self.last_level - self.first_level)], use_dcn,
                            dcn_backend)
        self._out_features = ["p2"]
        self._out_feature_channels = {"p2": chans[0]}
        self._out_feature_strides = {"p2": 4}

    @property
    def size_divisibility(self):
        return 32

    def forward(self, x):
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"DLA-34 input size must be a multiple of 32, got {tuple(x.shape[-2:])}")
        levels = self.dla_up(self.base(x))
        y = [levels[i].clone() for i in range(self.last_level - self.first_level)]
        self.ida_up(y, 0, len(y))
        return {"p2": y[-1]}

    def output_shape(self):
        return {"p2": ShapeSpec(channels=self._out_feature_channels["p2"], stride=4)}


@BACKBONE_REGISTRY.register()
def build_dla34_backbone(cfg, input_shape=None):
    """Build DLA-34 + DLAUp from ``cfg.MODEL.DLA`` (LEVELS, CHANNELS, UP_CONV in {"dcn", "conv"}).

    Raises:
        ValueError: for an unknown UP_CONV.
    """
    up = resolve_choice("MODEL.DLA.UP_CONV", cfg.MODEL.DLA.UP_CONV)
    return DLASegBackbone(cfg.MODEL.DLA.LEVELS, cfg.MODEL.DLA.CHANNELS, use_dcn=(up == UP_CONV_DCN),
                          dcn_backend=cfg.MODEL.DEFORM_CONV_BACKEND)
