"""HICODetEvaluator gives identical results in one process and in two (gloo, CPU, torch.multiprocessing spawn)."""
import json
import os
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from detectron2.structures import Boxes, Instances

from ggnet_d2.evaluation import HICODetEvaluator

import test_eval_hico as toy  # noqa: E402  (tests/ is on sys.path under pytest's rootdir conftest-less layout)


def _images(seed=0, n=6):
    """Toy ground truth and model outputs (docs/interfaces.md fields) with jitter and false positives."""
    rng = np.random.default_rng(seed)
    gt, inputs, outputs = {}, [], []
    for i in range(n):
        name = f"img{i}.jpg"
        pairs = [(int(rng.integers(0, 3)), toy.SUB, toy.OBJ) for _ in range(int(rng.integers(0, 3)))]
        gt[name] = pairs
        m = 5
        cls = np.concatenate([[p[0] for p in pairs], rng.integers(0, 3, m - len(pairs))]).astype(np.int64)
        sub = np.array(toy.SUB, float) + rng.normal(0, 1.5, (m, 4))
        obj = np.array(toy.OBJ, float) + rng.normal(0, 1.5, (m, 4))
        hoi_cls = np.array(toy.META.hoi_classes)[cls]
        inst = Instances((50, 50), pred_boxes=Boxes(torch.tensor(np.concatenate([sub, obj]), dtype=torch.float32)),
                         scores=torch.ones(2 * m),
                         pred_classes=torch.tensor(np.concatenate([np.zeros(m, int), hoi_cls[:, 1]])))
        hoi = Instances((50, 50), subject_boxes=Boxes(torch.tensor(sub)), object_boxes=Boxes(torch.tensor(obj)),
                        subject_indices=torch.arange(m), object_indices=torch.arange(m, 2 * m),
                        object_classes=torch.tensor(hoi_cls[:, 1]), verb_classes=torch.tensor(hoi_cls[:, 0]),
                        scores=torch.tensor(np.round(rng.random(m), 2)))
        inputs.append({"file_name": f"/x/{name}", "image_id": i, "height": 50, "width": 50})
        outputs.append({"instances": inst, "hoi_instances": hoi})
    return gt, inputs, outputs


def _worker(rank, world, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    gt, inputs, outputs = _images()
    ev = HICODetEvaluator(ground_truth=gt, metadata=toy.META, distributed=True)
    ev.reset()
    for k in range(rank, len(inputs), world):  # a strided shard, as InferenceSampler-like splits
        ev.process([inputs[k]], [outputs[k]])
    res = ev.evaluate()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(res, f)
    # Leave without tearing gloo down: its teardown, racing the peer's last message, aborted a worker (SIGABRT) in
    # about 1 of 6 runs. A rank's file is written only after its last collective, so once both exist no message is
    # in flight and the processes can exit at once.
    deadline = time.time() + 60
    while not all(os.path.exists(os.path.join(out_dir, f"rank{r}.json")) for r in range(world)):
        if time.time() > deadline:
            os._exit(3)
        time.sleep(0.05)
    os._exit(0)


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    gt, inputs, outputs = _images()
    ev = HICODetEvaluator(ground_truth=gt, metadata=toy.META, distributed=False)
    ev.process(inputs, outputs)
    single = ev.evaluate()["hoi"]
    assert 0 < single["mAP_default_full"] < 100
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    with open(tmp_path / "rank1.json") as f:
        assert json.load(f) == {}  # only the main process scores
    with open(tmp_path / "rank0.json") as f:
        double = json.load(f)["hoi"]
    assert double.keys() == single.keys()
    for k in single:
        assert double[k] == single[k] or (np.isnan(double[k]) and np.isnan(single[k])), k
