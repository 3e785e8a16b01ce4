#!/usr/bin/env python
"""Convert the official V-COCO annotations (Gupta & Malik 2015) into the PPDM/GGNet JSON layout.

    python tools/convert_vcoco.py datasets/v-coco/data/vcoco/vcoco_trainval.json \\
        datasets/v-coco/data/instances_vcoco_all_2014.json datasets/v-coco/annotations/trainval_vcoco.json

``vcoco_*.json`` lists one entry per action with ``action_name``, ``role_name`` (``agent`` first), ``image_id``,
``ann_id`` (the agent's COCO annotation), ``label`` (1 = the agent does the action) and ``role_object_id`` (flattened
role-major: the k-th block of len(image_id) entries holds role k's COCO annotation id, 0 = none).

* Every image of the split becomes a record, also those without any positive action (the model must run on every
  test image, and the official evaluation scores them all).
* Each positive (agent, role object) becomes one HOI whose verb is ``<action>_<role>`` with PPDM's V-COCO id
  (``VCOCO_PPDM_VERB_NAMES``); a positive agent-only action (stand, walk, run, smile) becomes an HOI of the agent with
  itself (object_id = subject_id) and the action's id. Roles without an annotated object are left out (counted).
* Boxes follow the official evaluation (s-gupta/v-coco ``vsrl_eval.py``, ``_add_gt_annotations``): COCO's (x, y, w, h)
  -> inclusive pixel indices (x, y, x + max(0, w - 1), y + max(0, h - 1)), clipped to the image (0 .. width - 1,
  0 .. height - 1); an annotation left with no area (``area`` 0, x2 <= x1 or y2 <= y1) is dropped with its HOIs
  (counted), as the official code drops it. Category ids stay COCO's.

Both inputs are read by ggnet_d2/formats/vcoco.py: text that is not JSON, a file not in its official layout, or a
record without its keys is an error naming the file and record.
"""
import argparse
import json
import sys
from collections import Counter, defaultdict

from ggnet_d2.formats.vcoco import read_coco_instances, read_vcoco_actions
from ggnet_d2.formats.vocabulary import VCOCO_PPDM_VERB_NAMES


def official_box(ann, width, height):
    """A COCO annotation's box as the official V-COCO evaluation cleans it, or None when it drops it.

    Raises:
        ValueError: naming the annotation when its bbox is not [x, y, w, h] numbers.
    """
    try:
        x, y, w, h = (float(v) for v in ann["bbox"])
        width, height = float(width), float(height)
    except (TypeError, ValueError):
        raise ValueError(f"COCO annotation {ann.get('id')}: bbox {ann['bbox']!r} (image size {width!r} x "
                         f"{height!r}) is not numbers [x, y, w, h]") from None
    x1, y1, x2, y2 = x, y, x + max(0.0, w - 1.0), y + max(0.0, h - 1.0)
    x1, x2 = (min(width - 1.0, max(0.0, v)) for v in (x1, x2))
    y1, y2 = (min(height - 1.0, max(0.0, v)) for v in (y1, y2))
    if ann.get("area", 1) > 0 and x2 > x1 and y2 > y1:
        return [x1, y1, x2, y2]
    return None


def convert(vcoco, coco):
    """Official V-COCO action list + COCO instances dict -> (PPDM records, Counter of left-out HOIs by reason).

    Raises:
        ValueError: an action-role without a PPDM id, or an image / annotation id missing from the COCO instances.
    """
    verb_ids = {name: i for i, name in VCOCO_PPDM_VERB_NAMES.items()}
    anns = {a["id"]: a for a in coco["annotations"]}
    images = {im["id"]: im for im in coco["images"]}
    hois = defaultdict(list)
    left_out = Counter()
    split_images = sorted({int(i) for action in vcoco for i in action["image_id"]})
    for action in vcoco:
        name, roles = action["action_name"], action["role_name"]
        n = len(action["image_id"])
        if len(roles) < 2:
            if name not in verb_ids:
                raise ValueError(f"V-COCO agent-only action {name!r} has no PPDM verb id")
            for k in range(n):
                if int(action["label"][k]) == 1:
                    agent = int(action["ann_id"][k])
                    hois[int(action["image_id"][k])].append((agent, agent, verb_ids[name]))
            continue
        for r in range(1, len(roles)):
            verb = f"{name}_{roles[r]}"
            if verb not in verb_ids:
                raise ValueError(f"V-COCO action-role {verb!r} has no PPDM verb id")
            for k in range(n):
                if int(action["label"][k]) != 1:
                    continue
                obj = int(action["role_object_id"][r * n + k])
                if obj == 0:
                    left_out[f"{verb} (no object)"] += 1
                    continue
                hois[int(action["image_id"][k])].append((int(action["ann_id"][k]), obj, verb_ids[verb]))

    records = []
    for image_id in split_images:
        if image_id not in images:
            raise ValueError(f"image_id {image_id} missing from the COCO instances")
        im = images[image_id]
        boxes, index, hoi_anns = [], {}, []

        def box_id(ann_id):
            if ann_id not in anns:
                raise ValueError(f"COCO annotation id {ann_id} (image {image_id}) missing from the COCO instances")
            if ann_id not in index:
                box = official_box(anns[ann_id], im["width"], im["height"])
                index[ann_id] = None if box is None else len(boxes)
                if box is not None:
                    boxes.append({"bbox": box, "category_id": anns[ann_id]["category_id"]})
            return index[ann_id]

        for agent, obj, verb in hois.get(image_id, []):
            s, o = box_id(agent), box_id(obj)
            if s is None or o is None:
                left_out[f"{VCOCO_PPDM_VERB_NAMES[verb]} (box without area)"] += 1
                continue
            hoi_anns.append({"subject_id": s, "object_id": o, "category_id": verb})
        records.append({"file_name": im["file_name"], "img_id": image_id, "width": im["width"],
                        "height": im["height"], "annotations": boxes, "hoi_annotation": hoi_anns})
    return records, left_out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("vcoco_json", help="official vcoco_{train,val,trainval,test}.json")
    p.add_argument("coco_json", help="instances_vcoco_all_2014.json (or COCO instances holding these images)")
    p.add_argument("out_json", help="PPDM-layout output, e.g. trainval_vcoco.json")
    args = p.parse_args(argv)
    vcoco, coco = read_vcoco_actions(args.vcoco_json), read_coco_instances(args.coco_json)
    try:
        records, left_out = convert(vcoco, coco)
    except ValueError as e:
        raise ValueError(f"{args.vcoco_json} with {args.coco_json}: {e}") from None
    with open(args.out_json, "w") as f:
        json.dump(records, f)
    print(f"{args.out_json}: {len(records)} images, {sum(len(r['hoi_annotation']) for r in records)} HOIs; "
          f"left out: {dict(left_out)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as e:  # a broken input file: the message names it and the record, no traceback
        sys.exit(f"convert_vcoco.py: error: {e}")
