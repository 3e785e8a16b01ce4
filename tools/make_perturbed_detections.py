#!/usr/bin/env python
"""Write a detection file (COCO results layout, docs/interfaces.md) made from a registered dataset's ground-truth
boxes, perturbed: each box corner moves by up to ``--jitter`` x the box side (uniform), each score is uniform in
[``--min-score``, 1], and each box is dropped with probability ``--drop``. For the external-detection analysis
(``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE file``): a detector that is good but not perfect.

Usage:
    DETECTRON2_DATASETS=../shared/data python tools/make_perturbed_detections.py --dataset hoiw_demo \\
        --output hoiw_perturbed.json --seed 0
"""
import argparse
import json

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import BoxMode

import ggnet_d2.data  # noqa: F401  registers the built-in datasets


def perturbed_detections(dataset_dicts, contiguous_to_file_id, rng, jitter=0.05, min_score=0.5, drop=0.05):
    """COCO-results rows (list of dict) of perturbed ground-truth boxes; boxes stay inside the image.

    Args:
        dataset_dicts (list[dict]): docs/interfaces.md dataset dicts (boxes in original pixels).
        contiguous_to_file_id (dict[int, int]): contiguous class -> the file's category id.
        rng (np.random.Generator): the randomness (seeded by the caller).
        jitter, min_score, drop (float): see the module docstring.
    """
    rows = []
    for d in dataset_dicts:
        for a in d.get("annotations", []):
            if rng.random() < drop:
                continue
            x1, y1, x2, y2 = BoxMode.convert(list(a["bbox"]), a.get("bbox_mode", BoxMode.XYXY_ABS),
                                             BoxMode.XYXY_ABS)
            w, h = x2 - x1, y2 - y1
            dx1, dx2 = rng.uniform(-jitter, jitter, 2) * w
            dy1, dy2 = rng.uniform(-jitter, jitter, 2) * h
            nx1, nx2 = sorted((np.clip(x1 + dx1, 0, d["width"]), np.clip(x2 + dx2, 0, d["width"])))
            ny1, ny2 = sorted((np.clip(y1 + dy1, 0, d["height"]), np.clip(y2 + dy2, 0, d["height"])))
            rows.append({"image_id": d["image_id"], "category_id": int(contiguous_to_file_id[a["category_id"]]),
                         "bbox": [float(nx1), float(ny1), float(nx2 - nx1), float(ny2 - ny1)],
                         "score": float(rng.uniform(min_score, 1.0))})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="registered dataset name (DatasetCatalog)")
    parser.add_argument("--output", required=True, help="detection file to write (COCO results JSON)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    parser.add_argument("--jitter", type=float, default=0.05, help="max corner shift, fraction of the box side")
    parser.add_argument("--min-score", type=float, default=0.5, help="scores are uniform in [min-score, 1]")
    parser.add_argument("--drop", type=float, default=0.05, help="probability of dropping a box")
    args = parser.parse_args(argv)
    mapping = MetadataCatalog.get(args.dataset).thing_dataset_id_to_contiguous_id
    to_file = {v: k for k, v in mapping.items()}
    rows = perturbed_detections(DatasetCatalog.get(args.dataset), to_file, np.random.default_rng(args.seed),
                                args.jitter, args.min_score, args.drop)
    with open(args.output, "w") as f:
        json.dump(rows, f)
    print(f"{args.output}: {len(rows)} detections")
    return rows


if __name__ == "__main__":
    main()
