"""Glance and gaze steps of GGNet (Sec. 3.2, Fig. 2, Eq. 1-3): interaction-point heatmaps and ActPoints."""
import math

import torch
from torch import nn

from ...layers import ModulatedDeformConv, split_offset_mask
from .verb_classifier import build_verb_classifier

__all__ = ["GlanceGazeHead"]


class GlanceGazeHead(nn.Module):
    """Glance: F0 = ReLU(3x3 conv(x)); glance heatmap = 1x1 conv(F0), V channels.

    Gaze step k (k = 1..K, K = ``num_gaze_steps``): a sqrt(n) x sqrt(n) conv on G_{k-1} (G_0 = F0) predicts 2n
    ActPoint offsets and n ActPoint weights (sigmoid); for k >= 2 the offsets are residuals added to step k-1's
    offsets (Eq. 2-3). F_k = ReLU(3x3 conv(x)) (one conv shared by all steps when ``share_gaze_convs``);
    G_k = ReLU(modulated deformable conv of F_k at those ActPoints); its heatmap is a 1x1 conv of G_k, except for the
    last step: 1x1 conv - ReLU - 1x1 conv (GGNet authors' ``make_kp_refine_layer``, hidden width
    int(sqrt(head_conv / V) * V)). All heatmap logits start at bias ``bias_init``; offset convs start at zero (the
    ActPoints start on the regular sqrt(n) x sqrt(n) grid around the point, with weights 0.5).

    ``verb_classifier`` "text" replaces each of those last V-channel 1x1 convs by a ``TextVerbClassifier`` (cosine
    similarity with ``text_embeddings`` (V, D), verb_classifier.py); the last step's hidden width is then
    ``head_conv`` (independent of V, so the head can be evaluated on another verb list).

    Input x: backbone features (B, C_in, H, W) at stride 4. Output dict:
      ``interaction_logits``: list of K+1 tensors (B, V, H, W): glance, gaze 1..K (the last is the final heatmap);
      ``glance_features``: F0 (B, head_conv, H, W), consumed by APM;
      ``actpoint_offsets``: (B, 2n, H, W) final step's offsets, channels [2k, 2k+1] = (dy, dx) of kernel position k
      (row-major), feature-map pixels relative to the regular grid; (B, 0, H, W) when K = 0;
      ``actpoint_weights``: (B, n, H, W) final step's weights in (0, 1); (B, 0, H, W) when K = 0.

    Raises:
        ValueError: when n is not an odd perfect square or K < 0.
    """

    def __init__(self, in_channels, num_verbs, head_conv=256, num_actpoints=25, num_gaze_steps=2,
                 share_gaze_convs=False, bias_init=-2.19, deform_conv_backend="torchvision", verb_classifier="conv",
                 text_embeddings=None, logit_scale_init=1.0 / 0.07):
        super().__init__()
        ks = int(round(math.sqrt(num_actpoints)))
        if ks * ks != num_actpoints or ks % 2 == 0:
            raise ValueError(f"NUM_ACTPOINTS must be an odd square (9, 25, 49), got {num_actpoints}")
        if num_gaze_steps < 0:
            raise ValueError(f"NUM_GAZE_STEPS must be >= 0, got {num_gaze_steps}")
        self.kernel_size, self.num_actpoints, self.num_gaze_steps = ks, num_actpoints, num_gaze_steps
        self.glance_conv = nn.Conv2d(in_channels, head_conv, 3, padding=1)

        def verb_cls(channels):
            return build_verb_classifier(verb_classifier, channels, num_verbs, bias_init, text_embeddings,
                                         logit_scale_init)

        self.glance_cls = verb_cls(head_conv)
        steps = num_gaze_steps
        self.gaze_offsets = nn.ModuleList(
            [nn.Conv2d(head_conv, 3 * num_actpoints, ks, padding=ks // 2) for _ in range(steps)])
        n_feats = min(steps, 1) if share_gaze_convs else steps
        self.gaze_feats = nn.ModuleList([nn.Conv2d(in_channels, head_conv, 3, padding=1) for _ in range(n_feats)])
        self.gaze_dcns = nn.ModuleList(
            [ModulatedDeformConv(head_conv, head_conv, ks, padding=ks // 2, backend=deform_conv_backend) for _ in range(steps)])
        mid = int(math.sqrt(head_conv / num_verbs) * num_verbs) if verb_classifier == "conv" else head_conv
        cls = [verb_cls(head_conv) for _ in range(max(steps - 1, 0))]
        if steps:
            cls.append(nn.Sequential(nn.Conv2d(head_conv, mid, 1), nn.ReLU(inplace=True), verb_cls(mid)))
        self.gaze_cls = nn.ModuleList(cls)
        for m in [self.glance_conv, *self.gaze_feats]:
            nn.init.zeros_(m.bias)
        for m in self.gaze_offsets:
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def glance_parameters(self):
        """Parameters of the glance step (``glance_conv``, ``glance_cls``): the authors' "hm_rel" modules, whose LR
        their --recover_loss_weight multiplies (src/main.py)."""
        return [*self.glance_conv.parameters(), *self.glance_cls.parameters()]

    def forward(self, x):
        f0 = torch.relu(self.glance_conv(x))
        logits = [self.glance_cls(f0)]
        b, _, h, w = f0.shape
        offsets = f0.new_zeros(b, 0, h, w)
        weights = f0.new_zeros(b, 0, h, w)
        g = f0
        shared_f = torch.relu(self.gaze_feats[0](x)) if len(self.gaze_feats) == 1 and self.num_gaze_steps else None
        for k in range(self.num_gaze_steps):
            step_offsets, weights = split_offset_mask(self.gaze_offsets[k](g))
            offsets = step_offsets if k == 0 else offsets + step_offsets
            f_k = shared_f if shared_f is not None else torch.relu(self.gaze_feats[k](x))
            g = torch.relu(self.gaze_dcns[k](f_k, offsets, weights))
            logits.append(self.gaze_cls[k](g))
        return {"interaction_logits": logits, "glance_features": f0, "actpoint_offsets": offsets,
                "actpoint_weights": weights}
