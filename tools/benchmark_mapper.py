#!/usr/bin/env python
"""Throughput of GGNet's training data pipeline alone: HOIDatasetMapper (decode + 512x512 augmentation + targets).

    python tools/benchmark_mapper.py [--annotations hico|hoiw] [--images 48] [--passes 2] [--workers 0 1 2]

``hico`` (default): the paper's HICO-DET mapper -- 80 objects, 117 verbs, HICO-DET's verb-object correspondence
for the hard negatives, the paper's augmentation -- on the real boxes and HOIs of the first ``--images`` annotated
HICO-DET test images (../shared/data/hico_det/instances_test2015.json). That file has no images, so each record
gets a real photo of the HOI-W demo sample resized to the record's size and stored as a quality-95 JPEG (HICO-DET's
format) in a temporary folder. ``hoiw``: the 30 HOI-W demo photos (PNG) with their own annotations (10 verbs).

Prints the time per stage (decode, augmentation, targets; one core), then images/s through a torch DataLoader with
N workers (0 = in the main process) restricted to max(1, min(N, cores)) cores, and images/s per core. One torch and
one OpenCV thread per process, as in detectron2's DataLoader workers. The machine's 1-minute load average is printed
before and after: on a shared machine, compare only runs made back to back.
"""
import argparse
import operator
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.data import DatasetFromList, MapDataset
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T
from detectron2.utils.logger import setup_logger

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import HOIDatasetMapper, load_hoi_json
from ggnet_d2.data.datasets.builtin import hoiw_metadata
from ggnet_d2.data.datasets.hico_det import load_hico_det_instances

# ../shared/data next to the repository, as the tests look for it; $GGNET_D2_SHARED overrides
SHARED = Path(os.environ.get("GGNET_D2_SHARED") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


def hico_records(num_images, photo_dir, out_dir):
    """The first ``num_images`` HICO-DET test records with HOIs, each pointing at a JPEG of its size (module doc)."""
    records, meta = load_hico_det_instances(str(SHARED / "hico_det" / "instances_test2015.json"))
    records = [r for r in records if r.get("hoi_annotations")][:num_images]
    photos = sorted(Path(photo_dir).glob("*.png"))
    for i, r in enumerate(records):
        size = (r["width"], r["height"])
        path = Path(out_dir) / f"{photos[i % len(photos)].stem}_{size[0]}x{size[1]}.jpg"
        if not path.exists():
            image = cv2.resize(cv2.imread(str(photos[i % len(photos)])), size, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        r["file_name"] = str(path)
    return records, meta


def stage_times(mapper, records):
    """Seconds per image of decode, augmentation and targets, the mapper's steps run one by one."""
    totals = np.zeros(3)
    for d in records:
        t0 = time.perf_counter()
        image = utils.read_image(d["file_name"], format=mapper.image_format)
        t1 = time.perf_counter()
        aug_input = T.AugInput(image)
        transforms = mapper.augmentations(aug_input)
        t2 = time.perf_counter()
        mapper.targets_for(d, transforms, aug_input.image.shape[:2])
        totals += (t1 - t0, t2 - t1, time.perf_counter() - t2)
    return totals / len(records)


def loader_rate(mapper, records, workers, passes):
    """Images/s of a DataLoader over ``passes`` x ``records`` (after the first image, so worker start-up is out)."""
    dataset = MapDataset(DatasetFromList(records * passes + records[:1], copy=False), mapper)
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=workers, collate_fn=operator.itemgetter(0))
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    n = sum(1 for _ in it)
    return n / (time.perf_counter() - start)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--annotations", choices=("hico", "hoiw"), default="hico",
                   help="hico: HICO-DET test records, each on a HOI-W photo resized to its size; hoiw: the "
                        "HOI-W demo's own records")
    p.add_argument("--data", default=str(SHARED / "hoiw_demo"), help="the HOI-W demo folder (annotations.json, images/)")
    p.add_argument("--images", type=int, default=48, help="HICO-DET records (--annotations hico)")
    p.add_argument("--passes", type=int, default=2, help="passes over the images per DataLoader run")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2], help="DataLoader worker counts")
    p.add_argument("--size", type=int, default=512, help="INPUT.GGNET.INPUT_SIZE")
    args = p.parse_args(argv)
    setup_logger(name="ggnet_d2")
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    cfg = add_ggnet_config(get_cfg())  # the paper's HICO-DET training input (Sec. 4.2)
    cfg.DATASETS.TRAIN = ()
    cfg.INPUT.GGNET.INPUT_SIZE = args.size
    with tempfile.TemporaryDirectory() as tmp:
        if args.annotations == "hico":
            records, meta = hico_records(args.images, Path(args.data) / "images", tmp)
        else:
            records, meta = load_hoi_json(os.path.join(args.data, "annotations.json"),
                                          os.path.join(args.data, "images"), metadata=hoiw_metadata())
        mapper = HOIDatasetMapper(cfg, is_train=True, num_classes=len(meta["thing_classes"]),
                                  num_verbs=len(meta["verb_classes"]), valid_verb_object=meta["valid_verb_object"])
        hois = np.mean([len(r["hoi_annotations"]) for r in records])
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count()))
        print(f"{args.annotations}: {len(records)} images, {hois:.1f} HOIs per image, {len(meta['thing_classes'])} "
              f"objects, {len(meta['verb_classes'])} verbs, input {args.size}x{args.size}; torch {torch.__version__}, "
              f"{len(cores)} cores, load {os.getloadavg()[0]:.2f}")
        mapper(records[0])
        decode, augment, targets = stage_times(mapper, records)
        print(f"per image, one core: decode {1e3 * decode:.1f} ms, augmentation {1e3 * augment:.1f} ms, "
              f"targets {1e3 * targets:.1f} ms (= {1 / (decode + augment + targets):.1f} images/s)")
        for workers in args.workers:
            used = cores[:max(1, min(workers, len(cores)))]
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, used)
            try:
                rate = loader_rate(mapper, records, workers, args.passes)
            finally:
                if hasattr(os, "sched_setaffinity"):
                    os.sched_setaffinity(0, cores)
            print(f"DataLoader, {workers} workers on {len(used)} core(s): {rate:.1f} images/s = "
                  f"{rate / len(used):.1f} images/s per core")
    print(f"load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
