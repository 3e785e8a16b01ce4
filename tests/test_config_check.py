"""Issue 19 item 4 and issue 20 item 5: one table of choice values (named by behaviour, earlier names accepted with a
deprecation warning) and one check of the whole config at start, before any data is read."""
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from detectron2.config import get_cfg

from ggnet_d2 import add_ggnet_config
from ggnet_d2.config_choices import CHOICES, RENAMED, resolve_choice
from ggnet_d2.engine import ConfigError, check_ggnet_config, setup_cfg

REPO = Path(__file__).resolve().parents[1]

# The cases of issue 20: (opts, what the error must say about them).
BAD_VALUES = {
    "MODEL.GGNET.TEST.MATCH_RULE": ("foo", "must be one of ['eq8', 'score_over_offset_area']"),
    "MODEL.GGNET.TEST.BOX_CLIP": ("foo", "must be one of ['clip', 'clamp_corner_min_side']"),
    "INPUT.GGNET.TEST_PLACEMENT": ("foo", "must be one of ['top_left', 'center']"),
    "MODEL.GGNET.TEST.TOPK_INTERACTIONS": ("0", "must be an integer >= 1"),
    "MODEL.GGNET.TEST.TOPK_HUMANS": ("0", "must be an integer >= 1"),
    "INPUT.GGNET.INPUT_SIZE": ("130", "must be a multiple of 32"),
    "MODEL.GGNET.NUM_ACTPOINTS": ("16", "must be the square of an odd number"),
    "MODEL.GGNET.PERSON_CLASS_ID": ("4", "must be a class id in [0, MODEL.GGNET.NUM_CLASSES = 4)"),
    "MODEL.GGNET.NUM_VERBS": ("0", "must be an integer >= 1"),
    "MODEL.GGNET.NUM_GAZE_STEPS": ("-1", "must be an integer >= 0"),
    "MODEL.GGNET.LOSS.WH_WEIGHT": ("-0.1", "must be a number >= 0"),
    "DATASETS.HOI.BOX_CLIP_TOLERANCE": ("-1.0", "must be a number >= 0"),
    "INPUT.GGNET.MAX_HOIS": ("0", "must be an integer >= 1"),
    "MODEL.GGNET.LOSS.GAZE_TARGET": ("blurry", "must be one of ['glance', 'sharp']"),
    "INPUT.GGNET.CROP": ("random", "must be one of ['center_affine', 'random_crop_border']"),
    "DATASETS.HOI.BAD_RECORD_POLICY": ("ignore", "must be one of ['skip', 'error']"),
    "SOLVER.OPTIMIZER": ("LAMB", "must be one of ['ADAM', 'SGD']"),
    "SOLVER.FINITE_CHECK_PERIOD": ("0", "must be an integer >= 1"),
    "MODEL.GGNET.DISTILL.WEIGHT": ("-1.0", "must be a number >= 0"),
}


def _default_cfg():
    return add_ggnet_config(get_cfg())


def _get(cfg, key):
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def test_every_choice_key_exists_and_its_default_is_allowed():
    cfg = _default_cfg()
    for key, allowed in CHOICES.items():
        assert _get(cfg, key) in allowed, key
    for key, renamed in RENAMED.items():
        assert set(renamed.values()) <= set(CHOICES[key]) and not set(renamed) & set(CHOICES[key]), key
    assert check_ggnet_config(cfg) is cfg


def test_deform_conv_choices_are_the_backends():
    from ggnet_d2.layers.deform_conv import DEFORM_CONV_BACKENDS
    assert set(CHOICES["MODEL.DEFORM_CONV_BACKEND"]) == set(DEFORM_CONV_BACKENDS) | {"auto"}


def test_no_config_value_is_named_after_people():
    assert not [(k, v) for k, values in CHOICES.items() for v in values if "author" in str(v).lower()]
    for path in (REPO / "configs").rglob("*.yaml"):
        text = yaml.safe_load(path.read_text())
        stack = [text]
        while stack:  # every value of the YAML tree (comments are not values)
            node = stack.pop()
            if isinstance(node, dict):
                stack += list(node.values())
            elif isinstance(node, str):
                assert node != "authors", path


@pytest.mark.parametrize("key", sorted(BAD_VALUES))
def test_setup_cfg_names_each_bad_value(key, quickstart_config):
    value, message = BAD_VALUES[key]
    with pytest.raises(ConfigError) as e:
        setup_cfg(quickstart_config, [key, value])
    assert f"{key} = " in str(e.value) and message in str(e.value)
    assert str(e.value).startswith("1 bad config value(s)")


def test_one_error_lists_every_bad_value(quickstart_config):
    opts = [x for key, (value, _) in BAD_VALUES.items() for x in (key, value)]
    with pytest.raises(ConfigError) as e:
        setup_cfg(quickstart_config, opts)
    text = str(e.value)
    assert text.startswith(f"{len(BAD_VALUES)} bad config value(s)")
    for key, (value, message) in BAD_VALUES.items():
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{key} = "))
        assert message in line, line


