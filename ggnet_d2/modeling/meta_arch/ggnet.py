"""GGNet meta-architecture (Zhong et al., CVPR 2021): backbone + glance/gaze/APM/object heads, in detectron2's calling
convention. It orchestrates: pre-processing, backbone, heads, then the loss (``GGNetLoss``, Eq. 7) in training or
the post-processing (``HOIPostProcessor``, Sec. 3.4) at inference."""
import logging

import numpy as np
import torch
from torch import nn

from detectron2.config import configurable
from detectron2.modeling import META_ARCH_REGISTRY, build_backbone
from detectron2.structures import ImageList

from ...layers import AMP_PRECISIONS
from ..distillation import build_clip_distillation
from ..external import build_external_detector
from ..heads import GlanceGazeHead, build_hoi_heads
from ..language import load_text_embeddings
from ..losses import GGNetLoss
from ..postprocess import HOIPostProcessor
from .verb_object import valid_verb_object_from_config

__all__ = ["GGNet"]

logger = logging.getLogger(__name__)


@META_ARCH_REGISTRY.register()
class GGNet(nn.Module):
    """Glance and Gaze network.

    Training: ``forward(list of {"image": uint8 (3, H, W), "ggnet_targets": {...}})`` (docs/interfaces.md) returns
    the dict of weighted losses of ``GGNetLoss`` (Eq. 7).

    With ``distillation`` (``ClipDistillation``, MODEL.GGNET.DISTILL.ENABLED) training adds ``loss_distill``.

    Inference: ``forward(list of {"image": (3, h, w) resized, "height", "width"})`` returns per image
    ``{"instances", "hoi_instances"}`` in original pixels as specified in docs/interfaces.md (``HOIPostProcessor``).
    With ``external_source`` set (MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE) the human/object candidates are each
    input's ``"external_detections"`` (added by the mapper from a file or the ground truth), or, with an
    ``external_detector`` ("detectron2"), that detector's detections on each input's ``"detector_image"``.

    ``valid_verb_object`` (bool (V, C)) is a saved buffer, so a checkpoint carries the correspondence; where it
    comes from is ``valid_verb_object_source``: "unknown" (every pair allowed; a checkpoint's or, through the
    trainer, the loaded dataset's replaces it), else a label of a known one ("metadata:<name>", "config",
    "checkpoint"), which a checkpoint's does not replace (a warning when they differ). See
    ``ggnet_d2.engine.dataset_facts``.

    Raises:
        ValueError: on missing target keys, a ``valid_verb_object`` of the wrong shape, an input lacking its external
            detections, or an unknown preset.
    """

    @configurable
    def __init__(self, *, backbone, heads, loss, postprocessor, pixel_mean, pixel_std, size_divisibility=32,
                 valid_verb_object=None, valid_verb_object_source=None, external_source="", external_detector=None,
                 distillation=None, train_autocast_dtype=None):
        super().__init__()
        # bfloat16 AMP (SOLVER.AMP.PRECISION): training forwards autocast here; detectron2 v0.6's AMPTrainer only
        # knows float16 (it autocasts itself). None: no autocast of GGNet's own.
        self.train_autocast_dtype = train_autocast_dtype
        # a plain object, not a sub-module: the frozen CLIP teacher stays out of the state dict and optimizer
        self.distillation = distillation
        self.backbone = backbone
        self.heads = heads
        # plain objects, not sub-modules: the state dict holds the network and valid_verb_object only, and an
        # external detector stays out of GGNet's optimizer
        self.loss, self.postprocessor = loss, postprocessor
        self.external_source, self.external_detector = external_source, external_detector
        self.size_divisibility = max(size_divisibility, getattr(backbone, "size_divisibility", 0))
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std, dtype=torch.float32).view(-1, 1, 1), False)
        if valid_verb_object is not None:
            valid_verb_object = torch.as_tensor(np.asarray(valid_verb_object), dtype=torch.bool)
        self.register_buffer("valid_verb_object", valid_verb_object)
        self.valid_verb_object_source = valid_verb_object_source or (
            "unknown" if valid_verb_object is None else "config")

    @classmethod
    def from_config(cls, cfg):
        g = cfg.MODEL.GGNET
        backbone = build_backbone(cfg)
        shapes = backbone.output_shape()
        text = None
        if g.VERB_CLASSIFIER == "text":
            text = load_text_embeddings(g.TEXT.EMBEDDINGS_FILE).verb_embeddings
            if len(text) != g.NUM_VERBS:
                raise ValueError(f"MODEL.GGNET.NUM_VERBS is {g.NUM_VERBS} but {g.TEXT.EMBEDDINGS_FILE} holds "
                                 f"{len(text)} verbs (setup_cfg sets NUM_VERBS from the file)")
        heads = nn.ModuleList([build_hoi_heads(cfg, shapes[name].channels, text) for name in backbone._out_features])
        valid, source = valid_verb_object_from_config(cfg)
        if valid is None:
            # Every pair allowed until a checkpoint or the loaded data says otherwise (PPDM decodes so without its
            # corre file: src/lib/models/decode.py hoidet_decode).
            valid = np.ones((g.NUM_VERBS, g.NUM_CLASSES), dtype=bool)
        return {
            "backbone": backbone, "heads": heads, "loss": GGNetLoss.from_config(cfg),
            "postprocessor": HOIPostProcessor.from_config(cfg), "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD, "size_divisibility": cfg.INPUT.GGNET.SIZE_DIVISIBILITY,
            "valid_verb_object": valid, "valid_verb_object_source": source,
            "external_source": g.EXTERNAL_DETECTIONS.SOURCE, "external_detector": build_external_detector(cfg),
            "distillation": build_clip_distillation(cfg),
            "train_autocast_dtype": AMP_PRECISIONS[cfg.SOLVER.AMP.PRECISION]
            if cfg.SOLVER.AMP.ENABLED and cfg.SOLVER.AMP.PRECISION == "bfloat16" else None,
        }

    @property
    def device(self):
        return self.pixel_mean.device

    @property
    def person_class_id(self):
        """Contiguous class of "person" (MODEL.GGNET.PERSON_CLASS_ID): the channel human points are read from."""
        return self.postprocessor.person_class_id

    def glance_parameters(self):
        """The glance parameters of every head (``GlanceGazeHead.glance_conv`` / ``glance_cls``), e.g. for their own
        learning rate (SOLVER.GLANCE_LR_FACTOR, the authors' --recover_loss_weight)."""
        return [p for m in self.heads.modules() if isinstance(m, GlanceGazeHead) for p in m.glance_parameters()]

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

        Training crops are already ``INPUT_SIZE`` squares. At inference each image is padded to the post-processor's
        ``test_square_size`` square when that is set (CenterNet/PPDM's fixed-resolution test), then to a multiple of
        ``size_divisibility``. Padding before normalising makes the border black, as in the training crop (the affine
        warp fills with 0): a from-scratch model otherwise meets, next to truncated boxes, a border it never saw.

        The batch is ``ImageList.from_tensors``'s, but its common size is computed from Python ints: detectron2 v0.6
        computes it with CPU tensor operators (stack, max, add, floor-divide, multiply, then reads them back) in
        every step, host work beside a step on the accelerator (issue 24's operator census).

        Returns:
            ImageList: (B, 3, H, W) normalised tensor; ``image_sizes`` are the unpadded (h, w) input sizes.
        """
        images = [x["image"].to(self.device).float() for x in batched_inputs]
        sizes = [(int(im.shape[-2]), int(im.shape[-1])) for im in images]
        div = max(self.size_divisibility, 1)
        height, width = (max(s[i] for s in sizes) for i in (0, 1))
        square = self.postprocessor.test_square_size
        if not self.training and square:
            height = width = max(square, height, width)
        height, width = -(-height // div) * div, -(-width // div) * div
        tensor = images[0].new_zeros((len(images), *images[0].shape[:-2], height, width))
        for image, slot in zip(images, tensor):
            slot[..., : image.shape[-2], : image.shape[-1]].copy_(image)
        return ImageList((tensor - self.pixel_mean) / self.pixel_std, sizes)

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
            outputs = [self.heads[i](features[n]) for i, n in enumerate(names)]
            losses = self.loss(outputs, batched_inputs, self.device)
            if self.distillation is not None:  # CLIP distillation (issue 23, modeling/distillation/)
                losses.update(self.distillation(outputs, batched_inputs))
            return losses
        outputs = self.heads[-1](features[names[-1]])
        return self.inference(outputs, batched_inputs, images.image_sizes)

    def inference(self, out, batched_inputs, image_sizes):
        """Post-process the last head's output ``out`` (``HOIPostProcessor``); per-image output dicts."""
        return self.postprocessor(out, batched_inputs, image_sizes, self.valid_verb_object,
                                  self.external_detections(batched_inputs))

    def external_detections(self, batched_inputs):
        """Per-image external detections (original pixels), or None with GGNet's own object heads.

        Raises:
            ValueError: an input without ``"external_detections"`` while EXTERNAL_DETECTIONS.SOURCE is set.
        """
        if self.external_detector is not None:
            return self.external_detector(batched_inputs)
        if not self.external_source:
            return None
        missing = [x.get("file_name", "input image") for x in batched_inputs if "external_detections" not in x]
        if missing:
            raise ValueError(f"EXTERNAL_DETECTIONS.SOURCE {self.external_source!r}: inputs {missing[:5]} lack "
                             "'external_detections' (HOIDatasetMapper adds them in test mode)")
        return [x["external_detections"] for x in batched_inputs]
