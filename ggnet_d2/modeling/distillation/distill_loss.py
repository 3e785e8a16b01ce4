"""The distillation loss: the student's verb scores at each annotated pair's interaction point pulled towards the
CLIP teacher's soft verb targets (EoID's region-level distillation, adapted to GGNet's points).

EoID (``models/EoID.py`` ``SetCriterionHOI._bce_focal_loss``, lines 572-595, commit
7212a557d6d1dbf5d99c90de6b813e38645e7dc8) writes the teacher's probabilities into the verb targets of each matched
pair where no verb is annotated and adds the mean binary cross-entropy over those soft entries
(``loss_verb_clip``, weight ``--clip_loss_coef``). Here the soft entries are the verbs that have a HOI class with
the pair's object (the teacher's softmax is defined there) and are not annotated for the pair (the HNA loss
supervises those); the loss is their mean binary KL divergence KL(t || sigmoid(s)) = BCE(s, t) - H(t): the same
gradient as EoID's BCE, and zero when the student's probability equals the teacher's.
"""
import json
import logging
import tempfile

import torch
import torch.nn.functional as F

from ..language import load_text_embeddings
from .clip_teacher import ClipTeacher

__all__ = ["ClipDistillation", "build_clip_distillation", "soft_verb_distillation_loss"]

logger = logging.getLogger(__name__)


def soft_verb_distillation_loss(student_logits, teacher_probs, soft_mask):
    """Mean binary KL divergence between teacher and student over the soft entries.

    Args:
        student_logits (Tensor (P, V)): student verb logits.
        teacher_probs (Tensor (P, V)): teacher probabilities in [0, 1].
        soft_mask (Tensor (P, V) bool): entries distilled.

    Returns:
        Tensor (): the loss (0, still connected to ``student_logits``, when no entry is distilled).
    """
    t = teacher_probs.to(student_logits.dtype).clamp(0.0, 1.0)
    bce = F.binary_cross_entropy_with_logits(student_logits, t, reduction="none")
    entropy = -(torch.xlogy(t, t) + torch.xlogy(1 - t, 1 - t))
    mask = soft_mask.to(student_logits.dtype)
    return ((bce - entropy) * mask).sum() / mask.sum().clamp(min=1.0)


class ClipDistillation:
    """``loss_distill`` of a training batch: teacher targets per annotated pair (``ClipTeacher``, cached), the
    student's interaction-heatmap logits (B, V, H, W) read at the pair's interaction point (mapper key
    ``ggnet_distill``, data/distill_pairs.py), averaged over the distilled steps and backbone outputs (Hourglass
    stacks), times ``weight``.

    The final gaze step's logits at a point are computed from G_K there, the deformable aggregation of the features
    at that point's ActPoints (Sec. 3.2, Eq. 3): ``steps="final"`` distils the ActPoints' aggregated features
    through them; ``"all"`` distils the glance and every gaze step.

    Args:
        teacher (ClipTeacher | callable | None): the frozen CLIP (any callable with ClipTeacher's signature).
        weight (float): loss weight (MODEL.GGNET.DISTILL.WEIGHT).
        steps (str): "final" or "all" (MODEL.GGNET.DISTILL.STEPS).
        teacher_factory (callable | None): builds the teacher on first use instead (``teacher`` None), so that a
            model built from a distillation config for inference never loads CLIP.

    Raises:
        ValueError: an unknown ``steps``, or neither ``teacher`` nor ``teacher_factory``.
    """

    def __init__(self, teacher=None, weight=1.0, steps="final", teacher_factory=None):
        if steps not in ("final", "all"):
            raise ValueError(f"MODEL.GGNET.DISTILL.STEPS must be 'final' or 'all', got {steps!r}")
        if teacher is None and teacher_factory is None:
            raise ValueError("ClipDistillation needs a teacher or a teacher_factory")
        self.steps = steps
        self._teacher, self._teacher_factory, self.weight = teacher, teacher_factory, float(weight)

    @property
    def teacher(self):
        """The teacher, built by ``teacher_factory`` on first access."""
        if self._teacher is None:
            self._teacher = self._teacher_factory()
        return self._teacher

    def targets(self, batched_inputs, device):
        """Per image: (index (P,), teacher probs (P, V), soft mask (P, V)) on ``device``.

        Raises:
            ValueError: an input without ``ggnet_distill`` (the mapper was built without distillation).
        """
        out = []
        for x in batched_inputs:
            if "ggnet_distill" not in x:
                raise ValueError(f"{x.get('file_name', 'training input')}: no 'ggnet_distill' pairs; build the "
                                 f"mapper with MODEL.GGNET.DISTILL.ENABLED")
            p = x["ggnet_distill"]
            probs, defined = self.teacher(x["file_name"], p["union_box"], p["object_class"], p["crops"])
            soft = defined.to(device) & ~p["labelled"].to(device)
            out.append((p["index"].to(device), probs.to(device), soft))
        return out

    def __call__(self, head_outputs, batched_inputs):
        """head_outputs: list (one per backbone output) of head dicts with ``interaction_logits``.

        Returns:
            dict: ``{"loss_distill": Tensor ()}``.
        """
        device = head_outputs[0]["interaction_logits"][-1].device
        per_image = self.targets(batched_inputs, device)
        losses = []
        teacher = torch.cat([t for _, t, _ in per_image])
        soft = torch.cat([m for _, _, m in per_image])
        for out in head_outputs:
            steps = out["interaction_logits"] if self.steps == "all" else out["interaction_logits"][-1:]
            for logits in steps:
                flat = logits.reshape(*logits.shape[:2], -1)
                student = torch.cat([flat[i][:, idx].t() for i, (idx, _, _) in enumerate(per_image)])
                losses.append(soft_verb_distillation_loss(student, teacher, soft))
        return {"loss_distill": self.weight * sum(losses) / len(losses)}


