"""From head outputs to per-image results in original pixels (Sec. 3.4): the decoding presets (match rule, dedup,
top-K, score threshold, box clip) and the coordinate mapping of the two test placements and of external boxes."""
import torch
from detectron2.structures import Boxes, Instances

from ...config_choices import (BOX_CLIP_CLAMP_CORNER_MIN_SIDE, CHOICES, PLACEMENT_CENTER, PLACEMENT_TOP_LEFT,
                               resolve_choice)
from ...utils.geometry import center_affine
from ..external import candidates_from_detections
from .decode import clip_boxes_authors, decode_hoi

__all__ = ["HOIPostProcessor", "BOX_CLIPS"]

BOX_CLIPS = CHOICES["MODEL.GGNET.TEST.BOX_CLIP"]  # the one table: config_choices.py


class HOIPostProcessor:
    """Decode GGNet's head outputs and map them to original pixels (docs/interfaces.md, model outputs).

    Decoding follows ``match_rule`` / ``dedup_triplets`` (``decode_hoi``), then ``box_clip`` ("clip": cut at the
    border; "clamp_corner_min_side": ``clip_boxes_authors``). ``test_placement`` "top_left": the input is the image resized at the
    top left (per-axis factors from the rounded size); "center": the ``test_square_size`` square of
    ``center_affine`` (the authors' transform_preds inverts it). External candidates (the paper's
    GGNet-double-dagger, Table 5) come in original pixels and are mapped to the feature map by the inverse map.
    A plain object: nothing of it is in the model's state dict.

    Args:
        person_class_id (int): channel of human points. topk (tuple): K of interactions, humans, objects (Sec. 3.4).
        match_valid_objects_only (bool): match objects only for verbs they admit (``valid_verb_object``).
        score_thresh (float): triplets scoring below are dropped. output_stride (int): input / feature-map pixels.
        test_square_size (int): side of the test square (0: none). match_rule, dedup_triplets, box_clip,
        test_placement (str / bool): MODEL.GGNET.TEST.*, INPUT.GGNET.TEST_PLACEMENT.
        external_topk (int), external_score_thresh (float): MODEL.GGNET.EXTERNAL_DETECTIONS.TOPK / SCORE_THRESH.

    Raises:
        ValueError: an unknown preset; "center" without a test square.
    """

    def __init__(self, *, person_class_id=0, topk=(100, 100, 100), match_valid_objects_only=True, score_thresh=0.0,
                 output_stride=4, test_square_size=0, match_rule="eq8", dedup_triplets=False, box_clip="clip",
                 test_placement="top_left", external_topk=100, external_score_thresh=0.0):
        box_clip = resolve_choice("MODEL.GGNET.TEST.BOX_CLIP", box_clip, "box_clip")
        match_rule = resolve_choice("MODEL.GGNET.TEST.MATCH_RULE", match_rule, "match_rule")
        test_placement = resolve_choice("INPUT.GGNET.TEST_PLACEMENT", test_placement, "test_placement")
        if test_placement == PLACEMENT_CENTER and not test_square_size:
            raise ValueError("INPUT.GGNET.TEST_PLACEMENT 'center' needs a test square (INPUT.GGNET.TEST_SIZE > 0)")
        self.person_class_id, self.topk = person_class_id, tuple(topk)
        self.match_valid_objects_only, self.score_thresh = match_valid_objects_only, score_thresh
        self.output_stride, self.test_square_size = output_stride, test_square_size
        self.match_rule, self.dedup_triplets = match_rule, dedup_triplets
        self.box_clip, self.test_placement = box_clip, test_placement
        self.external_topk, self.external_score_thresh = external_topk, external_score_thresh

    @classmethod
    def from_config(cls, cfg):
        """The post-processing of ``cfg`` (MODEL.GGNET.TEST.*, EXTERNAL_DETECTIONS.TOPK / SCORE_THRESH, INPUT.GGNET's
        test square and placement)."""
        g, i = cfg.MODEL.GGNET, cfg.INPUT.GGNET
        return cls(person_class_id=g.PERSON_CLASS_ID,
                   topk=(g.TEST.TOPK_INTERACTIONS, g.TEST.TOPK_HUMANS, g.TEST.TOPK_OBJECTS),
                   match_valid_objects_only=g.TEST.MATCH_VALID_OBJECTS_ONLY, score_thresh=g.TEST.SCORE_THRESH,
                   output_stride=g.OUTPUT_STRIDE,
                   test_square_size=i.TEST_SIZE if i.TEST_PAD_SQUARE or i.TEST_PLACEMENT == PLACEMENT_CENTER else 0,
                   match_rule=g.TEST.MATCH_RULE, dedup_triplets=g.TEST.DEDUP_TRIPLETS, box_clip=g.TEST.BOX_CLIP,
                   test_placement=i.TEST_PLACEMENT, external_topk=g.EXTERNAL_DETECTIONS.TOPK,
                   external_score_thresh=g.EXTERNAL_DETECTIONS.SCORE_THRESH)

    def __call__(self, out, batched_inputs, image_sizes, valid_verb_object=None, detections=None):
        """Per-image ``{"instances", "hoi_instances"}`` in original pixels.

        Args:
            out (dict): the last head output (feature-map tensors, logits).
            batched_inputs (list[dict]): the model inputs (``height`` / ``width``: original size).
            image_sizes (list[(int, int)]): unpadded input sizes (h, w).
            valid_verb_object (Tensor | None): bool (V, C), used when ``match_valid_objects_only``.
            detections (list[dict] | None): external detections per image, original pixels
                (``ggnet_d2.utils.external_detections`` layout); None: GGNet's own object heads.
        """
        humans = objects = None
        if detections is not None:
            humans, objects = self.external_candidates(detections, batched_inputs, image_sizes, out["obj_wh"])
        d = self.decode(out, valid_verb_object, humans, objects)
        results = []
        for i, (x, (rh, rw)) in enumerate(zip(batched_inputs, image_sizes)):
            height, width = x.get("height", rh), x.get("width", rw)
            scale, offset = self.to_original(x, rh, rw, height, width, out["obj_wh"])
            results.append(self.to_instances(d, i, scale * self.output_stride, height, width, offset))
        return results

    def decode(self, out, valid_verb_object=None, humans=None, objects=None):
        """``decode_hoi`` of the head output ``out`` with these settings: fixed-size batched tensors in feature-map
        pixels (where the exported graphs of ``ggnet_d2.deploy`` end)."""
        valid = valid_verb_object if self.match_valid_objects_only else None
        return decode_hoi(torch.sigmoid(out["obj_heatmap"]), out["obj_wh"], out["obj_offset"],
                          torch.sigmoid(out["interaction_logits"][-1]), out["apm_subject"], out["apm_object"],
                          out["actpoint_offsets"], out["actpoint_weights"], person_class_id=self.person_class_id,
                          topk_interactions=self.topk[0], topk_humans=self.topk[1], topk_objects=self.topk[2],
                          valid_verb_object=valid, match_rule=self.match_rule, dedup=self.dedup_triplets,
                          humans=humans, objects=objects)

    def external_candidates(self, detections, batched_inputs, image_sizes, ref):
        """Human/object candidates of external ``detections`` (original pixels) in feature-map pixels.

        Returns:
            tuple: (humans, objects), the candidate dicts of ``decode_hoi`` (``candidates_from_detections``).
        """
        mapped = []
        for x, (rh, rw), det in zip(batched_inputs, image_sizes, detections):
            height, width = x.get("height", rh), x.get("width", rw)
            boxes = det["boxes"].to(ref.device, torch.float32).reshape(-1, 4)
            scale, offset = self.to_original(x, rh, rw, height, width, ref)
            # the inverse of to_original (original = input * scale + offset), then / output stride
            mapped.append({"boxes": (boxes - offset.repeat(2)) / (scale.repeat(2) * self.output_stride),
                           "scores": det["scores"].to(ref.device, torch.float32),
                           "classes": det["classes"].to(ref.device, torch.long)})
        return candidates_from_detections(mapped, person_class_id=self.person_class_id, topk=self.external_topk,
                                          score_thresh=self.external_score_thresh)

    def to_original(self, x, rh, rw, height, width, ref):
        """(scale (2,), offset (2,)) float32 on ``ref``'s device with original = input pixels * scale + offset, per
        axis (x, y), for input ``x`` of unpadded size (rh, rw) and original size (height, width).

        Raises:
            ValueError: in "center" placement, an input that is not the test square.
        """
        new = {"dtype": torch.float32, "device": ref.device}
        if self.test_placement == PLACEMENT_TOP_LEFT:
            return torch.tensor([width / rw, height / rh], **new), torch.zeros(2, **new)
        if (rh, rw) != (self.test_square_size,) * 2:
            raise ValueError(f"{x.get('file_name', 'input image')}: TEST_PLACEMENT 'center' expects the "
                             f"{self.test_square_size}x{self.test_square_size} centred input "
                             f"(build_hoi_test_augmentation), got {rh}x{rw}")
        k, tx, ty = center_affine(height, width, self.test_square_size)
        return torch.tensor([1 / k, 1 / k], **new), torch.tensor([-tx / k, -ty / k], **new)

    def _boxes(self, boxes, height, width):
        if self.box_clip == BOX_CLIP_CLAMP_CORNER_MIN_SIDE:
            return Boxes(clip_boxes_authors(boxes, height, width))
        boxes = Boxes(boxes)
        boxes.clip((height, width))
        return boxes

    def to_instances(self, d, i, scale, height, width, offset):
        """Image ``i`` of ``decode_hoi``'s output ``d`` as ``{"instances", "hoi_instances"}`` (original pixels =
        feature-map pixels * ``scale`` + ``offset``, per axis)."""
        box_scale, box_offset = scale.repeat(2), offset.repeat(2)
        # padding of external candidates (mask False) is never matched and not reported
        hm, om = d["human_mask"][i], d["object_mask"][i]
        human_boxes = self._boxes(d["human_boxes"][i][hm] * box_scale + box_offset, height, width)
        object_boxes = self._boxes(d["object_boxes"][i][om] * box_scale + box_offset, height, width)
        num_h = len(human_boxes)
        inst = Instances((height, width))
        inst.pred_boxes = Boxes.cat([human_boxes, object_boxes])
        inst.scores = torch.cat([d["human_scores"][i][hm], d["object_scores"][i][om]])
        object_classes = d["object_classes"][i][om]
        person = object_classes.new_full((num_h,), self.person_class_id)
        inst.pred_classes = torch.cat([person, object_classes])
        keep = d["valid"][i] & (d["hoi_scores"][i] >= self.score_thresh)
        sub = (hm.cumsum(0) - 1)[d["subject_index"][i][keep]]
        obj = (om.cumsum(0) - 1)[d["object_index"][i][keep]]
        hoi = Instances((height, width))
        hoi.subject_boxes = Boxes(inst.pred_boxes.tensor[sub])
        hoi.object_boxes = Boxes(inst.pred_boxes.tensor[num_h + obj])
        hoi.subject_indices = sub
        hoi.object_indices = num_h + obj
        hoi.object_classes = object_classes[obj]
        hoi.verb_classes = d["verb_classes"][i][keep]
        hoi.scores = d["hoi_scores"][i][keep]
        hoi.interaction_points = d["interaction_points"][i][keep] * scale + offset
        hoi.actpoints = d["actpoints"][i][keep] * scale + offset
        hoi.actpoint_weights = d["actpoint_weights"][i][keep]
        return {"instances": inst, "hoi_instances": hoi}
