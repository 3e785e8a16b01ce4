#!/usr/bin/env python
"""Convert the official V-COCO annotations (Gupta & Malik 2015) into the PPDM/GGNet JSON layout.

    python tools/convert_vcoco.py datasets/v-coco/data/vcoco/vcoco_trainval.json \\
        datasets/v-coco/data/instances_vcoco_all_2014.json datasets/v-coco/annotations/trainval_vcoco.json

``vcoco_*.json`` lists one entry per action with ``action_name``, ``role_name`` (``agent`` first), ``image_id``,
``ann_id`` (the agent's COCO annotation), ``label`` (1 = the agent does the action) and ``role_object_id`` (flattened
role-major: the k-th block of len(image_id) entries holds role k's COCO annotation id, 0 = none). Each positive
(agent, role object) becomes one HOI whose verb is ``<action>_<role>`` with PPDM's V-COCO id
(``VCOCO_PPDM_VERB_NAMES``). Agent-only actions and roles without an annotated object are left out (counted).
Boxes come from the COCO instances (xywh -> XYXY, original pixels); category ids stay COCO's.
"""
import argparse
import json
import sys
from collections import Counter, defaultdict

from ggnet_d2.data.datasets.constants import VCOCO_PPDM_VERB_NAMES


def convert(vcoco, coco):
    """Official V-COCO action list + COCO instances dict -> (PPDM records, Counter of left-out HOIs by reason).

    Raises:
        ValueError: an action-role without a PPDM id, or an annotation id missing from the COCO instances.
    """
    verb_ids = {name: i for i, name in VCOCO_PPDM_VERB_NAMES.items()}
    anns = {a["id"]: a for a in coco["annotations"]}
    images = {im["id"]: im for im in coco["images"]}
    hois = defaultdict(list)
    left_out = Counter()
    for action in vcoco:
        name, roles = action["action_name"], action["role_name"]
        n = len(action["image_id"])
        if len(roles) < 2:
            left_out[f"{name} (agent only)"] += sum(1 for lab in action["label"] if int(lab) == 1)
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
    for image_id in sorted(hois):
        if image_id not in images:
            raise ValueError(f"image_id {image_id} missing from the COCO instances")
        boxes, index, hoi_anns = [], {}, []

        def box_id(ann_id):
            if ann_id not in anns:
                raise ValueError(f"COCO annotation id {ann_id} (image {image_id}) missing from the COCO instances")
            if ann_id not in index:
                x, y, w, h = anns[ann_id]["bbox"]
                index[ann_id] = len(boxes)
                boxes.append({"bbox": [x, y, x + w, y + h], "category_id": anns[ann_id]["category_id"]})
            return index[ann_id]

        for agent, obj, verb in hois[image_id]:
            hoi_anns.append({"subject_id": box_id(agent), "object_id": box_id(obj), "category_id": verb})
        im = images[image_id]
        records.append({"file_name": im["file_name"], "img_id": image_id, "width": im["width"],
                        "height": im["height"], "annotations": boxes, "hoi_annotation": hoi_anns})
    return records, left_out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("vcoco_json", help="official vcoco_{train,val,trainval,test}.json")
    p.add_argument("coco_json", help="instances_vcoco_all_2014.json (or COCO instances holding these images)")
    p.add_argument("out_json", help="PPDM-layout output, e.g. trainval_vcoco.json")
    args = p.parse_args(argv)
    with open(args.vcoco_json) as f:
        vcoco = json.load(f)
    with open(args.coco_json) as f:
        coco = json.load(f)
    records, left_out = convert(vcoco, coco)
    with open(args.out_json, "w") as f:
        json.dump(records, f)
    print(f"{args.out_json}: {len(records)} images, {sum(len(r['hoi_annotation']) for r in records)} HOIs; "
          f"left out: {dict(left_out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
