"""The exported network: GGNet from a normalised fixed-size image batch to fixed-size decoded tensors.

Decoding (Sec. 3.4: peaks, top-K, Eq. 8 or the authors' matching, dedup, verb-object restriction) is inside the
graph: it is ``HOIPostProcessor.decode`` -- ``decode_hoi``, batched torch with static shapes -- exported as is, so PyTorch,
onnxruntime and TorchScript run one implementation of it and nothing of it is re-written in numpy. What stays outside
is what depends on each image's original size (and so cannot be a fixed-size tensor op over the batch): resize and
placement before, dropping invalid triplets and mapping boxes back to original pixels after
(``ggnet_d2/deploy/runtime.py``, numpy).
"""
import contextlib

import torch
from torch import nn

from ..layers.deform_conv import ModulatedDeformConv
from ..layers.finite_guard import check_deform_conv_inputs

__all__ = ["GGNetDeployAdapter", "export_mode", "TRIPLET_OUTPUTS", "HEAD_MAP_OUTPUTS", "check_exportable",
           "deploy_input_side"]

# Graph outputs, in order (B = batch, Ki / Kh / Ko = MODEL.GGNET.TEST.TOPK_INTERACTIONS / _HUMANS / _OBJECTS clipped
# to the map size, n = NUM_ACTPOINTS or 0 without gaze steps); coordinates in input pixels (of the padded square).
TRIPLET_OUTPUTS = (
    "hoi_scores",          # (B, Ki) float32, interaction x human x object score, decreasing
    "verb_classes",        # (B, Ki) int64
    "subject_boxes",       # (B, Ki, 4) float32 XYXY
    "object_boxes",        # (B, Ki, 4) float32 XYXY
    "object_classes",      # (B, Ki) int64 contiguous
    "valid",               # (B, Ki) bool: False = no allowed object / a removed duplicate (score 0 or dropped)
    "subject_index",       # (B, Ki) int64 into human_boxes
    "object_index",        # (B, Ki) int64 into candidate_object_boxes
    "interaction_points",  # (B, Ki, 2) float32 (x, y)
    "actpoints",           # (B, Ki, n, 2) float32 (x, y), final gaze step
    "actpoint_weights",    # (B, Ki, n) float32
    "human_boxes",         # (B, Kh, 4) float32 XYXY, the human candidates
    "human_scores",        # (B, Kh) float32
    "candidate_object_boxes",    # (B, Ko, 4) float32 XYXY, the object candidates (persons included)
    "candidate_object_scores",   # (B, Ko) float32
    "candidate_object_classes",  # (B, Ko) int64
)
# optional raw head maps (feature-map resolution, before any sigmoid): the last head's outputs
HEAD_MAP_OUTPUTS = ("obj_heatmap", "obj_wh", "obj_offset", "interaction_logits", "apm_subject", "apm_object",
                    "actpoint_offsets", "actpoint_weights_map")


