"""Config set-up shared by train_net.py, the demo and the quickstart."""
import logging

import torch
from detectron2.config import get_cfg
from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ggnet_d2.config import add_ggnet_config
from ggnet_d2.data import configure_hoi_datasets
from ggnet_d2.data.datasets import register_custom_hoi_datasets
from ggnet_d2.modeling.language import apply_text_verb_list

from .batch_scaling import fit_batch_to_world_size
from .config_check import check_ggnet_config
from .dataset_facts import add_dataset_facts
from .log_file import plain_text_logs

__all__ = ["setup_cfg"]

logger = logging.getLogger(__name__)


def setup_cfg(config_file, opts=(), args=None):
    """Build a frozen GGNet config: detectron2 defaults + GGNet keys + ``config_file`` + ``opts``.

    Device: a config that names no ``MODEL.DEVICE`` (the quickstart, the HOI-W demo) runs on CUDA when available,
    else on the CPU, without a warning; a config *file* asking for CUDA (the paper configs) runs on the CPU where no
    GPU exists, with a logged warning; ``MODEL.DEVICE cuda`` given explicitly in ``opts`` is an error there instead,
    because the user asked for the GPU and a silent CPU run would be a different experiment.

    Batch: with more than one process (detectron2's ``comm.get_world_size()``), SOLVER.IMS_PER_BATCH is fitted to a
    multiple of the world size with BASE_LR and the iteration counts rescaled (``fit_batch_to_world_size``, logged).

    Datasets: those of ``DATASETS.HOI.CUSTOM`` are registered with one class/verb table (their files' ids are read and
    checked now; ``MODEL.GGNET.PERSON_CLASS_ID`` becomes the person class found by name) and every HOI dataset gets
    the bad-record policy of ``DATASETS.HOI`` (this runs in every training process). Dataset facts the model needs (the
    verb-object correspondence known without a file read, an external detector's class mapping) are written into the
    config (``dataset_facts.add_dataset_facts``): the model reads only its config.

    With ``args`` (from ``default_argument_parser``) detectron2's ``default_setup`` also runs (logging, output dir,
    seeds, ``torch.backends.cudnn.benchmark = CUDNN_BENCHMARK``), and the ``ggnet_d2`` logger writes to the console
    and ``OUTPUT_DIR/log.txt`` (main process) as detectron2's does.

    Raises:
        FileNotFoundError: when ``config_file`` does not exist.
        RuntimeError: when ``opts`` set MODEL.DEVICE to CUDA and no GPU is available.
        ConfigError: (a ValueError) every bad value of the merged config (``check_ggnet_config``), before any
            dataset is read; earlier value names are replaced by the current ones with a deprecation warning.
        ValueError: a bad ``DATASETS.HOI.CUSTOM`` entry; PERSON_CLASS_ID or VALID_VERB_OBJECT disagreeing with the
            dataset metadata; a bad EXTERNAL_DETECTIONS entry.
        KeyError: an unknown EXTERNAL_DETECTIONS.SOURCE.
        BadRecordError: a custom dataset file with an id outside the class/verb table.
    """
    cfg = get_cfg()
    add_ggnet_config(cfg)
    cfg.MODEL.DEVICE = ""  # "" after the merges: no config file and no option chose a device
    if config_file:
        cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    check_ggnet_config(cfg)  # every bad value in one error, before any data is read
    if not cfg.MODEL.DEVICE:
        cfg.MODEL.DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
        logger.info("MODEL.DEVICE %s (the config names no device: CUDA when available)", cfg.MODEL.DEVICE)
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        opts = list(opts)
        asked = [opts[i + 1] for i in range(0, len(opts) - 1, 2) if opts[i] == "MODEL.DEVICE"]
        if asked and str(asked[-1]).startswith("cuda"):
            raise RuntimeError(f"MODEL.DEVICE {asked[-1]} was requested but torch finds no CUDA device "
                               f"(torch {torch.__version__}, built for CUDA {torch.version.cuda})")
        logger.warning("MODEL.DEVICE is %s but no CUDA device is available: running on the CPU", cfg.MODEL.DEVICE)
        cfg.MODEL.DEVICE = "cpu"
    cfg = fit_batch_to_world_size(cfg, comm.get_world_size())
    apply_text_verb_list(cfg)  # VERB_CLASSIFIER "text": NUM_VERBS is the embeddings file's
    register_custom_hoi_datasets(cfg)  # may set MODEL.GGNET.PERSON_CLASS_ID from the class names
    configure_hoi_datasets(cfg)
    add_dataset_facts(cfg)
    cfg.freeze()
    if args is not None:
        plain_text_logs(logging.getLogger("detectron2"))  # before default_setup, which logs the highlighted config
        default_setup(cfg, args)
        setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="ggnet_d2")
    return cfg
