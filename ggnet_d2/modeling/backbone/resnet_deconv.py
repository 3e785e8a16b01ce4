"""ResNet-18/50 + three deconvolution layers to output stride 4 (CenterNet's ``msra_resnet.py``, after Xiao et al.,
"Simple Baselines", 2018): the light CPU configs of ggnet_d2 (not in the GGNet paper).

Module names mirror CenterNet (``conv1``, ``bn1``, ``layer1``..``layer4``, ``deconv_layers``).
"""
import torchvision
from torch import nn

from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, Backbone

__all__ = ["ResNetDeconvBackbone", "build_resnet_deconv_backbone"]


class ResNetDeconvBackbone(Backbone):
    """Input (B, 3, H, W), H and W multiples of 32. Output ``{"p2": (B, deconv_channels[-1], H/4, W/4)}``.

    Raises:
        ValueError: for a depth other than 18 or 50.
    """

    def __init__(self, depth, deconv_channels, imagenet_pretrained=False):
        super().__init__()
        builders = {18: torchvision.models.resnet18, 50: torchvision.models.resnet50}
        if depth not in builders:
            raise ValueError(f"MODEL.RESNET_DECONV.DEPTH must be 18 or 50, got {depth}")
        net = builders[depth](weights="DEFAULT" if imagenet_pretrained else None)
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        inplanes = 512 * (4 if depth == 50 else 1)
        layers = []
        for planes in deconv_channels:
            up = nn.ConvTranspose2d(inplanes, planes, 4, stride=2, padding=1, output_padding=0, bias=False)
            nn.init.normal_(up.weight, std=0.001)  # CenterNet's deconv initialisation
            layers += [up, nn.BatchNorm2d(planes), nn.ReLU(inplace=True)]
            inplanes = planes
        self.deconv_layers = nn.Sequential(*layers)
        self._stride = 32 // 2 ** len(deconv_channels)
        self._out_features = ["p2"]
        self._out_feature_channels = {"p2": inplanes}
        self._out_feature_strides = {"p2": self._stride}

    @property
    def size_divisibility(self):
        return 32

    def forward(self, x):
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"ResNet-deconv input size must be a multiple of 32, got {tuple(x.shape[-2:])}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return {"p2": self.deconv_layers(x)}

    def output_shape(self):
        return {"p2": ShapeSpec(channels=self._out_feature_channels["p2"], stride=self._stride)}


@BACKBONE_REGISTRY.register()
def build_resnet_deconv_backbone(cfg, input_shape=None):
    """Build from ``cfg.MODEL.RESNET_DECONV`` (DEPTH 18/50, DECONV_CHANNELS, IMAGENET_PRETRAINED)."""
    r = cfg.MODEL.RESNET_DECONV
    return ResNetDeconvBackbone(r.DEPTH, list(r.DECONV_CHANNELS), r.IMAGENET_PRETRAINED)
