#!/usr/bin/env python
"""Evaluate a zero-shot checkpoint with the test-time verb-object restriction taken from its TRAINING annotations,
to show what that restriction costs (issue 23): the unseen classes are no (verb, object) pair of the training set,
so no interaction is ever matched to an object of an unseen class and their AP is 0.

``GGNetTrainer.test`` (train_net.py, tools/quickstart.py) refuses that restriction under a zero-shot split
(``check_zero_shot_restriction``); this script is the one place that builds it, on purpose, and it says so. The
model's own restriction (the dataset's full HOI class list) is replaced by
``ggnet_d2.data.zero_shot.annotated_verb_objects`` of the training dicts after the split's removal
(``zero_shot_train_dicts``), the pairs it drops are printed, and each test dataset is evaluated as ``--eval-only``
does (predictions under ``OUTPUT_DIR/inference_training_restriction/<dataset>/``):

    python tools/zero_shot_training_restriction.py \\
        --config-file configs/zero_shot/GGNet_R18_synth_compositional_UC.yaml \\
        MODEL.WEIGHTS output/zero_shot/GGNet_R18_synth_compositional_UC/model_final.pth
"""
import argparse
import json
import os

import numpy as np


def main(argv=None):
    """Run the CLI; returns {test dataset: evaluator results}.

    Raises:
        ValueError: the config sets no zero-shot split (nothing is held out, so the demonstration means nothing).
    """
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", required=True, help="a config with DATASETS.HOI.ZERO_SHOT_SPLIT set")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE pairs (MODEL.WEIGHTS)")
    args = parser.parse_args(argv)

    from detectron2.evaluation import inference_on_dataset
    from detectron2.utils.logger import setup_logger

    from ggnet_d2.data.zero_shot import annotated_verb_objects, zero_shot_train_dicts
    from ggnet_d2.engine import GGNetTrainer, setup_cfg
    from ggnet_d2.modeling.checkpoint import load_inference_weights

    setup_logger(name="detectron2")
    setup_logger(name="ggnet_d2")
    cfg = setup_cfg(args.config_file, args.opts)
    if not cfg.DATASETS.HOI.ZERO_SHOT_SPLIT:
        raise ValueError(f"{args.config_file}: DATASETS.HOI.ZERO_SHOT_SPLIT is not set: no class is held out")
    model = GGNetTrainer.build_model(cfg)
    load_inference_weights(model, cfg)
    g = cfg.MODEL.GGNET
    full = model.valid_verb_object.cpu().numpy()
    train = annotated_verb_objects(zero_shot_train_dicts(cfg), g.NUM_VERBS, g.NUM_CLASSES)
    dropped = [(int(v), int(o)) for v, o in np.argwhere(full & ~train)]
    print(f"[training restriction] the model's restriction ({model.valid_verb_object_source}, {int(full.sum())} "
          f"pairs) replaced by the training annotations' ({int(train.sum())} pairs); (verb, object) pairs it drops: "
          f"{dropped}")
    model.set_valid_verb_object(train, "training annotations (tools/zero_shot_training_restriction.py)")
    results = {}
    for name in cfg.DATASETS.TEST:
        out = os.path.join(cfg.OUTPUT_DIR, "inference_training_restriction", name)
        evaluator = GGNetTrainer.build_evaluator(cfg, name, out)
        results[name] = inference_on_dataset(model, GGNetTrainer.build_test_loader(cfg, name), evaluator)
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
