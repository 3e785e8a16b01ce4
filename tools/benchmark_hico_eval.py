#!/usr/bin/env python
"""Time HICODetEvaluator on the full real HICO-DET test ground truth with synthetic predictions.

Predictions per image (seeded): every ground-truth pair jittered (Gaussian box noise, sigma = JITTER x box size)
with a noisy score, duplicates, and false positives (random HOI class, random boxes) up to PER_IMAGE triplets.
Prints the evaluation seconds and the six mAPs.

Usage: python tools/benchmark_hico_eval.py [--json ../shared/data/hico_det/instances_test2015.json] [--per-image 100]
"""
import argparse
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ggnet_d2.data import load_hico_det_instances
from ggnet_d2.evaluation import HICODetEvaluator, ground_truth_from_dataset_dicts
from ggnet_d2.evaluation.prediction_format import invert_id_map

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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dicts, meta = load_hico_det_instances(args.json)
    gt = ground_truth_from_dataset_dicts(dicts, args.json)
    t0 = time.perf_counter()
    entries = perturbed_prediction_entries(dicts, meta, args.per_image, seed=args.seed)
    t_gen = time.perf_counter() - t0
    evaluator = HICODetEvaluator(ground_truth=gt, metadata=SimpleNamespace(name="hico_det_test", **meta),
                                 distributed=False)
    t0 = time.perf_counter()
    res = evaluator.evaluate_predictions(entries)["hoi"]
    seconds = time.perf_counter() - t0
    n = sum(len(e["hoi_prediction"]) for e in entries)
    print(f"images: {len(entries)}  triplets: {n}  (generated in {t_gen:.1f} s)")
    print(f"evaluation seconds: {seconds:.2f}")
    for key in ("default", "known_object"):
        print(key, " ".join(f"{s}={res[f'mAP_{key}_{s}']:.2f}" for s in ("full", "rare", "non_rare")),
              f"mean_recall_full={res[f'mean_recall_{key}_full']:.2f}")


if __name__ == "__main__":
    main()
