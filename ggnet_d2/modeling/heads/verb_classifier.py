"""Verb classifiers at the end of GGNet's interaction heads (glance and every gaze step): the paper's V-channel 1x1
conv, or a language-defined classifier whose class list is data (issue 23)."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VERB_CLASSIFIERS", "TextVerbClassifier", "build_verb_classifier"]

VERB_CLASSIFIERS = ("conv", "text")


class TextVerbClassifier(nn.Module):
    """Per-pixel cosine similarity with fixed text embeddings: logits = s * <P x / |P x|, t_v> + b.

    P is a learnable 1x1 conv to the text dimension D, t_v the L2-normalised text embedding of verb v (a
    non-persistent buffer: it comes from the embeddings file named in the config, so a checkpoint can be evaluated
    on another verb list), s = exp(``log_scale``) a learnable logit scale (CLIP's / GEN-VLKT's ``logit_scale``), and
    b one learnable bias shared by all verbs, initialised at ``bias_init`` (the focal-loss prior, -2.19 = p 0.1,
    CenterNet Sec. 4). A shared bias keeps every parameter independent of V.

    forward(x (B, C_in, H, W)) -> logits (B, V, H, W).

    Args:
        in_channels (int): C_in.
        embeddings (array-like (V, D)): text embeddings (normalised here).
        logit_scale_init (float): initial s (> 0).
        bias_init (float): initial b.

    Raises:
        ValueError: embeddings not (V, D) with V, D > 0, non-finite, or a non-positive scale.
    """

    def __init__(self, in_channels, embeddings, logit_scale_init=1.0 / 0.07, bias_init=-2.19):
        super().__init__()
        emb = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
        if emb.ndim != 2 or 0 in emb.shape or not torch.isfinite(emb).all():
            raise ValueError(f"text embeddings must be a finite (V, D) array, got shape {tuple(emb.shape)}")
        if not logit_scale_init > 0:
            raise ValueError(f"MODEL.GGNET.TEXT.LOGIT_SCALE_INIT must be > 0, got {logit_scale_init}")
        self.proj = nn.Conv2d(in_channels, emb.shape[1], 1)
        self.register_buffer("text_embeddings", F.normalize(emb, dim=1), persistent=False)
        self.log_scale = nn.Parameter(torch.tensor(math.log(logit_scale_init)))
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))

    @property
    def num_verbs(self):
        return self.text_embeddings.shape[0]

    def set_text_embeddings(self, embeddings):
        """Replace the verb list: (V', D) embeddings (same D)."""
        emb = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32, device=self.text_embeddings.device)
        if emb.ndim != 2 or emb.shape[1] != self.text_embeddings.shape[1]:
            raise ValueError(f"text embeddings must be (V, {self.text_embeddings.shape[1]}), got {tuple(emb.shape)}")
        self.text_embeddings = F.normalize(emb, dim=1)

    def forward(self, x):
        f = F.normalize(self.proj(x), dim=1)
        logits = torch.einsum("bdhw,vd->bvhw", f, self.text_embeddings.to(f.dtype))
        return logits * self.log_scale.exp() + self.bias


def build_verb_classifier(kind, in_channels, num_verbs, bias_init, text_embeddings=None, logit_scale_init=1 / 0.07):
    """The last layer of an interaction head: (B, in_channels, H, W) -> (B, V, H, W) verb logits.

    Args:
        kind (str): "conv" (1x1 conv, bias ``bias_init``; Sec. 3.2) or "text" (:class:`TextVerbClassifier`).
        text_embeddings (array (V, D) | None): required for "text"; then V = its rows and ``num_verbs`` must agree.

    Raises:
        ValueError: unknown kind, "text" without embeddings, or V disagreeing with ``num_verbs``.
    """
    if kind == "conv":
        conv = nn.Conv2d(in_channels, num_verbs, 1)
        nn.init.constant_(conv.bias, bias_init)
        return conv
    if kind != "text":
        raise ValueError(f"MODEL.GGNET.VERB_CLASSIFIER must be one of {VERB_CLASSIFIERS}, got {kind!r}")
    if text_embeddings is None:
        raise ValueError("MODEL.GGNET.VERB_CLASSIFIER 'text' needs text embeddings (MODEL.GGNET.TEXT.EMBEDDINGS_FILE)")
    if len(text_embeddings) != num_verbs:
        raise ValueError(f"{len(text_embeddings)} text embeddings for {num_verbs} verbs")
    return TextVerbClassifier(in_channels, text_embeddings, logit_scale_init, bias_init)
