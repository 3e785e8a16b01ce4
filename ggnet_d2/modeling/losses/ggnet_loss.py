"""GGNet's training loss (Sec. 3.3, Eq. 4-7): the weighted sum of glance, gaze, APM and object terms, normalised
across processes and reduced over the backbone's outputs (Hourglass stacks). The meta-architecture calls it with the
head outputs and its inputs, as Panoptic-DeepLab's heads own their losses."""
import torch

from ...config_choices import APM_STACK_SUM, GAZE_TARGET_SHARP, resolve_choice
from ...layers import float32_region
from .hna_loss import focal_loss, hna_focal_loss
from .normalization import cross_process_normalizer
from .regression_losses import apm_l1_loss, masked_l1_loss

__all__ = ["GGNetLoss", "TARGET_KEYS", "GAZE_TARGET_KEY"]

GAZE_TARGET_KEY = "gaze_hna_map"  # the authors' sharper gaze-step target (MODEL.GGNET.LOSS.GAZE_TARGET "sharp")
# The mapper's ``ggnet_targets`` keys every loss reads (docs/interfaces.md; the data side's TRAINING_TARGET_KEYS
# lists them with GAZE_TARGET_KEY, which is shipped and required only with LOSS.GAZE_TARGET "sharp").
TARGET_KEYS = ("obj_heatmap", "obj_wh", "obj_offset", "obj_index", "obj_mask", "hna_map", "interaction_index",
               "apm_subject_offset", "apm_object_offset", "apm_mask")


