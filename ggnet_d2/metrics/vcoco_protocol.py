"""The official V-COCO evaluation (Gupta and Malik 2015; s-gupta/v-coco ``vsrl_eval.py``) on in-memory detections.

Ground truth is read from the official files: ``vcoco_test.json`` (a list with one dict per action: ``action_name``,
``role_name`` e.g. ["agent", "instr", "obj"], and per annotated person ``ann_id``, ``image_id``, ``label`` and the
flattened ``role_object_id`` of shape (num_roles, N)), the COCO instances json, and ``vcoco_test.ids``.

Detections use the official per-person layout: a list of dicts ``{"image_id", "person_box": [x1, y1, x2, y2],
"<action>_agent": score, "<action>_<role>": [x1, y1, x2, y2, score]}``; NaN scores mean "not predicted".

Agent AP (``_do_agent_eval``) and role AP (``_do_role_eval``, Scenario 1 and 2) reproduce the official loops,
including: boxes (x, y, w, h) -> (x1, y1, x1 + max(0, w - 1), ...) clipped to the image; persons without V-COCO labels
are ignored (a detection matched to one is skipped); a person may be covered once per action/role; all-point VOC AP;
agent mAP = nansum / number of actions, role mAP = nanmean; score ties ordered by ``argsort()[::-1]`` as there.
Deviations, where the official code fails instead of scoring: an image without ground-truth persons makes its
detections false positives (official: ``argmax`` of an empty array); an action with no detections gets AP 0
(official: ``amax`` of an empty array), one with no positives AP NaN.
"""
from collections import OrderedDict

import numpy as np
from pycocotools.coco import COCO

from ..formats.vcoco import read_coco_instances, read_vcoco_actions, read_vcoco_image_ids
from .hoi_matching import ap_all_point, inclusive_iou

__all__ = ["VCOCOGroundTruth", "vcoco_agent_eval", "vcoco_role_eval"]


class VCOCOGroundTruth:
    """Official V-COCO ground truth, one entry per image of the split.

    Attributes:
        actions (list[str]): action names in file order; roles (list[list[str]]): their role names, "agent" first.
        images (list[dict]): per image ``id``, ``file_name``, ``boxes`` (B, 4) float32 XYXY inclusive pixels,
            ``is_person`` (B,), ``gt_actions`` (B, A) int (1 / 0 / -1 = person not annotated in V-COCO),
            ``gt_role_id`` (B, A, 2) index into ``boxes`` of each non-agent role's object (-1 = none).
        file_to_image_id (dict[str, int]): COCO file name -> image id.
    """

    def __init__(self, vcoco_file, coco_file, ids_file):
        """
        Args:
            vcoco_file, coco_file, ids_file (str): vcoco_test.json, COCO instances json, vcoco_test.ids.

        Raises:
            FormatError: naming the file and record for a file that is not in its official layout.
            ValueError: naming the file and record when the files disagree (ids, missing role objects).
        """
        vcoco = read_vcoco_actions(vcoco_file)
        self.actions = [a["action_name"] for a in vcoco]
        self.roles = [list(a["role_name"]) for a in vcoco]
        labels = {}
        for i, a in enumerate(vcoco):
            n = len(a["ann_id"])
            rids = np.asarray(a["role_object_id"], dtype=np.int64).reshape(len(a["role_name"]), -1).T
            for k in range(n):
                if int(a["label"][k]) == 1:
                    labels[(i, int(a["ann_id"][k]))] = rids[k]
        annotated = {int(x) for x in vcoco[0]["ann_id"]} if vcoco else set()
        image_ids = read_vcoco_image_ids(ids_file)
        if vcoco and sorted(set(int(x) for x in vcoco[0]["image_id"])) != sorted(image_ids):
            raise ValueError(f"{ids_file}: image ids differ from those of {vcoco_file}")
        coco = COCO()
        coco.dataset = read_coco_instances(coco_file)
        coco.createIndex()
        person_ids = {c["id"] for c in coco.loadCats(coco.getCatIds()) if c["name"] == "person"}
        self.file_to_image_id = {img["file_name"]: int(img["id"]) for img in coco.dataset["images"]}
        self.images = [self._image_entry(coco, i, person_ids, annotated, labels, coco_file)
                       for i in image_ids]

    def _image_entry(self, coco, image_id, person_ids, annotated, labels, coco_file):
        img = coco.loadImgs([image_id])[0]
        ann_ids, boxes, is_person = [], [], []
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=None)):
            if ann.get("ignore", 0) == 1:
                continue
            x1, y1, w, h = ann["bbox"]
            x2, y2 = x1 + max(0.0, w - 1.0), y1 + max(0.0, h - 1.0)
            x1, x2 = (min(img["width"] - 1.0, max(0.0, v)) for v in (x1, x2))
            y1, y2 = (min(img["height"] - 1.0, max(0.0, v)) for v in (y1, y2))
            if ann["area"] > 0 and x2 > x1 and y2 > y1:
                ann_ids.append(int(ann["id"]))
                boxes.append([x1, y1, x2, y2])
                is_person.append(ann["category_id"] in person_ids)
        num_actions = len(self.actions)
        gt_actions = -np.ones((len(ann_ids), num_actions), dtype=np.int64)
        gt_role_id = -np.ones((len(ann_ids), num_actions, 2), dtype=np.int64)
        position = {a: k for k, a in enumerate(ann_ids)}
        for k, ann_id in enumerate(ann_ids):
            if ann_id not in annotated:
                continue
            gt_actions[k] = 0
            for aid in range(num_actions):
                rids = labels.get((aid, ann_id))
                if rids is None:
                    continue
                gt_actions[k, aid] = 1
                for j in range(1, len(rids)):
                    if rids[j] == 0:
                        continue
                    if int(rids[j]) not in position:
                        raise ValueError(f"{coco_file}: image {image_id}: role object {rids[j]} of ann {ann_id} "
                                         f"({self.actions[aid]}) is not a valid annotation")
                    gt_role_id[k, aid, j - 1] = position[int(rids[j])]
        return {"id": int(image_id), "file_name": img.get("file_name", ""),
                "boxes": np.asarray(boxes, dtype=np.float32).reshape(-1, 4), "is_person": np.asarray(is_person, bool),
                "gt_actions": gt_actions, "gt_role_id": gt_role_id}