def deploy_input_side(cfg):
    """Side (pixels) of the square network input of a config's test: ``TEST_SIZE`` rounded up to
    ``SIZE_DIVISIBILITY`` (and the backbone's), as ``GGNet.preprocess_image`` pads it.

    Raises:
        ValueError: a test input that is not a fixed square (``TEST_PAD_SQUARE`` False with placement "top_left").
    """
    g = cfg.INPUT.GGNET
    if not (g.TEST_PAD_SQUARE or g.TEST_PLACEMENT == "center"):
        raise ValueError("export needs a fixed-size test input: set INPUT.GGNET.TEST_PAD_SQUARE True (or "
                         "INPUT.GGNET.TEST_PLACEMENT center)")
    div = max(g.SIZE_DIVISIBILITY, 1)
    return -(-g.TEST_SIZE // div) * div


def check_exportable(model):
    """Raise ValueError for a model setting the exported graph cannot carry (an external detector's candidates:
    MODEL.GGNET.EXTERNAL_DETECTIONS reads files or runs a second model per image)."""
    if getattr(model, "external_source", "") or getattr(model, "external_detector", None) is not None:
        raise ValueError("MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE is set: external candidates are not part of the "
                         "exported graph; export with SOURCE '' (GGNet's own object heads)")
    if not model.postprocessor.test_square_size:
        raise ValueError("export needs a fixed-size test input: set INPUT.GGNET.TEST_PAD_SQUARE True")


@contextlib.contextmanager
def export_mode(model):
    """Prepare ``model`` for tracing/export and restore it afterwards.

    - every ``ModulatedDeformConv`` uses torchvision's ``deform_conv2d`` (the op the ONNX exporter maps to ONNX
      ``DeformConv`` and TorchScript records as ``torchvision::deform_conv2d``), whatever MODEL.DEFORM_CONV_BACKEND
      chose: ``gather_gemm``'s data-dependent chunking and ``embedding_bag`` gathers are not what a deployed graph
      should carry;
    - their finite-input check (``finite_guard.check_deform_conv_inputs``, a forward pre-hook reading a value back to
      the host) is detached: an exported graph has no host reads (the offsets stay clamped by ``clamp_offsets``);
    - eval mode.
    """
    convs = [m for m in model.modules() if isinstance(m, ModulatedDeformConv)]
    saved = [(m, m.backend, dict(m._forward_pre_hooks)) for m in convs]
    was_training = model.training
    try:
        for m in convs:
            m.backend = "torchvision"
            for key, hook in list(m._forward_pre_hooks.items()):
                if hook is check_deform_conv_inputs:
                    del m._forward_pre_hooks[key]
        model.eval()
        yield model
    finally:
        for m, backend, hooks in saved:
            m.backend = backend
            m._forward_pre_hooks.clear()
            m._forward_pre_hooks.update(hooks)
        model.train(was_training)


class GGNetDeployAdapter(nn.Module):
    """GGNet's test-time network as a function of tensors (what ONNX and TorchScript export).

    forward(images (B, 3, S, S) float32, normalised: (pixel - PIXEL_MEAN) / PIXEL_STD in INPUT.FORMAT channel order,
    S = ``deploy_input_side(cfg)``, the resized image at its placement and black (0) padding before normalising)
    -> tuple of tensors named ``TRIPLET_OUTPUTS`` (+ ``HEAD_MAP_OUTPUTS`` with ``head_maps``).

    Equal to ``GGNet.forward`` at inference up to the per-image steps of ``HOIPostProcessor.to_instances`` (keep
    ``valid`` triplets with score >= SCORE_THRESH, map to original pixels, clip), which ``ggnet_d2.deploy.runtime``
    does. Source of the decoding: ``HOIPostProcessor.decode`` (``decode_hoi``, Sec. 3.4).
    """

    def __init__(self, model, head_maps=False):
        super().__init__()
        check_exportable(model)
        self.model = model
        self.head_maps = head_maps

    @property
    def output_names(self):
        return TRIPLET_OUTPUTS + (HEAD_MAP_OUTPUTS if self.head_maps else ())

    def forward(self, images):
        m = self.model
        features = m.backbone(images)
        out = m.heads[-1](features[m.backbone._out_features[-1]])
        d = m.postprocessor.decode(out, m.valid_verb_object)
        s = float(m.postprocessor.output_stride)

        def _per_triplet(t, index):
            if t.dim() == 2:
                return torch.gather(t, 1, index)
            return torch.gather(t, 1, index.unsqueeze(-1).expand(index.shape + t.shape[2:]))

        human_boxes, object_boxes = d["human_boxes"] * s, d["object_boxes"] * s
        outputs = (
            d["hoi_scores"], d["verb_classes"], _per_triplet(human_boxes, d["subject_index"]),
            _per_triplet(object_boxes, d["object_index"]), _per_triplet(d["object_classes"], d["object_index"]),
            d["valid"], d["subject_index"], d["object_index"], d["interaction_points"] * s, d["actpoints"] * s,
            d["actpoint_weights"], human_boxes, d["human_scores"], object_boxes, d["object_scores"],
            d["object_classes"],
        )
        if self.head_maps:
            outputs += (out["obj_heatmap"], out["obj_wh"], out["obj_offset"], out["interaction_logits"][-1],
                        out["apm_subject"], out["apm_object"], out["actpoint_offsets"], out["actpoint_weights"])
        return outputs
