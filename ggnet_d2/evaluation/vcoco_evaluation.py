"""VCOCOEvaluator: V-COCO agent and role AP (Scenario 1 and 2) of GGNet's HOI triplets.

Verb classes of a V-COCO dataset are action-role names (metadata ``verb_classes``): ``"<action>_<role>"`` for an
action with object roles ("hit_instr", "hit_obj", "eat_obj", "talk_on_phone_instr") and the bare ``"<action>"`` for
agent-only actions ("run", "stand", "smile", "walk"); :func:`vcoco_verb_mapping` resolves them against the official
action/role list and rejects any other name. The built-in datasets have all 29 (PPDM's ids), so all 26 actions can be
predicted and scored.

Conversion of one image's prediction entry to the official per-person detections (``vcoco_detections_from_entry``):
* one detection per distinct subject (``subject_id`` of ``hoi_prediction`` or ``agent_prediction``),
  ``person_box`` = that box;
* ``<action>_agent``: with an ``agent_prediction`` list in the entry, the score it gives the (subject, action) --
  ``{"subject_id": i, "category_id": a, "score": s}``, ``a`` the action's position in the official action list
  (vcoco_*.json order, ``VCOCO_ACTIONS``) -- independent of the role scores, NaN when not listed; without one, the
  highest score among the person's triplets of any verb of that action (NaN if none);
* ``<action>_<role>`` = [object box, score] of the person's highest-scoring triplet with that verb (NaN x 5 if none);
  a triplet whose object is the subject itself stands for "no role object" and gives an all-zero role box, which
  Scenario 1 requires for persons whose ground truth has no object for that role. Triplets of an agent-only verb
  (any object) count towards the agent score only.

Every image of the split needs an entry (an image never run through the model is an error unless
``allow_missing_images``), and entries are checked as for HICO-DET (formats/predictions.py).
"""
import json
import logging
import os
from collections import OrderedDict

import numpy as np
from detectron2.data import MetadataCatalog
from detectron2.evaluation import DatasetEvaluator

from ..formats.ids import int_map, invert_id_map
from ..formats.predictions import decode_prediction_entries, image_positions
from ..metrics.hoi_scoring import percent, percent_table
from ..metrics.vcoco_protocol import VCOCOGroundTruth, vcoco_agent_eval, vcoco_role_eval
from .prediction_format import gather_and_save_entries, outputs_to_prediction_entry

__all__ = ["VCOCOEvaluator", "vcoco_verb_mapping", "vcoco_detections_from_entry"]

logger = logging.getLogger(__name__)


def vcoco_verb_mapping(verb_classes, actions, roles):
    """Map each verb class name to its official (action, role).

    Args:
        verb_classes (list[str]): metadata verb names, index = contiguous verb id.
        actions (list[str]), roles (list[list[str]]): the official action list and role names ("agent" first).

    Returns:
        list[tuple[str, str]]: (action, role) per verb; role "agent" for agent-only actions.

    Raises:
        ValueError: naming the verb when it is neither an agent-only action nor "<action>_<role>" of the list.
    """
    roles_of = dict(zip(actions, roles))
    mapping = []
    for name in verb_classes:
        if name in roles_of and roles_of[name] == ["agent"]:
            mapping.append((name, "agent"))
            continue
        action, _, role = name.rpartition("_")
        if action not in roles_of or role == "agent" or role not in roles_of[action]:
            raise ValueError(f"V-COCO verb class {name!r} is neither an agent-only action nor '<action>_<role>' "
                             "of the official action/role list")
        mapping.append((action, role))
    return mapping


