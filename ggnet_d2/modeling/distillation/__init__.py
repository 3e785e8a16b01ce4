"""CLIP distillation for zero-shot HOI (EoID's region-level distillation, issue 23 item 5); training only."""
from .clip_teacher import ClipTeacher
from .distill_loss import ClipDistillation, build_clip_distillation, soft_verb_distillation_loss

__all__ = ["ClipTeacher", "ClipDistillation", "build_clip_distillation",
           "soft_verb_distillation_loss"]
