"""Issue 20, Deliver item 4: one prediction format everywhere, checked on the figure itself.

One checkpoint (the tiny quickstart GGNet memorizing the first 4 synthetic held-out images, trained once per module)
is evaluated twice on the same images: by ``train_net.py --eval-only``, and by ``demo/demo.py`` (same config and
options) whose ``predictions.json`` ``tools/evaluate_hoi.py`` then scores. The two paths decode images, resize and
map coordinates separately (test mapper + evaluator vs. the demo's predictor), so equal entries and equal figures
mean the demo's JSON is ``--eval-only``'s. Both a dataset registered in Python and one registered from the command
line (``DATASETS.HOI.CUSTOM`` / ``evaluate_hoi.py --custom``) are compared.
"""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.engine import default_argument_parser

from conftest import QUICKSTART, TINY_R18_OPTS
from ggnet_d2.engine import GGNetTrainer, setup_cfg

REPO = Path(__file__).resolve().parents[1]
# Memorization: no augmentation, so the test input is the training input; Adam at the HOI-W demo's rate. The number of
# iterations is chosen so that the mAP lands strictly between 0 and 100 (equality of two 0s or 100s says little).
NO_AUGMENTATION = ("INPUT.GGNET.SCALE_RANGE", "(1.0, 1.0)", "INPUT.GGNET.SHIFT", "0.0", "INPUT.GGNET.FLIP_PROB", "0.0",
                   "INPUT.GGNET.COLOR_JITTER", "0.0")
TRAIN_ITERS = 60


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def memorized_checkpoint(tmp_path_factory, tiny_synth_test):
    """model_final.pth of the tiny GGNet trained TRAIN_ITERS iterations on the 4 images of ``tiny_synth_test``."""
    out = tmp_path_factory.mktemp("parity_train")
    cfg = setup_cfg(QUICKSTART, [
        *TINY_R18_OPTS, *NO_AUGMENTATION, "DATASETS.TRAIN", f"('{tiny_synth_test}',)", "DATASETS.TEST", "()",
        "SOLVER.BASE_LR", "0.003", "SOLVER.MAX_ITER", str(TRAIN_ITERS), "SOLVER.STEPS", "()",
        "SOLVER.CHECKPOINT_PERIOD", "100000", "OUTPUT_DIR", str(out)])
    trainer = GGNetTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    return out / "model_final.pth"


def _same_entries(eval_only_file, demo_file):
    """The two prediction files hold the same entries (``image_id``, which --eval-only adds, aside)."""
    eval_only = {e["file_name"]: {k: v for k, v in e.items() if k != "image_id"}
                 for e in json.loads(Path(eval_only_file).read_text())}
    demo = {e["file_name"]: e for e in json.loads(Path(demo_file).read_text())}
    assert sorted(demo) == sorted(eval_only)
    for name in demo:
        assert demo[name] == eval_only[name], name


def _assert_same_figures(eval_only, offline, digits):
    """Every figure of ``eval_only`` (``{metric: percent}``) printed with ``digits`` decimals equals ``offline``'s."""
    assert sorted(offline) == sorted(eval_only)
    for key, value in eval_only.items():
        assert f"{offline[key]:.{digits}f}" == f"{value:.{digits}f}", key
    full = eval_only["mAP_default_full"]
    assert 0 < full < 100, f"mAP {full}: train more or fewer iterations so that equality means something"
    assert math.isfinite(eval_only["mean_recall_default_full"])


def test_demo_json_through_evaluate_hoi_equals_eval_only(tmp_path, memorized_checkpoint, tiny_synth_test):
    opts = [*TINY_R18_OPTS, "MODEL.WEIGHTS", str(memorized_checkpoint), "DATASETS.TEST", f"('{tiny_synth_test}',)"]
    train_net = _module("ggnet_train_net", REPO / "train_net.py")
    args = default_argument_parser().parse_args(
        ["--config-file", QUICKSTART, "--eval-only", *opts, "OUTPUT_DIR", str(tmp_path / "eval")])
    eval_only = train_net.main(args)["hoi"]

    images = [d["file_name"] for d in DatasetCatalog.get(tiny_synth_test)]
    # the demo's default --confidence-threshold only selects what is drawn; the JSON keeps every triplet
    _module("ggnet_demo_main", REPO / "demo" / "demo.py").main(
        ["--config-file", QUICKSTART, "--input", *images, "--output", str(tmp_path / "demo"), "--opts", *opts])
    demo_file = tmp_path / "demo" / "predictions.json"
    _same_entries(tmp_path / "eval" / "inference" / tiny_synth_test / "predictions.json", demo_file)

    tool = _module("ggnet_evaluate_hoi", REPO / "tools" / "evaluate_hoi.py")
    offline = tool.main(["--predictions", str(demo_file), "--dataset", tiny_synth_test])["hoi"]
    _assert_same_figures(eval_only, offline, digits=2)  # the evaluator's table prints two decimals
    # the same entries through the same scorer: the same numbers, not just the same rounded ones (NaN: no rare class)
    assert {k: repr(v) for k, v in offline.items()} == {k: repr(v) for k, v in eval_only.items()}