@pytest.mark.parametrize("opts, key", [
    (["INPUT.GGNET.INPUT_SIZE", "96", "INPUT.GGNET.SIZE_DIVISIBILITY", "64"], "INPUT.GGNET.INPUT_SIZE"),
    (["MODEL.GGNET.OUTPUT_STRIDE", "8"], "MODEL.GGNET.OUTPUT_STRIDE"),
    (["MODEL.GGNET.VALID_VERB_OBJECT", "[[7, 0]]"], "MODEL.GGNET.VALID_VERB_OBJECT"),
    (["MODEL.BACKBONE.NAME", "build_no_such_backbone"], "MODEL.BACKBONE.NAME"),
    (["MODEL.GGNET.TEST.SCORE_THRESH", "1.5"], "MODEL.GGNET.TEST.SCORE_THRESH"),
    (["INPUT.GGNET.SCALE_RANGE", "(1.4, 0.6)"], "INPUT.GGNET.SCALE_RANGE"),
])
def test_sizes_and_registries_are_checked(opts, key, quickstart_config):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        setup_cfg(quickstart_config, opts)


def test_backbone_size_divisibility_counts():
    # Hourglass-104 pads to 128: a 64 input would be padded to 128 and no longer match its 16x16 targets
    cfg = _default_cfg()
    cfg.merge_from_file(str(REPO / "configs" / "GGNet_Hourglass104_HICO.yaml"))
    cfg.INPUT.GGNET.SIZE_DIVISIBILITY, cfg.INPUT.GGNET.INPUT_SIZE = 0, 64
    with pytest.raises(ConfigError, match=r"INPUT_SIZE = 64: must be a multiple of 128"):
        check_ggnet_config(cfg)
    cfg.INPUT.GGNET.INPUT_SIZE = 256
    check_ggnet_config(cfg)


def test_renamed_values_are_accepted_and_replaced(tmp_path, quickstart_config):
    old = tmp_path / "old_names.yaml"
    old.write_text(yaml.safe_dump({
        "_BASE_": quickstart_config,
        "MODEL": {"GGNET": {"TEST": {"MATCH_RULE": "authors", "BOX_CLIP": "authors"}}},
        "INPUT": {"GGNET": {"CROP": "authors"}}}))
    cfg = setup_cfg(str(old), ["SOLVER.OPTIMIZER", "adam"])
    assert (cfg.MODEL.GGNET.TEST.MATCH_RULE, cfg.MODEL.GGNET.TEST.BOX_CLIP, cfg.INPUT.GGNET.CROP,
            cfg.SOLVER.OPTIMIZER) == ("score_over_offset_area", "clamp_corner_min_side", "random_crop_border", "ADAM")


def test_deprecation_warning_is_logged_once_with_key_old_and_new(monkeypatch, caplog):
    old = f"old_{uuid.uuid4().hex[:8]}"  # a name no other test has used: detectron2's log_first_n counts per message
    monkeypatch.setitem(RENAMED, "INPUT.GGNET.CROP", {old: "random_crop_border"})
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.config_choices"):
        assert resolve_choice("INPUT.GGNET.CROP", old) == "random_crop_border"
        assert resolve_choice("INPUT.GGNET.CROP", old) == "random_crop_border"
    hits = [r.getMessage() for r in caplog.records if old in r.getMessage()]
    assert hits == [f"INPUT.GGNET.CROP {old!r} is deprecated; it is now called 'random_crop_border' (same "
                    f"behaviour)"]


def test_constructor_arguments_use_the_same_table():
    from ggnet_d2.modeling.heads import HOIHeads
    assert HOIHeads(8, num_classes=2, num_verbs=2, head_conv=8, num_actpoints=9, num_gaze_steps=0,
                    apm_input="backbone").apm_input == "backbone"
    with pytest.raises(ValueError, match=r"MODEL\.GGNET\.APM_INPUT = 'features': must be one of"):
        HOIHeads(8, num_classes=2, num_verbs=2, head_conv=8, num_actpoints=9, num_gaze_steps=0, apm_input="features")
    with pytest.raises(ValueError, match=r"MODEL\.GGNET\.TEST\.BOX_CLIP = 'none'"):
        resolve_choice("MODEL.GGNET.TEST.BOX_CLIP", "none")
    assert resolve_choice("MODEL.RESNET_DECONV.DEPTH", 50) == 50
    with pytest.raises(ValueError, match="DEPTH = True"):
        resolve_choice("MODEL.RESNET_DECONV.DEPTH", True)


def test_train_net_fails_fast_naming_every_bad_key(tmp_path, quickstart_config):
    """End to end: train_net.py stops at the config, before a dataset is looked up (the training set named here is
    not registered) or a model is built, and names each bad key."""
    opts = [x for key, (value, _) in BAD_VALUES.items() for x in (key, value)]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, str(REPO / "train_net.py"), "--config-file", quickstart_config, "MODEL.DEVICE", "cpu",
         "DATASETS.TRAIN", "('no_such_dataset_registered',)", "OUTPUT_DIR", str(tmp_path / "out"), *opts],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and f"{len(BAD_VALUES)} bad config value(s)" in proc.stderr
    for key, (value, message) in BAD_VALUES.items():
        assert f"{key} = " in proc.stderr and message in proc.stderr, key
    assert "no_such_dataset_registered" not in proc.stderr  # no dataset was looked up
    assert not (tmp_path / "out").exists()  # default_setup (output dir, log) never ran
