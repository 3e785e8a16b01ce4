"""GGNet meta-architecture (Zhong et al., CVPR 2021): backbone + glance/gaze/APM/object heads, Eq. 7 training loss
and Sec. 3.4 inference, in detectron2's calling convention."""
import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from detectron2.config import configurable
from detectron2.modeling import META_ARCH_REGISTRY, build_backbone
from detectron2.structures import Boxes, ImageList, Instances

from ...data.targets import TRAINING_TARGET_KEYS
from ...data.test_placement import TEST_PLACEMENTS, center_affine
from ...layers import AMP_PRECISIONS, float32_region
from ..external import build_external_source, candidates_from_detections
from ..heads import HOIHeads
from ..losses import apm_l1_loss, cross_process_normalizer, focal_loss, hna_focal_loss, masked_l1_loss
from ..postprocess import clip_boxes_authors, decode_hoi
from .dataset_facts import static_dataset_facts

BOX_CLIPS = ("clip", "authors")

__all__ = ["GGNet"]

logger = logging.getLogger(__name__)

_GAZE_TARGET_KEY = "gaze_hna_map"  # the authors' sharper gaze-step target (MODEL.GGNET.LOSS.GAZE_TARGET "sharp")
# every loss reads these; the gaze target is shipped (and required) only with LOSS.GAZE_TARGET "sharp"
_TARGET_KEYS = tuple(k for k in TRAINING_TARGET_KEYS if k != _GAZE_TARGET_KEY)


