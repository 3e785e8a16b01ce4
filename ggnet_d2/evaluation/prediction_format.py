"""Model outputs <-> PPDM-style prediction entries, and dataset dicts -> plain HOI ground truth.

A prediction entry (docs/interfaces.md, "Prediction files") is one image's detections in the *dataset file's* id
space::

    {"file_name": "HICO_test2015_00000001.jpg", "image_id": 1,
     "predictions": [{"bbox": [x1, y1, x2, y2], "category_id": <file object id>}],
     "hoi_prediction": [{"subject_id": i, "object_id": j, "category_id": <file verb id>, "score": s}]}

Boxes are XYXY in original pixels; ``subject_id`` / ``object_id`` index ``predictions``. ``file_name`` is the base name
(PPDM's convention), ``image_id`` is extra and optional. Every evaluator scores such entries, so the in-training path
and ``tools/evaluate_hoi.py`` share one code path.
"""
import itertools
import json
import os

import numpy as np
from detectron2.structures import BoxMode
from detectron2.utils import comm

from ..formats.ids import invert_id_map
from ..formats.predictions import decode_prediction_entries

__all__ = [
    "gather_and_save_entries",
    "invert_id_map",
    "outputs_to_prediction_entry",
    "entry_to_triplets",
    "ground_truth_from_dataset_dicts",
    "save_prediction_file",
]


def _field(instances, name):
    return instances.get(name) if instances is not None and instances.has(name) else None


def outputs_to_prediction_entry(file_name, output, thing_to_file_id, verb_to_file_id, image_id=None):
    """Convert one image's model output (docs/interfaces.md, "Model outputs") to a prediction entry.

    Args:
        file_name (str): the image's path; only its base name is stored.
        output (dict): with "hoi_instances" (fields subject_boxes, object_boxes, object_classes, verb_classes, scores,
            optionally subject_indices / object_indices) and optionally "instances" (pred_boxes, pred_classes).
            Boxes in original pixels, XYXY.
        thing_to_file_id (dict[int, int]): contiguous object category -> file id (metadata map inverted).
        verb_to_file_id (dict[int, int]): contiguous verb -> file id.
        image_id (int, optional): stored as "image_id".

    Returns:
        dict: the prediction entry; with "instances" and indices present, ``predictions`` are the detected boxes and
        HOIs point into them, else each HOI gets its own subject and object entries (subject class = person).

    Raises:
        KeyError: when a class id has no dataset id in the maps.
    """
    hois = output["hoi_instances"]
    instances = output.get("instances")
    scores = hois.scores.detach().cpu().numpy().astype(np.float64)
    verbs = hois.verb_classes.detach().cpu().numpy()
    sub_idx, obj_idx = _field(hois, "subject_indices"), _field(hois, "object_indices")
    predictions = []
    if instances is not None and sub_idx is not None and obj_idx is not None:
        boxes = instances.pred_boxes.tensor.detach().cpu().numpy().astype(np.float64)
        classes = instances.pred_classes.detach().cpu().numpy()
        predictions = [{"bbox": [float(v) for v in b], "category_id": thing_to_file_id[int(c)]}
                       for b, c in zip(boxes, classes)]
        sub_idx = sub_idx.detach().cpu().numpy()
        obj_idx = obj_idx.detach().cpu().numpy()
    else:
        person = thing_to_file_id[int(output.get("person_class_id", 0))]
        sub_boxes = hois.subject_boxes.tensor.detach().cpu().numpy().astype(np.float64)
        obj_boxes = hois.object_boxes.tensor.detach().cpu().numpy().astype(np.float64)
        obj_classes = hois.object_classes.detach().cpu().numpy()
        for sb, ob, oc in zip(sub_boxes, obj_boxes, obj_classes):
            predictions.append({"bbox": [float(v) for v in sb], "category_id": person})
            predictions.append({"bbox": [float(v) for v in ob], "category_id": thing_to_file_id[int(oc)]})
        sub_idx = np.arange(0, 2 * len(scores), 2)
        obj_idx = sub_idx + 1
    hoi_prediction = [{"subject_id": int(s), "object_id": int(o), "category_id": verb_to_file_id[int(v)],
                       "score": float(sc)} for s, o, v, sc in zip(sub_idx, obj_idx, verbs, scores)]
    entry = {"file_name": os.path.basename(file_name), "predictions": predictions, "hoi_prediction": hoi_prediction}
    if image_id is not None:
        entry["image_id"] = int(image_id)
    return entry