def _custom_dataset(folder, tiny_synth_test):
    """A PPDM-style JSON of the 4 images of ``tiny_synth_test`` (their file's records): (json path, image root,
    image paths)."""
    meta = MetadataCatalog.get("synth_hoi_test")
    names = {os.path.basename(d["file_name"]) for d in DatasetCatalog.get(tiny_synth_test)}
    records = [r for r in json.loads(Path(meta.json_file).read_text()) if r["file_name"] in names]
    folder.mkdir()
    (folder / "test.json").write_text(json.dumps(records))
    return folder / "test.json", meta.image_root, [os.path.join(meta.image_root, r["file_name"]) for r in records]


def _copypaste(log):
    """The last ``{metric: value}`` printed by detectron2's print_csv_format ("copypaste:" lines, 4 decimals)."""
    lines = [line.split("copypaste: ", 1)[1] for line in log.splitlines() if "copypaste: " in line]
    keys, values = lines[-2].split(","), lines[-1].split(",")
    return dict(zip(keys, values))


def test_custom_dataset_from_the_command_line(tmp_path, memorized_checkpoint, tiny_synth_test):
    json_file, image_root, images = _custom_dataset(tmp_path / "data", tiny_synth_test)
    name = "parity_custom_test"
    things = "[(1, 'person'), (2, 'ball'), (3, 'bike'), (4, 'box')]"
    verbs = "[(1, 'hold'), (2, 'throw'), (3, 'kick'), (4, 'ride'), (5, 'push'), (6, 'carry'), (7, 'sit_on')]"
    opts = [*TINY_R18_OPTS, "MODEL.WEIGHTS", str(memorized_checkpoint),
            "DATASETS.HOI.CUSTOM", f"[('{name}', '{json_file}', '{image_root}')]",
            "DATASETS.HOI.CUSTOM_THING_CLASSES", things, "DATASETS.HOI.CUSTOM_VERB_CLASSES", verbs,
            "DATASETS.TRAIN", "()", "DATASETS.TEST", f"('{name}',)"]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))

    def run(*command):
        done = subprocess.run([sys.executable, *command], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    run("train_net.py", "--config-file", QUICKSTART, "--eval-only", *opts, "OUTPUT_DIR", str(tmp_path / "eval"))
    eval_only = _copypaste((tmp_path / "eval" / "log.txt").read_text())
    run("demo/demo.py", "--config-file", QUICKSTART, "--input", *images, "--output",
        str(tmp_path / "demo"), "--opts", *opts)
    demo_file = tmp_path / "demo" / "predictions.json"
    _same_entries(tmp_path / "eval" / "inference" / name / "predictions.json", demo_file)
    # the config and options of --eval-only: DATASETS.HOI.CUSTOM registered with the model's 7-verb table
    done = run("tools/evaluate_hoi.py", "--predictions", str(demo_file), "--dataset", name,
               "--config-file", QUICKSTART, "--opts", *opts)
    lines = done.stdout.splitlines()  # the ggnet_d2 log lines, then the results JSON (indent 1)
    start = max(i for i, line in enumerate(lines) if line == "{")
    offline = json.loads("\n".join(lines[start:]))["hoi"]
    _assert_same_figures({k: float(v) for k, v in eval_only.items()}, offline, digits=4)

    # --custom alone takes the file's own ids: the 4 images hold 4 of the 7 verbs, so the triplets of the other 3
    # cannot be decoded; the error says what to give instead
    tool = _module("ggnet_evaluate_hoi", REPO / "tools" / "evaluate_hoi.py")
    with pytest.raises(ValueError, match="unknown verb category_id .*--config-file"):
        tool.main(["--predictions", str(demo_file), "--dataset", "parity_custom_file_ids",
                   "--custom", "parity_custom_file_ids", str(json_file), str(image_root)])


@pytest.mark.parametrize("where", [["--ground-truth", "test_hico.json"],
                                   ["--dataset", "d", "--custom", "d", "d.json", "im"]])
def test_evaluate_hoi_config_goes_with_a_registered_dataset_alone(where, capsys):
    tool = _module("ggnet_evaluate_hoi", REPO / "tools" / "evaluate_hoi.py")
    with pytest.raises(SystemExit) as exit_info:
        tool.main(["--predictions", "p.json", *where, "--config-file", QUICKSTART])
    assert exit_info.value.code == 2
    assert "--config-file / --opts" in capsys.readouterr().err
