"""What the HOI loaders do with a bad record: raise a clear error, or drop the image and count it.

The policy is process-wide because detectron2 calls dataset functions without arguments (``DatasetCatalog.get``);
``configure_hoi_datasets(cfg)`` sets it from ``cfg.DATASETS.HOI`` before the loaders are built.
"""
import logging
from collections import Counter

__all__ = ["BadRecordError", "configure_hoi_datasets", "get_bad_record_policy", "SkipLog"]

logger = logging.getLogger(__name__)

_POLICY = {"policy": "skip", "check_image_files": True}
_VALID_POLICIES = ("skip", "error")


class BadRecordError(ValueError):
    """A dataset record that cannot be trained or evaluated on; the message names the file and the record."""


def configure_hoi_datasets(cfg):
    """Apply ``cfg.DATASETS.HOI.BAD_RECORD_POLICY`` and ``cfg.DATASETS.HOI.CHECK_IMAGE_FILES`` to every HOI loader.

    Call it before ``DatasetCatalog.get`` / ``build_detection_*_loader`` (train_net does).

    Args:
        cfg (CfgNode): a config with ``DATASETS.HOI`` (``add_ggnet_config``).

    Raises:
        ValueError: if the policy is neither "skip" nor "error".
    """
    hoi = cfg.DATASETS.get("HOI", None)
    policy = hoi.get("BAD_RECORD_POLICY", "skip") if hoi is not None else "skip"
    check = bool(hoi.get("CHECK_IMAGE_FILES", True)) if hoi is not None else True
    set_bad_record_policy(policy, check)


def set_bad_record_policy(policy="skip", check_image_files=True):
    """Set the policy directly (tests, scripts without a config). Raises ValueError on an unknown policy."""
    if policy not in _VALID_POLICIES:
        raise ValueError(f"DATASETS.HOI.BAD_RECORD_POLICY must be one of {_VALID_POLICIES}, got {policy!r}")
    _POLICY["policy"] = policy
    _POLICY["check_image_files"] = bool(check_image_files)


def get_bad_record_policy():
    """Return ``(policy, check_image_files)`` currently in force."""
    return _POLICY["policy"], _POLICY["check_image_files"]


class SkipLog:
    """Counts the images dropped from one dataset by reason, and logs them in one summary line.

    Args:
        dataset (str): name used in the summary (dataset name or json file).
        policy (str): "skip" or "error"; with "error", :meth:`bad` raises instead of counting.
    """

    def __init__(self, dataset, policy):
        self.dataset = dataset
        self.policy = policy
        self.counts = Counter()
        self.first = {}

    def bad(self, reason, message):
        """Report one bad record: raise ``BadRecordError(message)`` or count it under ``reason``."""
        if self.policy == "error":
            raise BadRecordError(message)
        self.counts[reason] += 1
        self.first.setdefault(reason, message)

    @property
    def num_skipped(self):
        """Number of images dropped."""
        return sum(self.counts.values())

    def summary(self, num_total):
        """Log (warning) one line with the skip counts per reason and the first example of each; None if no skip."""
        if not self.counts:
            return None
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items()))
        examples = " | ".join(self.first[k] for k in sorted(self.first))
        line = (f"{self.dataset}: skipped {self.num_skipped} of {num_total} images with bad records ({reasons}); "
                f"first of each: {examples}")
        logger.warning(line)
        return line
