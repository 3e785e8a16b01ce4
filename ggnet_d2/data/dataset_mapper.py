"""HOIDatasetMapper: dataset dict -> network input and GGNet training targets (docs/interfaces.md)."""
import copy
import logging

import numpy as np
import torch
from detectron2.config import configurable
from detectron2.data import MetadataCatalog
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from ..config_choices import GAZE_TARGET_SHARP, resolve_choice
from .datasets.bad_records import BadRecordError
from .distill_pairs import build_distill_pairs
from .image_io import ImageReadError, read_image
from .external_detections import build_external_inputs
from .targets import TRAINING_TARGET_KEYS, build_ggnet_targets
from .transforms import build_hoi_test_augmentation, build_hoi_train_augmentation

__all__ = ["HOIDatasetMapper"]

logger = logging.getLogger(__name__)


class HOIDatasetMapper:
    """Reads the image, augments it with its boxes, and (train) builds ``"ggnet_targets"`` at the output stride.

    Output: the dataset dict plus ``"image"`` (uint8 tensor (3, H, W) in ``image_format``; float32 on the 0-255
    scale after a float colour augmentation, INPUT.GGNET.COLOR_AUG "random_order_shared_gray"); train mode adds
    ``"ggnet_targets"`` (dict of tensors, keys/shapes in docs/interfaces.md, Ho = H / stride). Test mode resizes with
    the longer side TEST_SIZE and builds no targets. Boxes are transformed with the image (input pixels), then divided
    by the stride (feature-map pixels).

    Images are read by ``image_io.read_image``: EXIF orientation applied, any pixel format converted to 8 bits.
    An image that cannot be decoded (missing, truncated, not an image, a pixel format with no sound 8-bit
    conversion) or whose size (as shown, after EXIF orientation) disagrees with the record's
    ``height``/``width`` raises :class:`BadRecordError` naming the file and image id -- in a DataLoader worker too,
    whose error the main process re-raises -- except in training under the "skip" policy, where the mapper logs a
    warning naming it and returns None; ``GGNetTrainer``'s loader (:class:`ReplacingMapDataset`) then maps another
    image in its place and counts it.
    """

    @configurable
    def __init__(self, is_train=True, *, augmentations, image_format="BGR", num_classes=80, num_verbs=117,
                 valid_verb_object=None, output_stride=4, max_objects=128, max_hois=64, min_overlap=0.7,
                 hna_radius=3, gaze_sigma_factors=None, bad_record_policy="error", hard_negative_rule="per_pair",
                 external_inputs=None, distill_pairs=False, distill_crop_size=224):
        """
        Args:
            is_train (bool): build targets.
            augmentations (list[T.Augmentation]).
            image_format (str): detectron2 image format ("BGR").
            num_classes, num_verbs (int): C and V.
            valid_verb_object (np.ndarray bool (V, C) | None): for HNA negatives (none when None).
            output_stride (int), max_objects, max_hois (int), min_overlap (float), hna_radius (int): see targets.
            gaze_sigma_factors ((float, float) | None): also build ``gaze_hna_map`` (targets.build_ggnet_targets);
                from_config sets it when MODEL.GGNET.LOSS.GAZE_TARGET is "sharp" and there are gaze steps.
            bad_record_policy (str): "skip" or "error" (``DATASETS.HOI.BAD_RECORD_POLICY``) for unreadable images.
            hard_negative_rule (str): ``targets.HARD_NEGATIVE_RULES`` (INPUT.GGNET.HARD_NEGATIVE_RULE).
            external_inputs (callable | None): test mode: ``(dataset_dict, image) -> dict`` of the fields GGNet's
                external-candidate route reads (``external_detections.build_external_inputs``; from_config builds it
                from MODEL.GGNET.EXTERNAL_DETECTIONS at test time).
            distill_pairs (bool): also ship ``"ggnet_distill"``, the per-pair inputs of the CLIP distillation
                (distill_pairs.py; MODEL.GGNET.DISTILL.ENABLED), with teacher crops of side ``distill_crop_size``
                (MODEL.GGNET.DISTILL.IMAGE_SIZE) cut from the image before augmentation.

        Raises:
            ValueError: if ``valid_verb_object`` is not (num_verbs, num_classes).
        """
        if valid_verb_object is not None:
            valid_verb_object = np.asarray(valid_verb_object, dtype=bool)
            if valid_verb_object.shape != (num_verbs, num_classes):
                raise ValueError(f"valid_verb_object has shape {valid_verb_object.shape}, expected "
                                 f"({num_verbs}, {num_classes}) (verbs, objects)")
        self.is_train = is_train
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.num_classes, self.num_verbs = num_classes, num_verbs
        self.valid_verb_object = valid_verb_object
        self.output_stride = output_stride
        self.max_objects, self.max_hois = max_objects, max_hois
        self.min_overlap, self.hna_radius = min_overlap, hna_radius
        self.gaze_sigma_factors = gaze_sigma_factors
        self.bad_record_policy = bad_record_policy
        self.hard_negative_rule = hard_negative_rule
        self.external_inputs = external_inputs
        self.distill_pairs, self.distill_crop_size = distill_pairs, distill_crop_size
        logger.info(f"HOIDatasetMapper ({'train' if is_train else 'test'}): {augmentations}")

    @classmethod
    def from_config(cls, cfg, is_train=True, **overrides):
        """Read cfg (INPUT.GGNET.*, MODEL.GGNET.*) and, for train, ``MetadataCatalog.get(cfg.DATASETS.TRAIN[0])``.

        ``overrides`` (any ``__init__`` keyword) win over both. Raises ValueError if the training metadata's class or
        verb count disagrees with MODEL.GGNET.NUM_CLASSES / NUM_VERBS.
        """
        g = cfg.INPUT.GGNET
        args = {
            "is_train": is_train,
            "augmentations": build_hoi_train_augmentation(cfg) if is_train else build_hoi_test_augmentation(cfg),
            "image_format": cfg.INPUT.FORMAT,
            "num_classes": cfg.MODEL.GGNET.NUM_CLASSES,
            "num_verbs": cfg.MODEL.GGNET.NUM_VERBS,
            "output_stride": cfg.MODEL.GGNET.OUTPUT_STRIDE,
            "max_objects": g.MAX_OBJECTS,
            "max_hois": g.MAX_HOIS,
            "min_overlap": g.MIN_OVERLAP,
            "hna_radius": g.HNA_RADIUS,
            "bad_record_policy": cfg.DATASETS.HOI.BAD_RECORD_POLICY,
            "hard_negative_rule": resolve_choice("INPUT.GGNET.HARD_NEGATIVE_RULE", g.HARD_NEGATIVE_RULE),
            "distill_pairs": bool(is_train and cfg.MODEL.GGNET.DISTILL.ENABLED),
            "distill_crop_size": cfg.MODEL.GGNET.DISTILL.IMAGE_SIZE,
        }
        if not is_train and "external_inputs" not in overrides:
            args["external_inputs"] = build_external_inputs(cfg)
        gaze_target = resolve_choice("MODEL.GGNET.LOSS.GAZE_TARGET", cfg.MODEL.GGNET.LOSS.GAZE_TARGET)
        if gaze_target == GAZE_TARGET_SHARP and cfg.MODEL.GGNET.NUM_GAZE_STEPS > 0:
            args["gaze_sigma_factors"] = (g.GAZE_SIGMA_FACTOR, g.GAZE_NEGATIVE_SIGMA_FACTOR)
        if is_train and len(cfg.DATASETS.TRAIN) and "valid_verb_object" not in overrides:
            name = cfg.DATASETS.TRAIN[0]
            meta = MetadataCatalog.get(name)
            valid = meta.get("valid_verb_object", None)
            if valid is not None:
                valid = np.asarray(valid, dtype=bool)
                if valid.shape != (args["num_verbs"], args["num_classes"]) and not (
                        "num_verbs" in overrides and "num_classes" in overrides):
                    raise ValueError(f"dataset {name} has {valid.shape[0]} verbs x {valid.shape[1]} objects but "
                                     f"MODEL.GGNET.NUM_VERBS/NUM_CLASSES are {args['num_verbs']}/"
                                     f"{args['num_classes']}")
                args["valid_verb_object"] = valid
        args.update(overrides)
        return args

    def __call__(self, dataset_dict):
        """Map one dataset dict (docs/interfaces.md) to the model input; see the class docstring."""
        d = copy.deepcopy(dataset_dict)
        image = self._read(d)
        if image is None:
            return None
        d.update(self.external_fields(d, image))
        original = image
        aug_input = T.AugInput(image)
        transforms = self.augmentations(aug_input)
        image = aug_input.image
        d["image"] = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        if self.is_train:
            d["ggnet_targets"] = self.targets_for(d, transforms, image.shape[:2])
            if self.distill_pairs:
                rgb = original[..., ::-1] if self.image_format == "BGR" else original
                d["ggnet_distill"] = build_distill_pairs(d, transforms, image.shape[:2], self.output_stride,
                                                         self.num_verbs, self.max_hois, rgb, self.distill_crop_size)
        return d

    def external_fields(self, d, image):
        """Test mode: the external-candidate fields of dataset dict ``d`` (``"external_detections"`` or
        ``"detector_image"``, docs/interfaces.md) from the original ``image``; empty otherwise."""
        if self.is_train or self.external_inputs is None:
            return {}
        return self.external_inputs(d, image)

    def _read(self, d):
        """The decoded image of dataset dict ``d`` (``image_io.read_image``: EXIF orientation applied, any pixel
        format to 8 bits), or None (skipped) / BadRecordError when it cannot be used."""
        try:
            image = read_image(d["file_name"], format=self.image_format)
            utils.check_image_size(d, image)
            return image
        except utils.SizeMismatchError as e:
            problem = f"size mismatch: {e}"
        except ImageReadError as e:
            problem = e.reason
        message = f"{d['file_name']} (image_id {d.get('image_id')}): {problem}"
        if self.is_train and self.bad_record_policy == "skip":
            logger.warning(f"{message}; skipped (DATASETS.HOI.BAD_RECORD_POLICY 'skip')")
            return None
        raise BadRecordError(message)

    def targets_for(self, dataset_dict, transforms, image_size):
        """Targets (dict of tensors, the keys of ``TRAINING_TARGET_KEYS``) of one dataset dict after ``transforms``;
        ``image_size`` = (H, W) input pixels."""
        anns = dataset_dict.get("annotations", [])
        boxes = np.array([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
        if len(boxes):
            boxes = transforms.apply_box(boxes)
        classes = np.array([a["category_id"] for a in anns], dtype=np.int64)
        hois = [(h["subject_id"], h["object_id"], h["verb_id"]) for h in dataset_dict.get("hoi_annotations", [])]
        s = self.output_stride
        t = build_ggnet_targets(boxes / s, classes, hois, self.num_classes, self.num_verbs,
                                (image_size[0] // s, image_size[1] // s), self.valid_verb_object,
                                self.max_objects, self.max_hois, self.min_overlap, self.hna_radius,
                                self.gaze_sigma_factors, self.hard_negative_rule)
        return {k: torch.from_numpy(t[k]) for k in TRAINING_TARGET_KEYS if k in t}