def _collect(gt, detections):
    """Per image id: (agents (P, 4 + A) float32, roles (P, 5A, 2) float32), as ``_collect_detections_for_image``."""
    num_actions = len(gt.actions)
    per_image = OrderedDict()
    for det in detections:
        agent = np.full(4 + num_actions, np.nan, dtype=np.float32)
        role = np.full((5 * num_actions, 2), np.nan, dtype=np.float32)
        agent[:4] = det["person_box"]
        for aid, (action, roles) in enumerate(zip(gt.actions, gt.roles)):
            for j, r in enumerate(roles):
                value = det.get(f"{action}_{r}", np.nan if r == "agent" else [np.nan] * 5)
                if r == "agent":
                    agent[4 + aid] = value
                else:
                    role[5 * aid:5 * aid + 5, j - 1] = value
        per_image.setdefault(int(det["image_id"]), []).append((agent, role))
    out = {}
    for image_id, rows in per_image.items():
        out[image_id] = (np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]))
    return out


def _ap(tp, fp, sc, npos):
    if npos == 0:
        return np.nan
    if len(sc) == 0:
        return 0.0
    order = np.asarray(sc, dtype=np.float32).argsort()[::-1]
    ctp = np.cumsum(np.asarray(tp, dtype=np.float32)[order])
    cfp = np.cumsum(np.asarray(fp, dtype=np.float32)[order])
    rec = ctp / float(npos)
    prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return ap_all_point(rec, prec)


def _persons_per_image(gt):
    """Ground-truth persons of every image, shared by the agent and role evaluations.

    Returns:
        tuple: a list of (image entry, person row indices, person boxes (P, 4), action labels (P, A) with -1 =
        ignore, ignore flags (P,)), and the positives per action (A,) over all images.
    """
    persons, npos = [], np.zeros(len(gt.actions))
    for entry in gt.images:
        inds = np.flatnonzero(entry["is_person"])
        gt_actions = entry["gt_actions"][inds]
        npos += np.sum(gt_actions == 1, axis=0)
        persons.append((entry, inds, entry["boxes"][inds], gt_actions, np.any(gt_actions == -1, axis=1)))
    return persons, npos


def _match(gt_boxes, pred_box):
    if gt_boxes.shape[0] == 0:
        return None, 0.0
    ov = inclusive_iou(gt_boxes, pred_box)
    return int(ov.argmax()), float(ov.max())