def vcoco_detections_from_entry(entry, image_id, verb_file_to_contiguous, verb_mapping, actions, roles):
    """Official per-person detections of one prediction entry (conversion rules in the module docstring).

    Args:
        entry (dict): PPDM-style prediction entry (boxes in original pixels), optionally with "agent_prediction".
        image_id (int): COCO image id.
        verb_file_to_contiguous (dict[int, int]): metadata verb id map.
        verb_mapping (list[tuple[str, str]]): from :func:`vcoco_verb_mapping`.
        actions, roles: official action list and role names.

    Returns:
        list[dict]: one dict per subject, keys "image_id", "person_box", "<action>_agent", "<action>_<role>".

    Raises:
        ValueError: naming the image and record for an index outside ``predictions``, an unknown verb or action id,
            a malformed agent record or a non-finite score.
    """
    name = entry.get("file_name")
    preds = entry.get("predictions", [])
    agents = entry.get("agent_prediction")
    people = OrderedDict()
    for k, h in enumerate(entry.get("hoi_prediction", [])):
        s, o, vid = int(h["subject_id"]), int(h["object_id"]), int(h["category_id"])
        if not (0 <= s < len(preds) and 0 <= o < len(preds)):
            raise ValueError(f"image {name}: hoi_prediction[{k}] points outside predictions")
        if vid not in verb_file_to_contiguous:
            raise ValueError(f"image {name}: hoi_prediction[{k}] has unknown verb id {vid}")
        action, role = verb_mapping[verb_file_to_contiguous[vid]]
        score = float(h["score"])
        det = people.setdefault(s, _empty_detection(image_id, preds[s]["bbox"], actions, roles))
        key = f"{action}_agent"
        if agents is None and (np.isnan(det[key]) or score > det[key]):
            det[key] = score
        if role != "agent":
            key = f"{action}_{role}"
            if np.isnan(det[key][4]) or score > det[key][4]:
                box = [0.0] * 4 if o == s else [float(v) for v in preds[o]["bbox"]]
                det[key] = box + [score]
    for k, a in enumerate(agents or []):
        if not isinstance(a, dict) or set(a) != {"subject_id", "category_id", "score"}:
            raise ValueError(f"image {name}: agent_prediction[{k}] is not {{subject_id, category_id, score}}: {a!r}")
        s, aid, score = a["subject_id"], a["category_id"], a["score"]
        if not (isinstance(s, int) and 0 <= s < len(preds)):
            raise ValueError(f"image {name}: agent_prediction[{k}] subject_id {s!r} outside predictions")
        if not (isinstance(aid, int) and 0 <= aid < len(actions)):
            raise ValueError(f"image {name}: agent_prediction[{k}] category_id {aid!r} is not an action index "
                             f"0..{len(actions) - 1}")
        if not isinstance(score, (int, float)) or not np.isfinite(score):
            raise ValueError(f"image {name}: agent_prediction[{k}] score {score!r} is not a finite number")
        det = people.setdefault(s, _empty_detection(image_id, preds[s]["bbox"], actions, roles))
        key = f"{actions[aid]}_agent"
        if np.isnan(det[key]) or score > det[key]:
            det[key] = float(score)
    return list(people.values())


def _empty_detection(image_id, person_box, actions, roles):
    det = {"image_id": int(image_id), "person_box": [float(v) for v in person_box]}
    for action, action_roles in zip(actions, roles):
        for r in action_roles:
            det[f"{action}_{r}"] = np.nan if r == "agent" else [np.nan] * 5
    return det


