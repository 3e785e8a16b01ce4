#!/usr/bin/env python
"""Time the offline HICO-DET scoring on the full real test ground truth with synthetic predictions.

Predictions per image (seeded): every ground-truth pair jittered (Gaussian box noise, sigma = JITTER x box size)
with a noisy score, duplicates, and false positives (random HOI class, random boxes) up to PER_IMAGE triplets
(100 per image: 965,800 on the 9,658 test images). They are written to a prediction file, which is then
* parsed and checked (``HOIScorer.decode_file``: msgspec's typed decoder + column extraction) -- "parse";
* scored (matching, AP, the six mAPs) -- "score";
* scored by the whole CLI in a fresh process, ``tools/evaluate_hoi.py`` (start-up, ground truth, parse, score) --
  "whole CLI".
With ``--compare-thresholds`` the same predictions are also scored with the 11-point AP at exact tenths, to show what
MATLAB's ``0:0.1:1`` (fourth threshold 0.30000000000000004) changes.

Usage: python tools/benchmark_hico_eval.py [--json ../shared/data/hico_det/instances_test2015.json] [--per-image 100]
       [--compare-thresholds] [--repeat 3]
"""
import argparse
import functools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import msgspec

from ggnet_d2.data import load_hico_det_instances
from ggnet_d2.formats.hico_det import read_hico_det_ground_truth
from ggnet_d2.formats.ids import invert_id_map
from ggnet_d2.metrics.hoi_matching import EXACT_TENTHS, ap_11_point
from ggnet_d2.metrics.hoi_scoring import HOIScorer

DEFAULT_JSON = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hico_det" / "instances_test2015.json"


def perturbed_prediction_entries(dicts, meta, per_image=100, jitter=0.05, seed=0):
    """PPDM-style entries: jittered ground truth + duplicates + false positives, ``per_image`` triplets per image."""
    rng = np.random.default_rng(seed)
    thing_to_file = invert_id_map(meta["thing_dataset_id_to_contiguous_id"], "things")
    verb_to_file = invert_id_map(meta["verb_dataset_id_to_contiguous_id"], "verbs")
    hoi_classes = np.asarray(meta["hoi_classes"])
    person = thing_to_file[meta["person_class_id"]]
    entries = []
    for d in dicts:
        anns = d["annotations"]
        w, h = d["width"], d["height"]
        pairs = [(hoi["hoi_id"], anns[hoi["subject_id"]]["bbox"], anns[hoi["object_id"]]["bbox"])
                 for hoi in d["hoi_annotations"]][:per_image]
        n_fp = per_image - len(pairs)
        cls = np.concatenate([np.array([p[0] for p in pairs], dtype=np.int64), rng.integers(0, len(hoi_classes), n_fp)])
        sub = np.array([p[1] for p in pairs], dtype=np.float64).reshape(-1, 4)
        obj = np.array([p[2] for p in pairs], dtype=np.float64).reshape(-1, 4)
        if len(pairs):  # a third of the false positives are jittered duplicates of ground-truth pairs
            dup = rng.integers(0, len(pairs), n_fp // 3)
            sub, obj = np.concatenate([sub, sub[dup]]), np.concatenate([obj, obj[dup]])
            cls[len(pairs):len(pairs) + len(dup)] = cls[dup]
        n_rand = per_image - len(sub)
        xy = rng.uniform(0, [w, h, w, h], (2 * n_rand, 4))
        rand = np.concatenate([np.minimum(xy[:, :2], xy[:, 2:]), np.maximum(xy[:, :2], xy[:, 2:])], 1)
        sub, obj = np.concatenate([sub, rand[:n_rand]]), np.concatenate([obj, rand[n_rand:]])
        size = np.concatenate([sub[:, 2:] - sub[:, :2], sub[:, 2:] - sub[:, :2]], 1)
        sub = sub + rng.normal(0, jitter, sub.shape) * size
        size = np.concatenate([obj[:, 2:] - obj[:, :2], obj[:, 2:] - obj[:, :2]], 1)
        obj = obj + rng.normal(0, jitter, obj.shape) * size
        scores = np.clip(np.where(np.arange(per_image) < len(pairs), 0.7, 0.3) + rng.normal(0, 0.2, per_image), 0, 1)
        preds, hois = [], []
        for k in range(per_image):
            verb, o = hoi_classes[cls[k]]
            preds.append({"bbox": sub[k].tolist(), "category_id": person})
            preds.append({"bbox": obj[k].tolist(), "category_id": thing_to_file[int(o)]})
            hois.append({"subject_id": 2 * k, "object_id": 2 * k + 1, "category_id": verb_to_file[int(verb)],
                         "score": float(scores[k])})
        entries.append({"file_name": d["file_name"], "predictions": preds, "hoi_prediction": hois})
    return entries


def _print_metrics(label, res):
    for key in ("default", "known_object"):
        print(f"{label} {key}:", " ".join(f"{s}={res[f'mAP_{key}_{s}']:.4f}" for s in ("full", "rare", "non_rare")),
              f"mean_recall_full={res[f'mean_recall_{key}_full']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="hicodet-layout instances_test2015.json")
    parser.add_argument("--per-image", type=int, default=100, help="predicted triplets per test image")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic predictions")
    parser.add_argument("--repeat", type=int, default=1, help="timing runs (the fastest is reported)")
    parser.add_argument("--compare-thresholds", action="store_true",
                        help="also score with exact tenths as recall thresholds, to show what MATLAB's 0:0.1:1 changes")
    args = parser.parse_args()
    dicts, meta = load_hico_det_instances(args.json)
    t0 = time.perf_counter()
    entries = perturbed_prediction_entries(dicts, meta, args.per_image, seed=args.seed)
    n = sum(len(e["hoi_prediction"]) for e in entries)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "predictions.json")
        with open(path, "wb") as f:
            f.write(msgspec.json.encode(entries))
        del entries
        print(f"images: {len(dicts)}  triplets: {n}  file: {os.path.getsize(path) / 1e6:.0f} MB  "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        gt, file_meta, layout = read_hico_det_ground_truth(args.json)
        scorer = HOIScorer(file_meta, "hico_det_test", empty_class="zero", box_shift=1.0)
        parse, score, cli = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            decoded = scorer.decode_file(path)
            t1 = time.perf_counter()
            res, _ = scorer.score(decoded, gt, path)
            t2 = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, str(Path(__file__).with_name("evaluate_hoi.py")), "--predictions", path,
                            "--ground-truth", args.json], check=True, stdout=subprocess.DEVNULL)
            t3 = time.perf_counter()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            parse.append(t1 - t0)
            score.append(t2 - t1)
            cli.append((t3 - t2, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
        wall, cpu = min(cli)
        # the CLI is single-threaded: its CPU time is what its wall time is on an idle machine
        print(f"parse: {min(parse):.2f} s  score: {min(score):.2f} s  whole CLI (fresh process): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU  (best of {args.repeat}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f})")
        _print_metrics("MATLAB thresholds", res)
        if args.compare_thresholds:
            tenths = HOIScorer(file_meta, "hico_det_test", empty_class="zero", box_shift=1.0,
                               ap_fn=functools.partial(ap_11_point, thresholds=EXACT_TENTHS))
            before, _ = tenths.score(decoded, gt, path)
            _print_metrics("exact tenths     ", before)
            print("difference (MATLAB - exact tenths):",
                  " ".join(f"{k}={res[k] - before[k]:+.4f}" for k in res if k.startswith("mAP")))


if __name__ == "__main__":
    main()