def vcoco_agent_eval(gt, detections, ovr_thresh=0.5):
    """Agent AP per action (official ``_do_agent_eval``).

    Args:
        gt (VCOCOGroundTruth): ground truth.
        detections (list[dict]): official per-person detections (module docstring), original pixels.
        ovr_thresh (float): person-box IoU threshold, 0.5.

    Returns:
        tuple(np.ndarray, float): (A,) agent AP in [0, 1] (NaN without positives) and the official mean
        (nansum / A).
    """
    num_actions = len(gt.actions)
    tp, fp, sc = ([[] for _ in range(num_actions)] for _ in range(3))
    persons, npos = _persons_per_image(gt)
    dets = _collect(gt, detections)
    for entry, _, gt_boxes, gt_actions, ignore in persons:
        if entry["id"] not in dets:
            continue
        agents = dets[entry["id"]][0]
        for aid in range(num_actions):
            covered = np.zeros(gt_boxes.shape[0], dtype=bool)
            scores = agents[:, 4 + aid]
            valid = np.flatnonzero(~np.isnan(scores))
            scores, boxes = scores[valid], agents[valid, :4]
            for j in scores.argsort()[::-1]:
                jmax, ovmax = _match(gt_boxes, boxes[j])
                if jmax is not None and ignore[jmax]:
                    continue
                sc[aid].append(scores[j])
                if jmax is not None and gt_actions[jmax, aid] == 1 and ovmax >= ovr_thresh and not covered[jmax]:
                    covered[jmax] = True
                    tp[aid].append(1), fp[aid].append(0)
                else:
                    tp[aid].append(0), fp[aid].append(1)
    ap = np.array([_ap(tp[a], fp[a], sc[a], npos[a]) for a in range(num_actions)])
    return ap, float(np.nansum(ap) / max(num_actions, 1))


def vcoco_role_eval(gt, detections, ovr_thresh=0.5, scenario=1):
    """Role AP per (action, role) (official ``_do_role_eval``).

    Args:
        gt (VCOCOGroundTruth): ground truth.
        detections (list[dict]): official per-person detections.
        ovr_thresh (float): IoU threshold for both the person and the role box, 0.5.
        scenario (int): 1 -- a person without a ground-truth role object needs an empty (all-zero or NaN) role box;
            2 -- the role box is ignored there.

    Returns:
        tuple(np.ndarray, float): (A, 2) role AP (NaN where the action has no such role or no positives) and
        their nanmean.

    Raises:
        ValueError: for a scenario other than 1 or 2.
    """
    if scenario not in (1, 2):
        raise ValueError(f"vcoco_role_eval: scenario must be 1 or 2, got {scenario}")
    num_actions = len(gt.actions)
    tp, fp, sc = ([[[], []] for _ in range(num_actions)] for _ in range(3))
    persons, npos = _persons_per_image(gt)
    dets = _collect(gt, detections)
    for entry, inds, gt_boxes, gt_actions, ignore in persons:
        if entry["id"] not in dets:
            continue
        agents, roles = dets[entry["id"]]
        for aid in range(num_actions):
            for rid in range(len(gt.roles[aid]) - 1):
                covered = np.zeros(gt_boxes.shape[0], dtype=bool)
                role_ids = entry["gt_role_id"][inds, aid, rid]
                gt_roles = -np.ones_like(gt_boxes)
                gt_roles[role_ids > -1] = entry["boxes"][role_ids[role_ids > -1]]
                scores = roles[:, 5 * aid + 4, rid]
                valid = np.flatnonzero(~np.isnan(scores))
                scores, boxes, role_boxes = scores[valid], agents[valid, :4], roles[valid, 5 * aid:5 * aid + 4, rid]
                for j in scores.argsort()[::-1]:
                    jmax, ovmax = _match(gt_boxes, boxes[j])
                    if jmax is not None and ignore[jmax]:
                        continue
                    ov_role = 0.0
                    if jmax is not None:
                        if np.all(gt_roles[jmax] == -1):
                            empty = np.all(role_boxes[j] == 0.0) or np.all(np.isnan(role_boxes[j]))
                            ov_role = 1.0 if (scenario == 2 or empty) else 0.0
                        else:
                            ov_role = float(inclusive_iou(gt_roles[jmax], role_boxes[j])[0])
                    sc[aid][rid].append(scores[j])
                    if (jmax is not None and gt_actions[jmax, aid] == 1 and ovmax >= ovr_thresh
                            and ov_role >= ovr_thresh and not covered[jmax]):
                        covered[jmax] = True
                        tp[aid][rid].append(1), fp[aid][rid].append(0)
                    else:
                        tp[aid][rid].append(0), fp[aid][rid].append(1)
    ap = np.full((num_actions, 2), np.nan)
    for aid in range(num_actions):
        for rid in range(len(gt.roles[aid]) - 1):
            ap[aid, rid] = _ap(tp[aid][rid], fp[aid][rid], sc[aid][rid], npos[aid])
    mean = float(np.nanmean(ap)) if np.any(~np.isnan(ap)) else float("nan")
    return ap, mean