@META_ARCH_REGISTRY.register()
class GGNet(nn.Module):
    """Glance and Gaze network.

    Training: ``forward(list of {"image": uint8 (3, H, W), "ggnet_targets": {...}})`` (docs/interfaces.md) returns
    a dict of weighted losses whose sum is Eq. 7: ``loss_glance``, ``loss_gaze1``..``loss_gazeK`` (last step with
    FINAL_GAZE_WEIGHT; with K = 0 ``loss_glance`` gets FINAL_GAZE_WEIGHT), ``loss_apm_subject``,
    ``loss_apm_object``, ``loss_obj_heatmap``, ``loss_wh``, ``loss_offset``; each averaged over backbone outputs
    (Hourglass stacks), except the APM losses with ``apm_stack_reduction="sum"`` (the authors' hoidet.py). Gaze
    steps are trained on ``hna_map`` or, with ``gaze_target="sharp"``, on the mapper's ``gaze_hna_map``. Every loss
    is divided by its count (positives, mask entries) summed over all training processes / world size
    (``cross_process_normalizer``), so N DDP processes with batch b give the gradient of one process with batch N*b.

    Inference: ``forward(list of {"image": (3, h, w) resized, "height", "width"})`` returns per image
    ``{"instances", "hoi_instances"}`` in original pixels as specified in docs/interfaces.md.
    Decoding follows ``match_rule`` / ``dedup_triplets`` (``decode_hoi``) and ``box_clip`` ("clip": cut at the
    border; "authors": ``clip_boxes_authors``); ``test_placement`` "center" expects the ``test_square_size`` square of
    ``data/test_placement.py`` and inverts that warp (MODEL.GGNET.TEST.*, INPUT.GGNET.TEST_PLACEMENT).

    ``valid_verb_object`` (bool (V, C)) is a saved buffer, so a checkpoint carries the correspondence; where it
    comes from is ``valid_verb_object_source`` ("metadata:<name>", "config", "checkpoint" or "unknown"; see
    ``dataset_facts``). A checkpoint's replaces an unknown one only; a known one is kept (with a warning when they
    differ).

    Raises:
        ValueError: on missing target keys, a ``valid_verb_object`` of the wrong shape, or an unknown preset.
    """

    @configurable
    def __init__(self, *, backbone, heads, pixel_mean, pixel_std, size_divisibility=32, num_gaze_steps=2,
                 hna_on=True, focal_alpha=2.0, hna_beta=7.0, focal_gamma=4.0, loss_weights=None,
                 person_class_id=0, topk_interactions=100, topk_humans=100, topk_objects=100,
                 match_valid_objects_only=True, score_thresh=0.0, valid_verb_object=None, output_stride=4,
                 test_square_size=0, match_rule="eq8", dedup_triplets=False, box_clip="clip",
                 test_placement="top_left", gaze_target="glance", apm_stack_reduction="mean",
                 external_source=None, external_topk=100, external_score_thresh=0.0, valid_verb_object_source=None,
                 train_autocast_dtype=None):
        super().__init__()
        # bfloat16 AMP (SOLVER.AMP.PRECISION): training forwards autocast here; detectron2 v0.6's AMPTrainer only
        # knows float16 (it autocasts itself). None: no autocast of GGNet's own.
        self.train_autocast_dtype = train_autocast_dtype
        # a plain object, not a sub-module: an external detector stays out of GGNet's state dict and optimizer
        self.external_source = external_source
        self.external_topk, self.external_score_thresh = external_topk, external_score_thresh
        if box_clip not in BOX_CLIPS:
            raise ValueError(f"MODEL.GGNET.TEST.BOX_CLIP must be one of {BOX_CLIPS}, got {box_clip!r}")
        if test_placement not in TEST_PLACEMENTS:
            raise ValueError(f"INPUT.GGNET.TEST_PLACEMENT must be one of {TEST_PLACEMENTS}, got {test_placement!r}")
        if test_placement == "center" and not test_square_size:
            raise ValueError("INPUT.GGNET.TEST_PLACEMENT 'center' needs a test square (INPUT.GGNET.TEST_SIZE > 0)")
        self.match_rule, self.dedup_triplets = match_rule, dedup_triplets
        self.box_clip, self.test_placement = box_clip, test_placement
        if gaze_target not in ("glance", "sharp"):
            raise ValueError(f"MODEL.GGNET.LOSS.GAZE_TARGET must be 'glance' or 'sharp', got {gaze_target!r}")
        if apm_stack_reduction not in ("mean", "sum"):
            raise ValueError(f"MODEL.GGNET.LOSS.APM_STACK_REDUCTION must be 'mean' or 'sum', got "
                             f"{apm_stack_reduction!r}")
        self.gaze_target, self.apm_stack_reduction = gaze_target, apm_stack_reduction
        self.backbone = backbone
        self.heads = heads
        self.size_divisibility = max(size_divisibility, getattr(backbone, "size_divisibility", 0))
        self.num_gaze_steps = num_gaze_steps
        self.hna_on = hna_on
        self.focal_alpha, self.hna_beta, self.focal_gamma = focal_alpha, hna_beta, focal_gamma
        self.loss_weights = dict(loss_weights or {})
        self.person_class_id = person_class_id
        self.topk = (topk_interactions, topk_humans, topk_objects)
        self.match_valid_objects_only = match_valid_objects_only
        self.score_thresh = score_thresh
        self.output_stride = output_stride
        self.test_square_size = test_square_size
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std, dtype=torch.float32).view(-1, 1, 1), False)
        if valid_verb_object is not None:
            valid_verb_object = torch.as_tensor(np.asarray(valid_verb_object), dtype=torch.bool)
        self.register_buffer("valid_verb_object", valid_verb_object)
        self.valid_verb_object_source = valid_verb_object_source or (
            "unknown" if valid_verb_object is None else "given")

    @classmethod
    def from_config(cls, cfg):
        g = cfg.MODEL.GGNET
        backbone = build_backbone(cfg)
        shapes = backbone.output_shape()
        heads = nn.ModuleList([
            HOIHeads(shapes[name].channels, num_classes=g.NUM_CLASSES, num_verbs=g.NUM_VERBS, head_conv=g.HEAD_CONV,
                     num_actpoints=g.NUM_ACTPOINTS, num_gaze_steps=g.NUM_GAZE_STEPS,
                     share_gaze_convs=g.SHARE_GAZE_CONVS, apm_per_verb=g.APM_PER_VERB,
                     bias_init=g.OBJ_HEATMAP_BIAS_INIT, apm_input=g.APM_INPUT,
                     deform_conv_backend=cfg.MODEL.DEFORM_CONV_BACKEND)
            for name in backbone._out_features])
        valid, source = static_dataset_facts(cfg)
        if valid is None:
            # Every pair allowed until a checkpoint or the loaded data says otherwise (PPDM decodes so without its
            # corre file: src/lib/models/decode.py hoidet_decode).
            valid = np.ones((g.NUM_VERBS, g.NUM_CLASSES), dtype=bool)
        lw = g.LOSS
        return {
            "backbone": backbone, "heads": heads, "pixel_mean": cfg.MODEL.PIXEL_MEAN, "pixel_std": cfg.MODEL.PIXEL_STD,
            "size_divisibility": cfg.INPUT.GGNET.SIZE_DIVISIBILITY, "num_gaze_steps": g.NUM_GAZE_STEPS,
            "hna_on": lw.HNA_ON, "focal_alpha": lw.FOCAL_ALPHA, "hna_beta": lw.HNA_BETA,
            "focal_gamma": lw.FOCAL_GAMMA,
            "loss_weights": {"final_gaze": lw.FINAL_GAZE_WEIGHT, "glance": lw.GLANCE_WEIGHT,
                             "intermediate_gaze": lw.INTERMEDIATE_GAZE_WEIGHT,
                             "apm_subject": lw.APM_SUBJECT_WEIGHT, "apm_object": lw.APM_OBJECT_WEIGHT,
                             "obj_heatmap": lw.OBJ_HEATMAP_WEIGHT, "wh": lw.WH_WEIGHT, "offset": lw.OFFSET_WEIGHT},
            "person_class_id": g.PERSON_CLASS_ID, "topk_interactions": g.TEST.TOPK_INTERACTIONS,
            "topk_humans": g.TEST.TOPK_HUMANS, "topk_objects": g.TEST.TOPK_OBJECTS,
            "match_valid_objects_only": g.TEST.MATCH_VALID_OBJECTS_ONLY, "score_thresh": g.TEST.SCORE_THRESH,
            "valid_verb_object": valid, "valid_verb_object_source": source, "output_stride": g.OUTPUT_STRIDE,
            "test_square_size": cfg.INPUT.GGNET.TEST_SIZE if cfg.INPUT.GGNET.TEST_PAD_SQUARE or
            cfg.INPUT.GGNET.TEST_PLACEMENT == "center" else 0,
            "match_rule": g.TEST.MATCH_RULE, "dedup_triplets": g.TEST.DEDUP_TRIPLETS, "box_clip": g.TEST.BOX_CLIP,
            "test_placement": cfg.INPUT.GGNET.TEST_PLACEMENT,
            "gaze_target": lw.GAZE_TARGET, "apm_stack_reduction": lw.APM_STACK_REDUCTION,
            "external_source": build_external_source(cfg), "external_topk": g.EXTERNAL_DETECTIONS.TOPK,
            "external_score_thresh": g.EXTERNAL_DETECTIONS.SCORE_THRESH,
            "train_autocast_dtype": AMP_PRECISIONS[cfg.SOLVER.AMP.PRECISION]
            if cfg.SOLVER.AMP.ENABLED and cfg.SOLVER.AMP.PRECISION == "bfloat16" else None,
        }

    @property
    def device(self):
        return self.pixel_mean.device

    def set_valid_verb_object(self, valid, source):
        """Replace the correspondence (bool (V, C), same shape) and record where it came from.

        Raises:
            ValueError: on a shape other than the current one.
        """
        valid = torch.as_tensor(np.asarray(valid), dtype=torch.bool, device=self.device)
        if self.valid_verb_object is not None and valid.shape != self.valid_verb_object.shape:
            raise ValueError(f"valid_verb_object from {source} has shape {tuple(valid.shape)}, the model's is "
                             f"{tuple(self.valid_verb_object.shape)} (NUM_VERBS, NUM_CLASSES)")
        self.valid_verb_object = valid
        self.valid_verb_object_source = source

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        key = prefix + "valid_verb_object"
        known = self.valid_verb_object_source != "unknown" and self.valid_verb_object is not None
        ours = self.valid_verb_object.clone() if known else None
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if key not in state_dict:
            return
        if known:
            if not torch.equal(self.valid_verb_object, ours):
                logger.warning(f"the checkpoint's valid_verb_object differs from the one of "
                               f"{self.valid_verb_object_source}; keeping the latter")
            self.valid_verb_object.copy_(ours)
        elif self.valid_verb_object is not None:
            self.valid_verb_object_source = "checkpoint"

    def preprocess_image(self, batched_inputs):
        """Pad with black pixels (bottom/right), then normalise with PIXEL_MEAN/STD.

        Training crops are already ``INPUT_SIZE`` squares. At inference each image is padded to a
        ``test_square_size`` square when that is set (CenterNet/PPDM's fixed-resolution test), then to a multiple of
        ``size_divisibility``. Padding before normalising makes the border black, as in the training crop (the affine
        warp fills with 0): a from-scratch model otherwise meets, next to truncated boxes, a border it never saw.

        Returns:
            ImageList: (B, 3, H, W) normalised tensor; ``image_sizes`` are the unpadded (h, w) input sizes.
        """
        images = ImageList.from_tensors([x["image"].to(self.device).float() for x in batched_inputs],
                                        self.size_divisibility)
        tensor = images.tensor
        if not self.training and self.test_square_size:
            div = max(self.size_divisibility, 1)
            side = -(-max(self.test_square_size, *tensor.shape[-2:]) // div) * div
            tensor = F.pad(tensor, (0, side - tensor.shape[-1], 0, side - tensor.shape[-2]))
        return ImageList((tensor - self.pixel_mean) / self.pixel_std, images.image_sizes)

    def forward(self, batched_inputs):
        if self.training and self.train_autocast_dtype is not None:
            with torch.autocast(self.device.type, dtype=self.train_autocast_dtype):
                return self._forward(batched_inputs)
        return self._forward(batched_inputs)

    def _forward(self, batched_inputs):
        images = self.preprocess_image(batched_inputs)
        features = self.backbone(images.tensor)
        names = self.backbone._out_features
        if self.training:
            targets = self._stack_targets(batched_inputs)
            norms = self.loss_normalizers(targets)
            per_stack = [self.losses(self.heads[i](features[n]), targets, norms) for i, n in enumerate(names)]
            keep_sum = ("loss_apm_subject", "loss_apm_object") if self.apm_stack_reduction == "sum" else ()
            return {k: sum(d[k] for d in per_stack) / (1 if k in keep_sum else len(per_stack)) for k in per_stack[0]}
        outputs = self.heads[-1](features[names[-1]])
        return self.inference(outputs, batched_inputs, images.image_sizes)

    def _stack_targets(self, batched_inputs):
        keys = _TARGET_KEYS + ((_GAZE_TARGET_KEY,) if self.gaze_target == "sharp" and self.num_gaze_steps else ())
        try:
            return {k: torch.stack([x["ggnet_targets"][k] for x in batched_inputs]).to(self.device) for k in keys}
        except KeyError as e:
            names = [x.get("file_name", "?") for x in batched_inputs]
            raise ValueError(f"training input lacks ggnet_targets key {e} (images {names})") from None

    def loss_normalizers(self, t):
        """Divisors of the losses for stacked targets ``t``: counts summed over all processes / world size.

        Positives (M == 1) of the interaction map(s) and object heatmap (floor 1, as a single process's max(N, 1));
        mask entries of the L1 losses (+ 1e-4): obj_mask counted once per wh / offset channel, apm_mask as is.
        """
        counts = {"interaction": t["hna_map"].eq(1).sum(), "object": t["obj_heatmap"].clamp(min=0).eq(1).sum(),
                  "object_l1": t["obj_mask"].sum() * 2, "apm": t["apm_mask"].sum()}
        floors = {"interaction": ("max", 1.0), "object": ("max", 1.0), "object_l1": ("add", 1e-4),
                  "apm": ("add", 1e-4)}
        if _GAZE_TARGET_KEY in t:
            counts["gaze"], floors["gaze"] = t[_GAZE_TARGET_KEY].eq(1).sum(), ("max", 1.0)
        return cross_process_normalizer(counts, floors)

    @float32_region
    def losses(self, out, t, norms=None):
        """Weighted loss terms (Eq. 4-7) of one head output ``out`` against stacked targets ``t``, divided by
        ``norms`` (``loss_normalizers(t)``; computed here when None); in float32 under AMP (``float32_region``)."""
        if norms is None:
            norms = self.loss_normalizers(t)
        w = self.loss_weights
        a, g = self.focal_alpha, self.focal_gamma

        def inter_loss(x, key="hna_map", norm="interaction"):
            if self.hna_on:
                return hna_focal_loss(x, t[key], a, self.hna_beta, g, normalizer=norms[norm])
            return focal_loss(x, t[key], a, g, normalizer=norms[norm])

        gaze_key, gaze_norm = (_GAZE_TARGET_KEY, "gaze") if _GAZE_TARGET_KEY in t else ("hna_map", "interaction")
        logits = out["interaction_logits"]
        k_final = len(logits) - 1
        losses = {"loss_glance": (w["final_gaze"] if k_final == 0 else w["glance"]) * inter_loss(logits[0])}
        for k in range(1, k_final + 1):
            weight = w["final_gaze"] if k == k_final else w["intermediate_gaze"]
            losses[f"loss_gaze{k}"] = weight * inter_loss(logits[k], gaze_key, gaze_norm)
        idx, mask, n_apm = t["interaction_index"], t["apm_mask"], norms["apm"]
        losses["loss_apm_subject"] = w["apm_subject"] * apm_l1_loss(out["apm_subject"], idx, mask,
                                                                    t["apm_subject_offset"], n_apm)
        losses["loss_apm_object"] = w["apm_object"] * apm_l1_loss(out["apm_object"], idx, mask,
                                                                  t["apm_object_offset"], n_apm)
        losses["loss_obj_heatmap"] = w["obj_heatmap"] * focal_loss(out["obj_heatmap"], t["obj_heatmap"], a, g,
                                                                   normalizer=norms["object"])
        n_obj = norms["object_l1"]
        losses["loss_wh"] = w["wh"] * masked_l1_loss(out["obj_wh"], t["obj_index"], t["obj_mask"], t["obj_wh"],
                                                     n_obj)
        losses["loss_offset"] = w["offset"] * masked_l1_loss(out["obj_offset"], t["obj_index"], t["obj_mask"],
                                                             t["obj_offset"], n_obj)
        return losses

    def inference(self, out, batched_inputs, image_sizes):
        """Decode (Sec. 3.4) and map to original pixels; returns the list of per-image output dicts."""
        valid = self.valid_verb_object if self.match_valid_objects_only else None
        humans = objects = None
        if self.external_source is not None:
            humans, objects = self.external_candidates(batched_inputs, image_sizes)
        d = decode_hoi(torch.sigmoid(out["obj_heatmap"]), out["obj_wh"], out["obj_offset"],
                       torch.sigmoid(out["interaction_logits"][-1]), out["apm_subject"], out["apm_object"],
                       out["actpoint_offsets"], out["actpoint_weights"], person_class_id=self.person_class_id,
                       topk_interactions=self.topk[0], topk_humans=self.topk[1], topk_objects=self.topk[2],
                       valid_verb_object=valid, match_rule=self.match_rule, dedup=self.dedup_triplets,
                       humans=humans, objects=objects)
        results = []
        for i, (x, (rh, rw)) in enumerate(zip(batched_inputs, image_sizes)):
            height, width = x.get("height", rh), x.get("width", rw)
            scale, offset = self._to_original(x, rh, rw, height, width)
            results.append(self._to_instances(d, i, scale * self.output_stride, height, width, offset))
        return results

    def external_candidates(self, batched_inputs, image_sizes):
        """Human/object candidates of ``self.external_source`` (GGNet-double-dagger, Table 5) in feature-map pixels.

        Returns:
            tuple: (humans, objects), the candidate dicts of ``decode_hoi`` (``candidates_from_detections``).
        """
        dets = self.external_source(batched_inputs)
        mapped = []
        for x, (rh, rw), det in zip(batched_inputs, image_sizes, dets):
            height, width = x.get("height", rh), x.get("width", rw)
            boxes = det["boxes"].to(self.device, torch.float32).reshape(-1, 4)
            mapped.append({"boxes": self._original_to_feature(boxes, x, rh, rw, height, width),
                           "scores": det["scores"].to(self.device, torch.float32),
                           "classes": det["classes"].to(self.device, torch.long)})
        return candidates_from_detections(mapped, person_class_id=self.person_class_id, topk=self.external_topk,
                                          score_thresh=self.external_score_thresh)

    def _original_to_feature(self, boxes, x, rh, rw, height, width):
        """Boxes (N, 4) XYXY original pixels -> feature-map pixels of the padded input: the inverse of
        ``_to_original`` (original = input * scale + offset), then / output stride."""
        scale, offset = self._to_original(x, rh, rw, height, width)
        return (boxes - offset.repeat(2)) / (scale.repeat(2) * self.output_stride)

    def _to_original(self, x, rh, rw, height, width):
        """(scale (2,), offset (2,)) with original = input pixels * scale + offset, per axis (x, y).

        "top_left": the input is the image resized (per-axis factors from the rounded size) at the top left;
        "center": the input is the ``test_square_size`` square of ``center_affine`` (the authors' transform_preds).

        Raises:
            ValueError: in "center" placement, an input that is not the test square.
        """
        if self.test_placement == "top_left":
            return self.pixel_mean.new_tensor([width / rw, height / rh]), self.pixel_mean.new_zeros(2)
        if (rh, rw) != (self.test_square_size,) * 2:
            raise ValueError(f"{x.get('file_name', 'input image')}: TEST_PLACEMENT 'center' expects the "
                             f"{self.test_square_size}x{self.test_square_size} centred input "
                             f"(build_hoi_test_augmentation), got {rh}x{rw}")
        k, tx, ty = center_affine(height, width, self.test_square_size)
        return self.pixel_mean.new_tensor([1 / k, 1 / k]), self.pixel_mean.new_tensor([-tx / k, -ty / k])

    def _to_instances(self, d, i, scale, height, width, offset):
        box_scale, box_offset = scale.repeat(2), offset.repeat(2)
        # padding of external candidates (mask False) is never matched and not reported
        hm, om = d["human_mask"][i], d["object_mask"][i]
        human_boxes = d["human_boxes"][i][hm] * box_scale + box_offset
        object_boxes = d["object_boxes"][i][om] * box_scale + box_offset
        if self.box_clip == "authors":
            human_boxes = Boxes(clip_boxes_authors(human_boxes, height, width))
            object_boxes = Boxes(clip_boxes_authors(object_boxes, height, width))
        else:
            human_boxes, object_boxes = Boxes(human_boxes), Boxes(object_boxes)
            human_boxes.clip((height, width))
            object_boxes.clip((height, width))
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
