"""open_clip access for building text embeddings and for the CLIP distillation teacher (optional extra
``ggnet_d2[language]``: ``pip install -e '.[language]'``).

Nothing here downloads weights unless a pretrained tag is asked for: ``pretrained=""`` builds a randomly initialised
model from the model config (tests register a tiny one with :func:`register_clip_config`).
"""
import importlib.util
import json
import logging
import os

import numpy as np
import torch

from .prompts import hoi_prompts, verb_prompts
from .text_embeddings import TextEmbeddings

__all__ = ["import_open_clip", "register_clip_config", "build_clip", "encode_texts", "build_text_embeddings"]

logger = logging.getLogger(__name__)


def import_open_clip():
    """``import open_clip``, with ``nltk.download`` made a no-op during the import.

    Some open_clip releases call ``nltk.download(...)`` at import time when nltk is installed, which reaches the
    network (and hangs or fails offline); the tokenizer of the CLIP models used here does not need nltk data.

    Raises:
        ImportError: open_clip is not installed (the message names the extra to install).
    """
    if importlib.util.find_spec("open_clip") is None:
        raise ImportError("open_clip is not installed: pip install -e '.[language]' (open-clip-torch)")
    if importlib.util.find_spec("nltk") is None:
        import open_clip
        return open_clip
    import nltk
    original = nltk.download

    def _no_download(*args, **kwargs):
        logger.info(f"open_clip import: nltk.download{args} skipped (no network access from ggnet_d2)")
        return False

    nltk.download = _no_download
    try:
        import open_clip
    finally:
        nltk.download = original
    return open_clip


def register_clip_config(name, config, folder):
    """Register an open_clip model config under ``name`` through open_clip's public ``add_model_config``.

    Args:
        name (str): model name (the JSON file's stem, as open_clip names its configs).
        config (dict): ``embed_dim``, ``vision_cfg``, ``text_cfg`` as in open_clip's model_configs/*.json.
        folder (str): where ``<name>.json`` is written.

    Returns:
        str: the JSON file written.
    """
    open_clip = import_open_clip()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump(config, f)
    open_clip.add_model_config(path)
    return path


def build_clip(model_name, pretrained="", device="cpu"):
    """An open_clip CLIP model in eval mode, its tokenizer and its image normalisation.

    Args:
        model_name (str): open_clip model name (e.g. "ViT-B-32").
        pretrained (str): open_clip pretrained tag (e.g. "openai"; downloaded by open_clip on first use) or a
            checkpoint path; "" = random initialisation.
        device (str | torch.device): where the model lives.

    Returns:
        (model, tokenizer, (mean, std)): ``mean``/``std`` are the RGB image statistics (0-1 scale) of the model.
    """
    open_clip = import_open_clip()
    model = open_clip.create_model(model_name, pretrained=pretrained or None, device=device)
    model.eval()
    tokenizer = open_clip.get_tokenizer(model_name)
    mean = getattr(model.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
    std = getattr(model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
    return model, tokenizer, (tuple(mean), tuple(std))


@torch.no_grad()
def encode_texts(model, tokenizer, texts, batch_size=256):
    """L2-normalised text embeddings, float32 numpy (len(texts), D)."""
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(texts), batch_size):
        tokens = tokenizer(list(texts[i:i + batch_size])).to(device)
        out.append(torch.nn.functional.normalize(model.encode_text(tokens).float(), dim=-1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def build_text_embeddings(model, tokenizer, *, verb_classes, object_classes, hoi_classes, prompt_kind,
                          model_name, pretrained, hoi_template=None, verb_template=None, description_template=None,
                          descriptions=None, dataset=""):
    """Embed the verb prompts (each verb: normalised mean of its prompts' embeddings) and the HOI prompts.

    Args:
        model, tokenizer: from :func:`build_clip`.
        verb_classes, object_classes (list[str]); hoi_classes (list[tuple[int, int]]): (verb, object) ids.
        prompt_kind (str): "hoi", "verb" or "description" (``prompts.py``).
        model_name, pretrained (str): recorded in the file.

    Returns:
        TextEmbeddings (checked).
    """
    per_verb = verb_prompts(prompt_kind, verb_classes, object_classes, hoi_classes, hoi_template=hoi_template,
                            verb_template=verb_template, description_template=description_template,
                            descriptions=descriptions)
    flat = [p for ps in per_verb for p in ps]
    feats = encode_texts(model, tokenizer, flat)
    verb_emb, start = [], 0
    for ps in per_verb:
        mean = feats[start:start + len(ps)].mean(0)
        verb_emb.append(mean / max(np.linalg.norm(mean), 1e-12))
        start += len(ps)
    hoi_text = hoi_prompts(hoi_classes, verb_classes, object_classes, hoi_template or
                           "a photo of a person {verb} {object}") if hoi_classes else []
    hoi_emb = encode_texts(model, tokenizer, hoi_text) if hoi_text else None
    open_clip = import_open_clip()
    emb = TextEmbeddings(verb_embeddings=np.stack(verb_emb), verb_classes=list(verb_classes), verb_prompts=per_verb,
                         model=model_name, pretrained=pretrained or "", prompt_kind=prompt_kind,
                         hoi_embeddings=hoi_emb, hoi_classes=np.asarray(hoi_classes, np.int64).reshape(-1, 2),
                         hoi_prompts=hoi_text, object_classes=list(object_classes or []),
                         open_clip_version=getattr(open_clip, "__version__", ""), dataset=dataset)
    emb.check("built text embeddings")
    return emb
