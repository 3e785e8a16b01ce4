"""Issue 12, items 2-3: one's own dataset trains through train_net.py with DATASETS.HOI.CUSTOM alone (registered in
the training process by setup_cfg), and the ggnet_d2 logger writes the dataset summary to OUTPUT_DIR/log.txt."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def _make_dataset(root, num_images=4):
    """``num_images`` 64x48 images: a person (file id 1) holding (verb 2) a ball (file id 3), plus one bad record."""
    rng = np.random.RandomState(0)
    (root / "images").mkdir(parents=True)
    records = []
    for i in range(num_images):
        Image.fromarray(rng.randint(0, 255, (48, 64, 3), np.uint8)).save(root / "images" / f"{i}.png")
        records.append({"file_name": f"{i}.png",
                        "annotations": [{"bbox": [2, 4, 30, 46], "category_id": 1},
                                        {"bbox": [28 + i, 20, 40 + i, 32], "category_id": 3}],
                        "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 2}]})
    records.append({"file_name": "0.png", "annotations": [{"bbox": [1, 1, float("nan"), 9], "category_id": 1}],
                    "hoi_annotation": []})
    (root / "train.json").write_text(json.dumps(records))
    return root / "train.json", root / "images"


def test_custom_dataset_trains_through_train_net_with_config_key(tmp_path):
    json_file, images = _make_dataset(tmp_path / "data")
    out = tmp_path / "out"
    empty = tmp_path / "no_datasets"
    empty.mkdir()
    opts = [
        "DATASETS.HOI.CUSTOM", f"[('my_hoi_train', '{json_file}', '{images}')]",
        "DATASETS.TRAIN", "('my_hoi_train',)", "DATASETS.TEST", "('my_hoi_train',)",
        "MODEL.GGNET.NUM_CLASSES", "2", "MODEL.GGNET.NUM_VERBS", "1", "MODEL.GGNET.HEAD_CONV", "8",
        "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]", "INPUT.GGNET.INPUT_SIZE", "64",
        "SOLVER.IMS_PER_BATCH", "2", "SOLVER.MAX_ITER", "2", "SOLVER.STEPS", "()", "SOLVER.CHECKPOINT_PERIOD", "100",
        "DATALOADER.NUM_WORKERS", "0", "OUTPUT_DIR", str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO), DETECTRON2_DATASETS=str(empty))
    run = subprocess.run([sys.executable, "train_net.py", "--config-file", "configs/quickstart/GGNet_R18_synth.yaml",
                          *opts], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (out / "model_final.pth").is_file()
    log = (out / "log.txt").read_text()
    # ggnet_d2's own lines reach log.txt once each, with detectron2's timestamped format
    summary = [line for line in log.splitlines() if "skipped 1 of 5 images" in line]
    assert len(summary) == 1 and "non_finite_value: 1" in summary[0] and "image #4 (0.png)" in summary[0]
    assert summary[0].startswith("[") and "ggnet_d2.data" in summary[0]
    # once, though detectron2 loads the dataset three times (train loader, test loader, evaluator)
    assert sum("4 HOIs in 4 images" in line for line in log.splitlines()) == 1
    assert "HOI evaluation on my_hoi_train" in log  # the evaluator's table
    # the bad-record summary goes to the console once, not once more unformatted on stderr
    assert (run.stdout + run.stderr).count("skipped 1 of 5 images") == 1
    metrics = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    losses = [m for m in metrics if "total_loss" in m]
    assert losses[-1]["iteration"] == 1 and np.isfinite(losses[-1]["total_loss"])
