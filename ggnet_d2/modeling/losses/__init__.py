"""GGNet's losses (Sec. 3.3, Eq. 4-7)."""
from .ggnet_loss import GGNetLoss
from .hna_loss import clamped_sigmoid, focal_loss, hna_focal_loss
from .normalization import cross_process_normalizer
from .regression_losses import apm_l1_loss, masked_l1_loss

__all__ = ["GGNetLoss", "clamped_sigmoid", "focal_loss", "hna_focal_loss", "apm_l1_loss", "masked_l1_loss",
           "cross_process_normalizer"]
