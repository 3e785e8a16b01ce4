#!/usr/bin/env python
"""Cost of the CLIP distillation teacher per training image: union-box crops + CLIP image encoder + verb targets,
uncached (first epoch) and cached (later epochs), for a few pair counts. Prints milliseconds; downloads nothing
(the CLIP is randomly initialised: same architecture and cost as the pretrained one).

Usage:
    python tools/benchmark_distillation.py [--model ViT-B-32] [--device cpu] [--pairs 1 3 8] [--repeat 3]
"""
import argparse
import time

import numpy as np
import torch

from ggnet_d2.data.datasets.hico_det import hico_official_hoi_classes
from ggnet_d2.data.distill_pairs import crop_union_square
from ggnet_d2.modeling.distillation import ClipTeacher
from ggnet_d2.modeling.language.clip_models import build_clip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ViT-B-32", help="open_clip model name (randomly initialised)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where the teacher runs (default: cuda when available)")
    parser.add_argument("--pairs", type=int, nargs="+", default=[1, 3, 8], help="pair counts per image to time")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions per pair count (median printed)")
    parser.add_argument("--image-size", type=int, default=224, help="teacher input side, pixels")
    args = parser.parse_args(argv)
    model, _, (mean, std) = build_clip(args.model, "", device=args.device)
    rng = np.random.default_rng(0)
    hois = hico_official_hoi_classes()
    dim = model.text_projection.shape[1] if hasattr(model, "text_projection") else 512
    teacher = ClipTeacher(model, mean, std, rng.normal(size=(len(hois), dim)), hois, 117, args.image_size)
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    print(f"CLIP {args.model} (random init) on {args.device}, torch threads {torch.get_num_threads()}, "
          f"image 640x480, crops {args.image_size}px")
    for p in args.pairs:
        boxes = torch.tensor([[10.0 + i, 20.0, 300.0 + 10 * i, 400.0] for i in range(p)])
        objects = torch.tensor([int(hois[i * 7][1]) for i in range(p)])
        # the mapper's crops (data/distill_pairs.py), made once: the timing is the teacher's
        crops = torch.from_numpy(np.stack([crop_union_square(image, b, args.image_size) for b in boxes.tolist()]))
        times, cached = [], []
        for r in range(args.repeat):
            teacher.cache.clear()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            teacher(f"img{r}.jpg", boxes, objects, crops)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            teacher(f"img{r}.jpg", boxes, objects, crops)
            cached.append(time.perf_counter() - t0)
        print(f"{p:3d} pair(s) per image: uncached {1000 * np.median(times):8.1f} ms, cached "
              f"{1000 * np.median(cached):6.2f} ms (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
