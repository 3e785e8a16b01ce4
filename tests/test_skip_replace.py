"""Issue 20, item 1: under the "skip" policy a training image that cannot be used is replaced by another one and
counted, on every supported Python (detectron2 v0.6's own retry calls ``random.sample`` on a set, a TypeError from
Python 3.11 on), and ``train_net.py`` finishes on a set that holds such images."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ggnet_d2.data import BadRecordError
from ggnet_d2.data.replacing_map_dataset import ReplacingMapDataset

REPO = Path(__file__).resolve().parents[1]


def _bad_when_odd(d):
    return None if d["i"] % 2 else {"mapped": d["i"]}


def test_skipped_item_is_replaced_by_a_good_one_and_counted(caplog):
    ds = ReplacingMapDataset([{"i": i} for i in range(10)], _bad_when_odd)
    with caplog.at_level(logging.WARNING, logger="ggnet_d2.data.replacing_map_dataset"):
        got = [ds[i]["mapped"] for i in range(10)]
    assert [got[i] for i in range(0, 10, 2)] == [0, 2, 4, 6, 8]  # good items are themselves
    assert all(g % 2 == 0 for g in got)  # each bad one replaced by a good one
    assert ds.num_replaced >= 5  # 5 bad items, each replaced once or more (a draw may hit another bad one)
    lines = [r.getMessage() for r in caplog.records if r.name == "ggnet_d2.data.replacing_map_dataset"]
    assert len(lines) == ds.num_replaced and f"{ds.num_replaced} image(s) replaced so far" in lines[-1]
    assert "replaced by" in lines[0] and "main process" in lines[0]


def test_all_items_skipped_is_a_named_error():
    ds = ReplacingMapDataset([{"i": 1}, {"i": 3}, {"i": 5}], _bad_when_odd)
    with pytest.raises(BadRecordError, match="all 3 training images were skipped"):
        ds[0]


def _truncated_jpeg(path, size=(64, 48), seed=0):
    rng = np.random.RandomState(seed)
    Image.fromarray(rng.randint(0, 255, (size[1], size[0], 3), np.uint8)).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _exif_rotated_jpeg(path):
    """A phone photo: 64x48 pixels stored, EXIF orientation 6 (rotate 90 degrees clockwise to view), so the viewer and
    the annotation tool show it 48x64 (width x height)."""
    stored = np.random.RandomState(5).randint(0, 255, (48, 64, 3), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, quality=95, exif=exif)


def make_user_dataset(root):
    """4 good PNGs, 2 truncated JPEGs and one EXIF-rotated JPEG, none with height/width in its record; boxes in the
    orientation shown (48 wide, 64 high for the rotated photo)."""
    images = root / "images"
    images.mkdir(parents=True)
    rng = np.random.RandomState(0)
    records = []
    for i in range(4):
        Image.fromarray(rng.randint(0, 255, (48, 64, 3), np.uint8)).save(images / f"{i}.png")
        records.append({"file_name": f"{i}.png",
                        "annotations": [{"bbox": [2, 4, 30, 46], "category_id": 1},
                                        {"bbox": [28 + i, 20, 40 + i, 32], "category_id": 3}],
                        "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 2}]})
    for i in range(2):
        _truncated_jpeg(images / f"truncated{i}.jpg", seed=i)
        records.append(dict(records[0], file_name=f"truncated{i}.jpg"))
    _exif_rotated_jpeg(images / "phone.jpg")
    records.append({"file_name": "phone.jpg",
                    "annotations": [{"bbox": [2, 30, 40, 62], "category_id": 1},
                                    {"bbox": [10, 4, 30, 20], "category_id": 3}],
                    "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 2}]})
    (root / "train.json").write_text(json.dumps(records))
    return root / "train.json", images


def test_train_net_finishes_on_a_set_with_undecodable_images(tmp_path):
    json_file, images = make_user_dataset(tmp_path / "data")
    out = tmp_path / "out"
    empty = tmp_path / "no_datasets"
    empty.mkdir()
    opts = [
        "DATASETS.HOI.CUSTOM", f"[('my_hoi_train', '{json_file}', '{images}')]",
        "DATASETS.TRAIN", "('my_hoi_train',)", "DATASETS.TEST", "()",
        "MODEL.GGNET.NUM_CLASSES", "2", "MODEL.GGNET.NUM_VERBS", "1", "MODEL.GGNET.HEAD_CONV", "8",
        "MODEL.RESNET_DECONV.DECONV_CHANNELS", "[16, 16, 16]", "INPUT.GGNET.INPUT_SIZE", "64",
        "SOLVER.IMS_PER_BATCH", "2", "SOLVER.MAX_ITER", "7", "SOLVER.STEPS", "()", "SOLVER.CHECKPOINT_PERIOD", "100",
        "DATALOADER.NUM_WORKERS", "1", "DATASETS.HOI.BAD_RECORD_POLICY", "skip", "OUTPUT_DIR", str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO), DETECTRON2_DATASETS=str(empty))
    run = subprocess.run([sys.executable, "train_net.py", "--config-file", "configs/quickstart/GGNet_R18_synth.yaml",
                          *opts], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (out / "model_final.pth").is_file()
    log = (out / "log.txt").read_text()
    # 7 iterations of 2 = 14 draws of TrainingSampler's permutations of the 7 images: every image is read at least
    # twice, each truncated one is named and replaced, and the count grows
    for name in ("truncated0.jpg", "truncated1.jpg"):
        assert f"{name} (image_id" in log and "the image cannot be decoded" in log
    assert "phone.jpg" not in log  # the EXIF-rotated photo is read as shown (issue 20 item 2): neither loader nor mapper skip it
    replaced = [line for line in log.splitlines() if "replaced so far in data-loader worker 0" in line]
    assert len(replaced) >= 2 and "2 image(s) replaced so far" in log
    metrics = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    assert [m["iteration"] for m in metrics if "total_loss" in m][-1] == 6
    # issue 20 item 8, first contact: progress lines before the writer's first (iteration 20), plain-text log.txt,
    # and no device warning for a config that names no device
    for line in ("Building the model (GGNet", "Reading the training data: my_hoi_train", "iteration 1/7: ",
                 "iteration 5/7: "):
        assert line in log, line
    assert "\x1b" not in log and "MODEL.DEVICE is cuda" not in run.stdout + run.stderr
