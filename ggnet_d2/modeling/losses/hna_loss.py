"""Hard-negative attentive (HNA) loss of GGNet (Sec. 3.3, Eq. 4-6) and the CornerNet focal loss it extends."""
import torch

__all__ = ["hna_focal_loss", "focal_loss", "clamped_sigmoid"]

_EPS = 1e-4  # CenterNet's clamp, keeps log(P) and log(1-P) finite


def clamped_sigmoid(logits):
    """sigmoid(logits) clamped to [1e-4, 1 - 1e-4] (CenterNet's ``_sigmoid``)."""
    return torch.sigmoid(logits).clamp(_EPS, 1 - _EPS)


def hna_focal_loss(logits, hna_map, alpha=2.0, beta=7.0, gamma=4.0, normalizer=None):
    """HNA loss (Eq. 5) of interaction-point heatmaps.

    With P = clamped_sigmoid(logits) and M = ``hna_map`` (values in [-1, 1]):
      M == 1 (positives):       (1 - P)^alpha * log(P)
      M == -1 (hard negatives): (1 - M)^beta * P^alpha * log(1 - P)
      otherwise:                (1 - M)^gamma * P^alpha * log(1 - P)
    loss = -sum / N with N the number of positives, or -sum when N = 0.

    Args:
        logits (Tensor): (B, V, H, W) heatmap logits.
        hna_map (Tensor): (B, V, H, W) target M, same shape.
        alpha, beta, gamma (float): exponents of Eq. 5 (paper: 2, 7, 4).
        normalizer (Tensor | float | None): divide by this instead of max(N, 1) -- the positives of all
            processes (``cross_process_normalizer``).

    Returns:
        Tensor: scalar loss.

    Raises:
        ValueError: on a shape mismatch.
    """
    if logits.shape != hna_map.shape:
        raise ValueError(f"heatmap logits {tuple(logits.shape)} and target {tuple(hna_map.shape)} differ in shape")
    p = clamped_sigmoid(logits.float())
    m = hna_map.float()
    pos = m.eq(1).float()
    hard = m.eq(-1).float()
    other = 1.0 - pos - hard
    pos_term = (1 - p).pow(alpha) * torch.log(p) * pos
    neg_log = p.pow(alpha) * torch.log(1 - p)
    neg_term = neg_log * ((1 - m).pow(beta) * hard + (1 - m).pow(gamma) * other)
    total = pos_term.sum() + neg_term.sum()
    if normalizer is not None:
        return -total / normalizer
    # max(N, 1) as a clamp, not `if N > 0`, which would read N back to the host (a CUDA synchronisation): N counts
    # whole positives, so dividing by 1 when there are none leaves -total exactly as before
    return -total / pos.sum().clamp(min=1)


def focal_loss(logits, heatmap, alpha=2.0, gamma=4.0, normalizer=None):
    """CornerNet/CenterNet penalty-reduced focal loss on a Gaussian heatmap in [0, 1] (Eq. 4, object centers and the
    PPDM interaction loss): ``hna_focal_loss`` on max(heatmap, 0), so no hard-negative term. Shapes (B, C, H, W)."""
    return hna_focal_loss(logits, heatmap.clamp(min=0), alpha=alpha, beta=0.0, gamma=gamma, normalizer=normalizer)