class GGNetLoss:
    """Eq. 7 over all backbone outputs.

    ``__call__(outputs, batched_inputs, device)`` returns a dict of weighted losses whose sum is Eq. 7:
    ``loss_glance``, ``loss_gaze1``..``loss_gazeK`` (last step with ``final_gaze`` weight; with K = 0 ``loss_glance``
    gets it), ``loss_apm_subject``, ``loss_apm_object``, ``loss_obj_heatmap``, ``loss_wh``, ``loss_offset``; each
    averaged over the outputs (Hourglass stacks), except the APM losses with ``apm_stack_reduction="sum"`` (the
    authors' hoidet.py). Gaze steps are trained on ``hna_map`` or, with ``gaze_target="sharp"``, on the mapper's
    ``gaze_hna_map``. Every loss is divided by its count (positives, mask entries) summed over all training processes
    / world size (``cross_process_normalizer``), so N DDP processes with batch b give the gradient of one process with
    batch N*b. A plain object: nothing of it is in the model's state dict.

    Args:
        num_gaze_steps (int): K. hna_on (bool): HNA loss (Eq. 5) on interaction maps, else the focal loss (Eq. 4).
        focal_alpha, hna_beta, focal_gamma (float): exponents of Eq. 5 (paper: 2, 7, 4).
        loss_weights (dict): ``final_gaze``, ``glance``, ``intermediate_gaze``, ``apm_subject``, ``apm_object``,
            ``obj_heatmap``, ``wh``, ``offset`` (MODEL.GGNET.LOSS.*_WEIGHT).
        gaze_target (str): "glance" or "sharp". apm_stack_reduction (str): "mean" or "sum".

    Raises:
        ValueError: an unknown ``gaze_target`` / ``apm_stack_reduction``; at call, missing target keys (naming the
            images).
    """

    def __init__(self, *, num_gaze_steps=2, hna_on=True, focal_alpha=2.0, hna_beta=7.0, focal_gamma=4.0,
                 loss_weights=None, gaze_target="glance", apm_stack_reduction="mean"):
        gaze_target = resolve_choice("MODEL.GGNET.LOSS.GAZE_TARGET", gaze_target, "gaze_target")
        apm_stack_reduction = resolve_choice("MODEL.GGNET.LOSS.APM_STACK_REDUCTION", apm_stack_reduction,
                                             "apm_stack_reduction")
        self.num_gaze_steps, self.hna_on = num_gaze_steps, hna_on
        self.focal_alpha, self.hna_beta, self.focal_gamma = focal_alpha, hna_beta, focal_gamma
        self.loss_weights = dict(loss_weights or {})
        self.gaze_target, self.apm_stack_reduction = gaze_target, apm_stack_reduction

    @classmethod
    def from_config(cls, cfg):
        """The loss of ``cfg.MODEL.GGNET`` (``NUM_GAZE_STEPS`` and ``LOSS.*``)."""
        g = cfg.MODEL.GGNET
        lw = g.LOSS
        return cls(
            num_gaze_steps=g.NUM_GAZE_STEPS, hna_on=lw.HNA_ON, focal_alpha=lw.FOCAL_ALPHA, hna_beta=lw.HNA_BETA,
            focal_gamma=lw.FOCAL_GAMMA,
            loss_weights={"final_gaze": lw.FINAL_GAZE_WEIGHT, "glance": lw.GLANCE_WEIGHT,
                          "intermediate_gaze": lw.INTERMEDIATE_GAZE_WEIGHT, "apm_subject": lw.APM_SUBJECT_WEIGHT,
                          "apm_object": lw.APM_OBJECT_WEIGHT, "obj_heatmap": lw.OBJ_HEATMAP_WEIGHT,
                          "wh": lw.WH_WEIGHT, "offset": lw.OFFSET_WEIGHT},
            gaze_target=lw.GAZE_TARGET, apm_stack_reduction=lw.APM_STACK_REDUCTION)

    @float32_region
    def __call__(self, outputs, batched_inputs, device):
        """Losses of the head ``outputs`` (one dict per backbone output) against the inputs' ``ggnet_targets``; in
        float32 under AMP (``float32_region``: logs and high powers of probabilities)."""
        targets = self.stack_targets(batched_inputs, device)
        norms = self.normalizers(targets)
        per_stack = [self.losses(out, targets, norms) for out in outputs]
        keep_sum = ("loss_apm_subject", "loss_apm_object") if self.apm_stack_reduction == APM_STACK_SUM else ()
        return {k: sum(d[k] for d in per_stack) / (1 if k in keep_sum else len(per_stack)) for k in per_stack[0]}

    def stack_targets(self, batched_inputs, device):
        """The inputs' ``ggnet_targets`` stacked over the batch on ``device`` (dict of (B, ...) tensors)."""
        keys = TARGET_KEYS + ((GAZE_TARGET_KEY,) if self.gaze_target == GAZE_TARGET_SHARP and self.num_gaze_steps else ())
        try:
            return {k: torch.stack([x["ggnet_targets"][k] for x in batched_inputs]).to(device) for k in keys}
        except KeyError as e:
            names = [x.get("file_name", "?") for x in batched_inputs]
            raise ValueError(f"training input lacks ggnet_targets key {e} (images {names})") from None

    def normalizers(self, t):
        """Divisors of the losses for stacked targets ``t``: counts summed over all processes / world size.

        Positives (M == 1) of the interaction map(s) and object heatmap (floor 1, as a single process's max(N, 1));
        mask entries of the L1 losses (+ 1e-4): obj_mask counted once per wh / offset channel, apm_mask as is.
        """
        counts = {"interaction": t["hna_map"].eq(1).sum(), "object": t["obj_heatmap"].clamp(min=0).eq(1).sum(),
                  "object_l1": t["obj_mask"].sum() * 2, "apm": t["apm_mask"].sum()}
        floors = {"interaction": ("max", 1.0), "object": ("max", 1.0), "object_l1": ("add", 1e-4),
                  "apm": ("add", 1e-4)}
        if GAZE_TARGET_KEY in t:
            counts["gaze"], floors["gaze"] = t[GAZE_TARGET_KEY].eq(1).sum(), ("max", 1.0)
        return cross_process_normalizer(counts, floors)

    def _interaction_loss(self, logits, target, normalizer):
        a, g = self.focal_alpha, self.focal_gamma
        if self.hna_on:
            return hna_focal_loss(logits, target, a, self.hna_beta, g, normalizer=normalizer)
        return focal_loss(logits, target, a, g, normalizer=normalizer)

    def losses(self, out, t, norms=None):
        """Weighted loss terms (Eq. 4-7) of one head output ``out`` against stacked targets ``t``, divided by
        ``norms`` (``normalizers(t)``; computed here when None)."""
        if norms is None:
            norms = self.normalizers(t)
        w = self.loss_weights
        gaze_key, gaze_norm = (GAZE_TARGET_KEY, "gaze") if GAZE_TARGET_KEY in t else ("hna_map", "interaction")
        logits = out["interaction_logits"]
        k_final = len(logits) - 1
        losses = {"loss_glance": (w["final_gaze"] if k_final == 0 else w["glance"])
                  * self._interaction_loss(logits[0], t["hna_map"], norms["interaction"])}
        for k in range(1, k_final + 1):
            weight = w["final_gaze"] if k == k_final else w["intermediate_gaze"]
            losses[f"loss_gaze{k}"] = weight * self._interaction_loss(logits[k], t[gaze_key], norms[gaze_norm])
        idx, mask, n_apm = t["interaction_index"], t["apm_mask"], norms["apm"]
        losses["loss_apm_subject"] = w["apm_subject"] * apm_l1_loss(out["apm_subject"], idx, mask,
                                                                    t["apm_subject_offset"], n_apm)
        losses["loss_apm_object"] = w["apm_object"] * apm_l1_loss(out["apm_object"], idx, mask,
                                                                  t["apm_object_offset"], n_apm)
        losses["loss_obj_heatmap"] = w["obj_heatmap"] * focal_loss(out["obj_heatmap"], t["obj_heatmap"],
                                                                   self.focal_alpha, self.focal_gamma,
                                                                   normalizer=norms["object"])
        n_obj = norms["object_l1"]
        losses["loss_wh"] = w["wh"] * masked_l1_loss(out["obj_wh"], t["obj_index"], t["obj_mask"], t["obj_wh"],
                                                     n_obj)
        losses["loss_offset"] = w["offset"] * masked_l1_loss(out["obj_offset"], t["obj_index"], t["obj_mask"],
                                                             t["obj_offset"], n_obj)
        return losses
