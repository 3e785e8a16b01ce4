#!/usr/bin/env python
"""Throughput of the training HOIDatasetMapper (image read + augmentation + GGNet targets) on one CPU core.

    python tools/benchmark_mapper.py [--data ../shared/data/hoiw_demo] [--passes 2] [--size 512]

Uses the HOI-W demo (30 real images, 640x480 / 1920x1080) with GGNet's 512x512 training input and prints images/s.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog
from detectron2.utils.logger import setup_logger

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import HOIDatasetMapper, register_hoi_json
from ggnet_d2.data.datasets.builtin import hoiw_metadata
from ggnet_d2.data.datasets.constants import HOIW_OBJECTS, HOIW_VERBS

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hoiw_demo"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder with annotations.json and images/")
    p.add_argument("--passes", type=int, default=2, help="passes over the images (after one warm-up image)")
    p.add_argument("--size", type=int, default=512, help="INPUT.GGNET.INPUT_SIZE")
    args = p.parse_args(argv)
    setup_logger(name="ggnet_d2")
    torch.set_num_threads(1)
    try:
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    register_hoi_json("benchmark_hoiw", os.path.join(args.data, "annotations.json"), os.path.join(args.data, "images"),
                      metadata=hoiw_metadata())
    cfg = add_ggnet_config(get_cfg())
    cfg.DATASETS.TRAIN = ("benchmark_hoiw",)
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = len(HOIW_OBJECTS), len(HOIW_VERBS)
    cfg.INPUT.GGNET.INPUT_SIZE = args.size
    dicts = DatasetCatalog.get("benchmark_hoiw")
    mapper = HOIDatasetMapper(cfg, is_train=True)
    mapper(dicts[0])
    start = time.perf_counter()
    n = 0
    for _ in range(args.passes):
        for d in dicts:
            mapper(d)
            n += 1
    elapsed = time.perf_counter() - start
    print(f"HOIDatasetMapper (train, {args.size}x{args.size}, 1 core): {n} images in {elapsed:.2f} s = "
          f"{n / elapsed:.1f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
