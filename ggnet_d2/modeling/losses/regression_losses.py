"""L1 regression losses at labelled points (CenterNet's ``RegL1Loss``; GGNet Eq. 7's L_wh, L_reg, L_apm)."""
import torch

from ...layers import gather_at_index

__all__ = ["masked_l1_loss", "apm_l1_loss"]


def masked_l1_loss(pred, index, mask, target, normalizer=None):
    """sum |pred[index] - target| * mask / (sum(mask) + 1e-4) (CenterNet's RegL1Loss).

    Args:
        pred (Tensor): (B, C, H, W) dense prediction.
        index (Tensor): (B, K) flat positions.
        mask (Tensor): (B, K) or (B, K, C), 1 for labelled entries; (B, K) is broadcast over C and counted C times.
        target (Tensor): (B, K, C), same units as ``pred``.
        normalizer (Tensor | float | None): divide by this instead of sum(mask) + 1e-4 -- the mask sum of all
            processes (``cross_process_normalizer``).

    Returns:
        Tensor: scalar.
    """
    gathered = gather_at_index(pred, index).float()
    if mask.dim() == 2:
        mask = mask.unsqueeze(2).expand_as(gathered)
    mask = mask.float()
    denominator = mask.sum() + 1e-4 if normalizer is None else normalizer
    return (torch.abs(gathered - target.float()) * mask).sum() / denominator


def apm_l1_loss(pred, index, mask, target, normalizer=None):
    """APM L1 loss over the labelled verb's channels only (Sec. 3.3).

    Args:
        pred (Tensor): (B, 2V, H, W) per-verb offsets, or (B, 2, H, W) for PPDM's shared regressor.
        index (Tensor): (B, K) interaction-point positions.
        mask (Tensor): (B, K, 2V), 1 on the HOI's verb's two channels (mapper's ``apm_mask``).
        target (Tensor): (B, K, 2V) offsets (mapper's ``apm_subject_offset`` / ``apm_object_offset``).
        normalizer: as in ``masked_l1_loss``; the shared regressor's collapsed mask has the same sum as ``mask``
            (one labelled verb pair per entry).

    Returns:
        Tensor: scalar.

    Raises:
        ValueError: when ``pred`` has neither 2 nor 2V channels.
    """
    two_v = target.shape[-1]
    if pred.shape[1] == two_v:
        return masked_l1_loss(pred, index, mask, target, normalizer)
    if pred.shape[1] != 2:
        raise ValueError(f"APM prediction has {pred.shape[1]} channels, expected 2 or {two_v}")
    # Shared regressor: collapse the one labelled verb's channel pair of each entry.
    b, k, _ = target.shape
    m = mask.float().view(b, k, -1, 2)
    return masked_l1_loss(pred, index, m.amax(2), (target.float().view(b, k, -1, 2) * m).sum(2), normalizer)