class VCOCOEvaluator(DatasetEvaluator):
    """V-COCO AP_agent, AP_role Scenario 1 and Scenario 2 (percent), official protocol (metrics/vcoco_protocol.py)."""

    extra_entry_keys = ("agent_prediction",)

    def __init__(self, dataset_name=None, output_dir=None, *, distributed=True, metadata=None, ground_truth=None,
                 allow_missing_images=False, drop_unknown_images=False):
        """
        Args:
            dataset_name (str, optional): registered V-COCO dataset; its metadata names ``vcoco_ann_file``,
                ``coco_annotation_file``, ``vcoco_ids_file``, ``verb_classes`` and the id maps.
            output_dir (str, optional): where predictions.json and vcoco_ap.json are written.
            distributed (bool): gather predictions to the main process.
            metadata (object, optional): replaces the catalog's metadata.
            ground_truth (VCOCOGroundTruth, optional): replaces loading the official files.
            allow_missing_images (bool): score images of the split without a prediction entry as images without
                detections (default: refuse, naming how many and the first few).
            drop_unknown_images (bool): leave out (with a warning) entries of images that are not in the split
                (default: refuse, naming the first).

        Raises:
            ValueError: when metadata keys are missing or a verb name does not map to an action/role.
        """
        if metadata is None:
            if dataset_name is None:
                raise ValueError("VCOCOEvaluator: give dataset_name or metadata")
            metadata = MetadataCatalog.get(dataset_name)
        self._metadata = metadata
        self._output_dir = output_dir
        self._distributed = distributed
        self._allow_missing_images = allow_missing_images
        self._drop_unknown_images = drop_unknown_images
        if ground_truth is None:
            files = [getattr(metadata, k, None) for k in ("vcoco_ann_file", "coco_annotation_file", "vcoco_ids_file")]
            if None in files:
                raise ValueError("VCOCOEvaluator: metadata lacks vcoco_ann_file / coco_annotation_file / "
                                 "vcoco_ids_file")
            ground_truth = VCOCOGroundTruth(*files)
        self._gt = ground_truth
        self._verb_mapping = vcoco_verb_mapping(metadata.verb_classes, ground_truth.actions, ground_truth.roles)
        self._verb_from_file = int_map(metadata.verb_dataset_id_to_contiguous_id)
        self._thing_from_file = int_map(metadata.thing_dataset_id_to_contiguous_id)
        self._verb_to_file = invert_id_map(metadata.verb_dataset_id_to_contiguous_id, "verb ids")
        self._thing_to_file = invert_id_map(metadata.thing_dataset_id_to_contiguous_id, "thing ids")
        self.reset()

    def reset(self):
        """Forget the predictions collected so far."""
        self._predictions = []

    def process(self, inputs, outputs):
        """Convert each image's output to a prediction entry (image_id = COCO image id)."""
        for inp, out in zip(inputs, outputs):
            self._predictions.append(outputs_to_prediction_entry(
                inp["file_name"], out, self._thing_to_file, self._verb_to_file, inp.get("image_id")))

    def evaluate(self):
        """Gather and score; ``{}`` on non-main ranks."""
        entries = gather_and_save_entries(self._predictions, self._distributed, self._output_dir)
        if entries is None:
            return {}
        return self.evaluate_predictions(entries)

    def _entry_images(self, entries, source):
        """The entries of images of the split, their COCO image ids and ground-truth image keys.

        Raises:
            ValueError: naming the first entry of an image outside the split, unless ``drop_unknown_images``.
        """
        position = {e["id"]: k for k, e in enumerate(self._gt.images)}
        kept, image_ids, names, dropped = [], [], [], []
        for k, entry in enumerate(entries):
            image_id = entry.get("image_id", self._gt.file_to_image_id.get(os.path.basename(entry["file_name"])))
            if image_id is None or int(image_id) not in position:
                if not self._drop_unknown_images:
                    raise ValueError(f"{source}: entry {k}: image {entry['file_name']} is not in the V-COCO ground "
                                     "truth (--drop-unknown-images / TEST.HOI.DROP_UNKNOWN_IMAGES leaves such "
                                     "entries out)")
                dropped.append(entry["file_name"])
                continue
            kept.append(entry)
            image_ids.append(int(image_id))
            names.append(self._gt.images[position[int(image_id)]]["file_name"] or str(image_id))
        if dropped:
            logger.warning("%s: %d entries of images that are not in the V-COCO split were left out (e.g. %s)",
                           source, len(dropped), dropped[0])
        return kept, image_ids, names

    def evaluate_predictions(self, entries, source="predictions"):
        """Score PPDM-style entries.

        Returns:
            dict: ``{"vcoco": {"AP_agent", "AP_role_scenario_1", "AP_role_scenario_2"}}`` in percent.

        Raises:
            ValueError: for a malformed entry (formats/predictions.py), an entry whose image is not in the V-COCO
                split (unless ``drop_unknown_images``), two entries of one image, or (unless
                ``allow_missing_images``) images without an entry.
        """
        # the same checks as for HICO-DET: keys, boxes, ids, indices, scores, one entry per image of the split
        decode_prediction_entries(entries, self._thing_from_file, self._verb_from_file, source, self.extra_entry_keys)
        entries, image_ids, names = self._entry_images(entries, source)
        image_index = {e["file_name"] or str(e["id"]): k for k, e in enumerate(self._gt.images)}
        _, missing, _ = image_positions(names, image_index, source, self._allow_missing_images)
        if missing:
            logger.warning("%s: %d image(s) of the V-COCO split have no prediction entry (e.g. %s); scored as images "
                           "without detections", source, len(missing), missing[0])
        detections = []
        for entry, image_id in zip(entries, image_ids):
            detections += vcoco_detections_from_entry(entry, image_id, self._verb_from_file, self._verb_mapping,
                                                      self._gt.actions, self._gt.roles)
        agent_ap, agent_map = vcoco_agent_eval(self._gt, detections)
        role1, role1_map = vcoco_role_eval(self._gt, detections, scenario=1)
        role2, role2_map = vcoco_role_eval(self._gt, detections, scenario=2)
        metrics = OrderedDict(AP_agent=agent_map * 100, AP_role_scenario_1=role1_map * 100,
                              AP_role_scenario_2=role2_map * 100)
        logger.info("V-COCO evaluation:\n%s", percent_table(metrics))
        if self._output_dir:
            per_class = {"agent": {a: percent(v) for a, v in zip(self._gt.actions, agent_ap)},
                         "role_scenario_1": {}, "role_scenario_2": {}}
            for aid, (action, roles) in enumerate(zip(self._gt.actions, self._gt.roles)):
                for rid, role in enumerate(roles[1:]):
                    per_class["role_scenario_1"][f"{action}_{role}"] = percent(role1[aid, rid])
                    per_class["role_scenario_2"][f"{action}_{role}"] = percent(role2[aid, rid])
            os.makedirs(self._output_dir, exist_ok=True)
            with open(os.path.join(self._output_dir, "vcoco_ap.json"), "w") as f:
                json.dump({"metrics": metrics, "per_class": per_class}, f, indent=1)
        return {"vcoco": metrics}
