"""Language side of open-vocabulary GGNet (issue 23): prompts, the text-embeddings file, and access to open_clip.

Only ``clip_models`` imports open_clip (optional extra ``ggnet_d2[language]``); inference with a text verb
classifier needs the embeddings file alone (``text_embeddings``)."""
from .prompts import PROMPT_KINDS, gerund, hoi_prompts, verb_prompts
from .text_embeddings import TextEmbeddings, apply_text_verb_list, load_text_embeddings, save_text_embeddings

__all__ = ["PROMPT_KINDS", "gerund", "hoi_prompts", "verb_prompts", "TextEmbeddings", "load_text_embeddings",
           "save_text_embeddings", "apply_text_verb_list"]
