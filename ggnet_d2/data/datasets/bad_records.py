"""What the HOI loaders do with a bad record: raise a clear error, or drop the image and count it.

The policy travels with the config, not in module state: detectron2 calls dataset functions without arguments
(``DatasetCatalog.get``), so each HOI dataset is registered as a :class:`PolicyLoader` (a callable holding its
:class:`BadRecordPolicy`), and ``configure_hoi_datasets(cfg)`` re-registers every one of them with the policy built
from ``cfg.DATASETS.HOI``.
"""
import logging
from collections import Counter
from dataclasses import dataclass, replace

from detectron2.data import DatasetCatalog

from ...config_choices import resolve_choice

__all__ = ["BadRecordError", "BadRecordPolicy", "PolicyLoader", "configure_hoi_datasets", "SkipLog"]

logger = logging.getLogger(__name__)


class BadRecordError(ValueError):
    """A dataset record (or annotation file) that cannot be trained or evaluated on; the message names the file and
    the record."""


@dataclass(frozen=True)
class BadRecordPolicy:
    """How HOI loaders treat bad records (``cfg.DATASETS.HOI``).

    Attributes:
        policy (str): "skip" (count, log once and drop the image) or "error" (raise :class:`BadRecordError`).
        check_image_files (bool): a missing or empty image file is a bad record.
        box_clip_tolerance (float): boxes at most this many pixels (original pixels) past the image border are
            clipped to it; farther out they are bad records ("box_outside_image", or "size_mismatch" when the
            record's height/width disagree with the image file).

    Raises:
        ValueError: at construction, for an unknown policy or a negative tolerance.
    """

    policy: str = "skip"
    check_image_files: bool = True
    box_clip_tolerance: float = 2.0

    def __post_init__(self):
        resolve_choice("DATASETS.HOI.BAD_RECORD_POLICY", self.policy)
        if not self.box_clip_tolerance >= 0:
            raise ValueError(f"DATASETS.HOI.BOX_CLIP_TOLERANCE must be >= 0 pixels, got {self.box_clip_tolerance!r}")

    @classmethod
    def from_config(cls, cfg):
        """The policy of ``cfg.DATASETS.HOI`` (a GGNet config, ``add_ggnet_config``)."""
        hoi = cfg.DATASETS.HOI
        return cls(hoi.BAD_RECORD_POLICY, bool(hoi.CHECK_IMAGE_FILES), float(hoi.BOX_CLIP_TOLERANCE))

    def with_(self, **changes):
        """A copy with some fields changed (tests, scripts)."""
        return replace(self, **changes)


class PolicyLoader:
    """A ``DatasetCatalog`` function: calls ``fn(policy=policy, log=...)``; :meth:`with_policy` makes a re-configured
    copy.

    detectron2 loads a dataset several times in one process (training loader, test loader, evaluator); ``log`` is
    True on the first call only, so the skip summary and the verb histogram are logged once.

    Args:
        fn (callable): takes the keywords ``policy`` (a :class:`BadRecordPolicy`) and ``log`` (bool) and returns
            dataset dicts.
        policy (BadRecordPolicy | None): default ``BadRecordPolicy()``.
    """

    def __init__(self, fn, policy=None):
        self.fn = fn
        self.policy = policy or BadRecordPolicy()
        self._loaded = False

    def __call__(self):
        first, self._loaded = not self._loaded, True
        return self.fn(policy=self.policy, log=first)

    def with_policy(self, policy):
        return PolicyLoader(self.fn, policy)


def configure_hoi_datasets(cfg, names=None):
    """Re-register every HOI dataset (each :class:`PolicyLoader` in ``DatasetCatalog``) with the policy of ``cfg``.

    Call it before ``DatasetCatalog.get`` / ``build_detection_*_loader`` (``setup_cfg`` does, in every process).

    Args:
        cfg (CfgNode): a config with ``DATASETS.HOI`` (``add_ggnet_config``).
        names (Iterable[str] | None): only these datasets (default: all registered).

    Returns:
        BadRecordPolicy: the policy applied.

    Raises:
        ValueError: for an unknown policy or a negative tolerance.
    """
    policy = BadRecordPolicy.from_config(cfg)
    for name in list(names if names is not None else DatasetCatalog.list()):
        fn = DatasetCatalog.data.get(name)  # the registered function itself (get() would call it)
        if isinstance(fn, PolicyLoader) and fn.policy != policy:
            DatasetCatalog.remove(name)
            DatasetCatalog.register(name, fn.with_policy(policy))
    return policy


def registered_policy(name):
    """The :class:`BadRecordPolicy` ``name`` is registered with (default policy for other loaders)."""
    fn = DatasetCatalog.data.get(name)
    return fn.policy if isinstance(fn, PolicyLoader) else BadRecordPolicy()


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
        self.num_clipped = 0

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

    def summary(self, num_total, log=True):
        """The line with the skip counts per reason, the first example of each and the number of clipped boxes
        (logged as a warning when ``log``); None if nothing was skipped or clipped."""
        if not self.counts and not self.num_clipped:
            return None
        line = f"{self.dataset}: "
        if self.counts:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items()))
            examples = " | ".join(self.first[k] for k in sorted(self.first))
            line += (f"skipped {self.num_skipped} of {num_total} images with bad records ({reasons}); "
                     f"first of each: {examples}")
        if self.num_clipped:
            line += f"{'; ' if self.counts else ''}clipped {self.num_clipped} boxes that crossed the image border " \
                    "by at most DATASETS.HOI.BOX_CLIP_TOLERANCE"
        if log:
            logger.warning(line)
        return line