def entry_to_triplets(entry, thing_file_to_contiguous, verb_file_to_contiguous, source="predictions"):
    """Decode one prediction entry into arrays of (subject box, object box, object class, verb, score).

    Args:
        entry (dict): a prediction entry (module docstring).
        thing_file_to_contiguous, verb_file_to_contiguous (dict[int, int]): the metadata's dataset-id maps.
        source (str): file or origin named in error messages.

    Returns:
        dict: "subject_boxes" (M, 4), "object_boxes" (M, 4) float64 XYXY original pixels, "object_classes" (M,),
        "verb_classes" (M,) int64 contiguous ids, "scores" (M,) float64.

    Raises:
        ValueError: naming the file and record for a bad key, index, unknown id, malformed box or non-finite score
            (:func:`ggnet_d2.formats.predictions.decode_prediction_entries`).
    """
    t = decode_prediction_entries([entry], thing_file_to_contiguous, verb_file_to_contiguous, source)
    return {"subject_boxes": t.subject_boxes, "object_boxes": t.object_boxes, "object_classes": t.object_classes,
            "verb_classes": t.verb_classes, "scores": t.scores}


def ground_truth_from_dataset_dicts(dataset_dicts, source="dataset"):
    """Plain HOI ground truth from dataset dicts (docs/interfaces.md, "Dataset dicts").

    Args:
        dataset_dicts (list[dict]): with "file_name", "annotations" and "hoi_annotations" (hoi_id set).
        source (str): dataset name for error messages.

    Returns:
        dict[str, list[tuple[int, list, list]]]: base file name -> list of (hoi_class, subject XYXY, object XYXY),
        original pixels, in annotation order; the dict keeps the dataset's image order.

    Raises:
        ValueError: naming the image and record for a bad index, an undefined hoi_id or a duplicate file name.
    """
    ground_truth = {}
    for d in dataset_dicts:
        name = os.path.basename(d["file_name"])
        if name in ground_truth:
            raise ValueError(f"{source}: file name {name} appears twice; evaluation keys images by base name")
        anns = d.get("annotations", [])
        pairs = []
        for k, h in enumerate(d.get("hoi_annotations", [])):
            s, o, hoi = int(h["subject_id"]), int(h["object_id"]), int(h.get("hoi_id", -1))
            if not (0 <= s < len(anns) and 0 <= o < len(anns)):
                raise ValueError(f"{source}: image {name}: hoi_annotations[{k}] points outside its {len(anns)} "
                                 "annotations")
            if hoi < 0:
                raise ValueError(f"{source}: image {name}: hoi_annotations[{k}] has no hoi_id (-1)")
            boxes = [BoxMode.convert(list(anns[i]["bbox"]), anns[i].get("bbox_mode", BoxMode.XYXY_ABS),
                                     BoxMode.XYXY_ABS) for i in (s, o)]
            pairs.append((hoi, [float(v) for v in boxes[0]], [float(v) for v in boxes[1]]))
        ground_truth[name] = pairs
    return ground_truth


def save_prediction_file(entries, path):
    """Write prediction entries as JSON (creating the folder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(entries, f)


def gather_and_save_entries(entries, distributed, output_dir):
    """Collect every process's prediction entries on the main process and write them to
    ``output_dir/predictions.json`` (when ``output_dir`` is set), as detectron2's COCOEvaluator does.

    Returns:
        list[dict] | None: all entries on the main process (or without ``distributed``), None on other ranks.
    """
    if distributed:
        comm.synchronize()
        gathered = comm.gather(entries, dst=0)
        if not comm.is_main_process():
            return None
        entries = list(itertools.chain(*gathered))
    if output_dir:
        save_prediction_file(entries, os.path.join(output_dir, "predictions.json"))
    return entries
