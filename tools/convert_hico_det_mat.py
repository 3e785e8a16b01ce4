#!/usr/bin/env python
"""Convert HICO-DET's official ``anno_bbox.mat`` (Chao et al., WACV 2018) into the PPDM/GGNet JSON layout.

Writes ``trainval_hico.json`` (from ``bbox_train``), ``test_hico.json`` (from ``bbox_test``) and ``corre_hico.npy``
(bool (117, 80), verb x COCO-ordered object, from ``list_action``) into OUT_DIR:

    python tools/convert_hico_det_mat.py datasets/hico_20160224_det/anno_bbox.mat datasets/hico_20160224_det/annotations

Each JSON record: {file_name, width, height, annotations: [{bbox: [x1, y1, x2, y2], category_id: COCO id}],
hoi_annotation: [{subject_id, object_id, category_id: verb 1..117, hoi_category_id: 1..600}]}. Boxes are the .mat's
one-based pixel indices minus 1, the zero-based frame of the PPDM release (see ggnet_d2/formats/hico_det.py); a box
repeated within an image is stored once; HOIs marked ``invis`` (no boxes) are left out.

The .mat is read by ggnet_d2/formats/hico_det.py: a file scipy cannot read, a missing variable or a struct without
the fields of anno_bbox.mat is an error naming the file (and the image or list_action entry).
"""
import argparse
import json
import os
import sys

import numpy as np

from ggnet_d2.formats.hico_det import iter_hico_bbox_mat, load_mat, read_list_action
from ggnet_d2.formats.vocabulary import COCO_THING_DATASET_IDS, HICO_OBJECTS_COCO_ORDER, HICO_VERBS


def convert_split(entries, hois, mat_file, split):
    """One bbox_train/bbox_test struct array -> list of PPDM records (zero-based boxes: the .mat values - 1)."""
    records = []
    for i, name, width, height, pairs, _ in iter_hico_bbox_mat(entries, mat_file, split):
        annotations, index, hoi_anns = [], {}, []

        def box_id(box, coco_id):
            box = [v - 1.0 for v in box]
            key = (tuple(box), coco_id)
            if key not in index:
                index[key] = len(annotations)
                annotations.append({"bbox": box, "category_id": coco_id})
            return index[key]

        for hoi_id, human, obj_box in pairs:
            if not 1 <= hoi_id <= len(hois):
                raise ValueError(f"{mat_file}: {split} image #{i} ({name}): HOI id {hoi_id} outside 1..{len(hois)}")
            obj, verb = hois[hoi_id - 1]
            obj_coco = COCO_THING_DATASET_IDS[HICO_OBJECTS_COCO_ORDER.index(obj)]
            hoi_anns.append({"subject_id": box_id(human, 1), "object_id": box_id(obj_box, obj_coco),
                             "category_id": HICO_VERBS.index(verb) + 1, "hoi_category_id": hoi_id})
        records.append({"file_name": name, "width": width, "height": height, "annotations": annotations,
                        "hoi_annotation": hoi_anns})
    return records


def correspondence(hois):
    """bool (117, 80) verb x object (COCO order) of the HOI list."""
    valid = np.zeros((len(HICO_VERBS), len(HICO_OBJECTS_COCO_ORDER)), dtype=bool)
    for obj, verb in hois:
        valid[HICO_VERBS.index(verb), HICO_OBJECTS_COCO_ORDER.index(obj)] = True
    return valid


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mat_file", help="HICO-DET's anno_bbox.mat")
    p.add_argument("out_dir", help="folder for trainval_hico.json, test_hico.json, corre_hico.npy")
    args = p.parse_args(argv)
    mat = load_mat(args.mat_file, ("list_action", "bbox_train", "bbox_test"))
    hois = read_list_action(mat, args.mat_file)
    os.makedirs(args.out_dir, exist_ok=True)
    for key, out in (("bbox_train", "trainval_hico.json"), ("bbox_test", "test_hico.json")):
        records = convert_split(mat[key], hois, args.mat_file, key)
        with open(os.path.join(args.out_dir, out), "w") as f:
            json.dump(records, f)
        print(f"{out}: {len(records)} images, {sum(len(r['hoi_annotation']) for r in records)} HOIs")
    np.save(os.path.join(args.out_dir, "corre_hico.npy"), correspondence(hois))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as e:  # a broken input file: the message names it and the record, no traceback
        sys.exit(f"convert_hico_det_mat.py: error: {e}")