def build_clip_distillation(cfg):
    """A :class:`ClipDistillation` from MODEL.GGNET.DISTILL / TEXT, or None when distillation is off.

    The teacher is ``TEXT.CLIP_MODEL`` / ``TEXT.CLIP_PRETRAINED`` (open_clip; ``DISTILL.CLIP_CONFIG_FILE`` registers
    a model config first, e.g. the tests' tiny CLIP), built at the first training step (an inference model built
    from the same config never loads CLIP), and its text side is the HOI embeddings of ``TEXT.EMBEDDINGS_FILE``,
    which must have been written by the same CLIP (checked here).

    Raises:
        ValueError: the embeddings file has no HOI classes or was written by another CLIP.
        ImportError: (at the first training step) open_clip is not installed.
    """
    d, t = cfg.MODEL.GGNET.DISTILL, cfg.MODEL.GGNET.TEXT
    if not d.ENABLED:
        return None
    emb = load_text_embeddings(t.EMBEDDINGS_FILE)
    if not len(emb.hoi_classes):
        raise ValueError(f"{t.EMBEDDINGS_FILE}: no HOI class embeddings; the distillation needs them "
                         f"(tools/build_text_embeddings.py on a dataset with hoi_classes)")
    if (emb.model, emb.pretrained) != (t.CLIP_MODEL, t.CLIP_PRETRAINED):
        raise ValueError(f"{t.EMBEDDINGS_FILE} was written by CLIP {emb.model!r}/{emb.pretrained!r}, the teacher is "
                         f"{t.CLIP_MODEL!r}/{t.CLIP_PRETRAINED!r} (MODEL.GGNET.TEXT.CLIP_*): they must be the same")
    num_verbs, device, config_file = cfg.MODEL.GGNET.NUM_VERBS, cfg.MODEL.DEVICE, d.CLIP_CONFIG_FILE

    def make_teacher():
        from ..language.clip_models import build_clip, register_clip_config

        if config_file:
            with open(config_file) as f:
                register_clip_config(t.CLIP_MODEL, json.load(f), tempfile.mkdtemp(prefix="clip_cfg_"))
        model, _, (mean, std) = build_clip(t.CLIP_MODEL, t.CLIP_PRETRAINED, device=device)
        teacher = ClipTeacher(model, mean, std, emb.hoi_embeddings, emb.hoi_classes, num_verbs, d.IMAGE_SIZE,
                              d.TEMPERATURE, d.CACHE)
        logger.info(f"CLIP distillation: teacher {t.CLIP_MODEL}/{t.CLIP_PRETRAINED or 'random'} at {d.IMAGE_SIZE}px, "
                    f"{len(emb.hoi_classes)} HOI prompts, temperature {teacher.temperature:.1f}, weight {d.WEIGHT}")
        return teacher

    return ClipDistillation(weight=d.WEIGHT, steps=d.STEPS, teacher_factory=make_teacher)
