#!/usr/bin/env python
"""Write the text-embeddings file of a dataset's verbs and HOI classes with an open_clip CLIP text encoder.

Usage:
    python tools/build_text_embeddings.py --config-file configs/zero_shot/GGNet_DLA34_HICO_rare_first.yaml \
        --output pretrained/text/hico_ViT-B-32_hoi.npz [--dataset hico_det_train] [KEY VALUE ...]

Model, pretrained tag, prompt kind and templates come from MODEL.GGNET.TEXT.* (open_clip downloads the pretrained
weights on first use; ``MODEL.GGNET.TEXT.CLIP_PRETRAINED ""`` builds a random model, for tests). The verb, object and
HOI class lists come from the dataset's metadata (default: the first of DATASETS.TRAIN, else DATASETS.TEST). The file
records the prompts, the model name and the pretrained tag (ggnet_d2/modeling/language/text_embeddings.py).
"""
import argparse
import json

from detectron2.config import get_cfg
from detectron2.data import MetadataCatalog
from detectron2.utils.logger import setup_logger

import ggnet_d2  # noqa: F401  registers the built-in datasets
from ggnet_d2 import add_ggnet_config
from ggnet_d2.modeling.language import load_text_embeddings, save_text_embeddings
from ggnet_d2.modeling.language.clip_models import build_clip, build_text_embeddings, register_clip_config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", default="", help="GGNet config (MODEL.GGNET.TEXT.* choose model and prompts)")
    parser.add_argument("--output", required=True, help=".npz file to write")
    parser.add_argument("--dataset", default="", help="registered dataset whose classes are embedded")
    parser.add_argument("--clip-config", default="",
                        help="JSON open_clip model config registered under MODEL.GGNET.TEXT.CLIP_MODEL first")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE pairs")
    args = parser.parse_args(argv)
    logger = setup_logger(name="ggnet_d2")
    cfg = add_ggnet_config(get_cfg())
    if args.config_file:
        cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(args.opts)
    t = cfg.MODEL.GGNET.TEXT
    dataset = args.dataset or (list(cfg.DATASETS.TRAIN) + list(cfg.DATASETS.TEST) + [""])[0]
    if not dataset:
        parser.error("no dataset: give --dataset or DATASETS.TRAIN / DATASETS.TEST")
    if args.clip_config:
        import tempfile

        with open(args.clip_config) as f:
            register_clip_config(t.CLIP_MODEL, json.load(f), tempfile.mkdtemp(prefix="clip_cfg_"))
    meta = MetadataCatalog.get(dataset)
    hoi_classes = [tuple(int(x) for x in p) for p in (meta.get("hoi_classes", None) or [])]
    descriptions = {}
    if t.DESCRIPTIONS_FILE:
        with open(t.DESCRIPTIONS_FILE) as f:
            descriptions = json.load(f)
    model, tokenizer, _ = build_clip(t.CLIP_MODEL, t.CLIP_PRETRAINED, device=cfg.MODEL.DEVICE)
    emb = build_text_embeddings(model, tokenizer, verb_classes=list(meta.verb_classes),
                                object_classes=list(meta.thing_classes), hoi_classes=hoi_classes,
                                prompt_kind=t.PROMPT, model_name=t.CLIP_MODEL, pretrained=t.CLIP_PRETRAINED,
                                hoi_template=t.HOI_TEMPLATE, verb_template=t.VERB_TEMPLATE,
                                description_template=t.DESCRIPTION_TEMPLATE, descriptions=descriptions,
                                dataset=dataset)
    save_text_embeddings(args.output, emb)
    back = load_text_embeddings(args.output)
    logger.info(f"wrote {args.output}: {len(back.verb_classes)} verbs, {len(back.hoi_classes)} HOI classes, "
                f"dim {back.dim}, model {back.model!r} pretrained {back.pretrained!r}, prompts {back.prompt_kind!r} "
                f"(e.g. {back.verb_prompts[0][0]!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
