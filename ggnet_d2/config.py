"""GGNet's configuration keys, added onto detectron2's defaults.

Every key carries the paper's default (Zhong et al., "Glance and Gaze: Inferring Action-aware Points for One-Stage HOI
Detection", CVPR 2021) and names the section it comes from. Dataset-dependent numbers (classes, verbs, schedule) default
to HICO-DET; configs/ override them per dataset.
"""
from detectron2.config import CfgNode as CN


def add_ggnet_config(cfg):
    """Add GGNet's keys to a detectron2 config in place and return it.

    Args:
        cfg (detectron2.config.CfgNode): typically ``detectron2.config.get_cfg()``.

    Returns:
        CfgNode: the same object, for chaining.

    Raises:
        KeyError: never for a fresh detectron2 config; calling it twice is harmless (keys are reset to defaults).
    """
    _C = cfg
    _C.MODEL.META_ARCHITECTURE = "GGNet"
    _C.MODEL.BACKBONE.NAME = "build_dla34_backbone"  # Sec. 4.2: DLA-34 (ablations) / Hourglass-104 (main results)
    # CenterNet's image statistics (BGR, 0-255 scale) -- GGNet starts from CenterNet COCO weights (Sec. 4.2).
    _C.MODEL.PIXEL_MEAN = [104.01, 113.99, 119.85]
    _C.MODEL.PIXEL_STD = [73.60, 69.89, 70.89]
    _C.INPUT.FORMAT = "BGR"

    _C.MODEL.GGNET = CN()
    _C.MODEL.GGNET.NUM_CLASSES = 80  # Sec. 4.1: HICO-DET's 80 COCO object categories, person included
    _C.MODEL.GGNET.NUM_VERBS = 117  # Sec. 4.1: HICO-DET's 117 verbs (V-COCO: 24 actions/roles, see its config)
    _C.MODEL.GGNET.PERSON_CLASS_ID = 0  # contiguous id of "person": human points come from this channel (Sec. 3.4)
    _C.MODEL.GGNET.OUTPUT_STRIDE = 4  # Sec. 3.1: backbone output stride
    _C.MODEL.GGNET.HEAD_CONV = 256  # Sec. 3.2 / CenterNet: channels of each head's 3x3 conv
    _C.MODEL.GGNET.OBJ_HEATMAP_BIAS_INIT = -2.19  # CenterNet's prior (p=0.1) for heatmap logits, Sec. 3.1
    _C.MODEL.GGNET.NUM_ACTPOINTS = 25  # Sec. 3.2 (n); Table 2 ablates 9 / 25 / 49
    _C.MODEL.GGNET.NUM_GAZE_STEPS = 2  # Sec. 3.2, Eq. 2-3: two gaze steps; Table 1 ablates 0-3 (0 = glance only)
    _C.MODEL.GGNET.SHARE_GAZE_CONVS = False  # Sec. 3.2: each gaze step has its own F_k conv; ablation shares them
    _C.MODEL.GGNET.APM_PER_VERB = True  # Sec. 3.2 APM: 4V regressors; False = PPDM's single shared regressor

    # Losses, Sec. 3.3, Eq. 4-7.
    _C.MODEL.GGNET.LOSS = CN()
    _C.MODEL.GGNET.LOSS.HNA_ON = True  # Sec. 3.3: hard-negative attentive loss; False = plain focal loss (PPDM)
    _C.MODEL.GGNET.LOSS.FOCAL_ALPHA = 2.0  # Eq. 5: alpha
    _C.MODEL.GGNET.LOSS.HNA_BETA = 7.0  # Eq. 5: beta, weight exponent on hard negatives (1-M)^beta
    _C.MODEL.GGNET.LOSS.FOCAL_GAMMA = 4.0  # Eq. 5: gamma, CornerNet's penalty-reduction exponent
    _C.MODEL.GGNET.LOSS.FINAL_GAZE_WEIGHT = 1.0  # Eq. 7: L_gaze2 (the last gaze step) has weight 1
    _C.MODEL.GGNET.LOSS.GLANCE_WEIGHT = 0.1  # Eq. 7: lambda1 on L_glance
    _C.MODEL.GGNET.LOSS.INTERMEDIATE_GAZE_WEIGHT = 0.1  # Eq. 7: lambda1 on L_gaze1 (every gaze step but the last)
    _C.MODEL.GGNET.LOSS.APM_SUBJECT_WEIGHT = 0.1  # Eq. 7: lambda1 on L_apm (subject offsets)
    _C.MODEL.GGNET.LOSS.APM_OBJECT_WEIGHT = 0.1  # Eq. 7: lambda1 on L_apm (object offsets)
    _C.MODEL.GGNET.LOSS.OBJ_HEATMAP_WEIGHT = 1.0  # Eq. 7 / CenterNet: object-center focal loss
    _C.MODEL.GGNET.LOSS.WH_WEIGHT = 0.1  # Eq. 7: lambda2 on the width/height L1 loss
    _C.MODEL.GGNET.LOSS.OFFSET_WEIGHT = 1.0  # Eq. 7: center-offset L1 loss

    # Inference, Sec. 3.4.
    _C.MODEL.GGNET.TEST = CN()
    _C.MODEL.GGNET.TEST.TOPK_INTERACTIONS = 100  # Sec. 3.4: top-K interaction points over all verbs
    _C.MODEL.GGNET.TEST.TOPK_HUMANS = 100  # Sec. 3.4: top-K human points (person channel)
    _C.MODEL.GGNET.TEST.TOPK_OBJECTS = 100  # Sec. 3.4: top-K object points
    _C.MODEL.GGNET.TEST.MATCH_VALID_OBJECTS_ONLY = True  # Eq. 8 restricted to object classes valid for the verb
    _C.MODEL.GGNET.TEST.SCORE_THRESH = 0.0  # triplets below this score are dropped (0 keeps all K, as evaluated)

    # Backbones (Sec. 4.2). Channel lists are configurable so tests can shrink them.
    _C.MODEL.DLA = CN()
    _C.MODEL.DLA.LEVELS = [1, 1, 1, 2, 2, 1]  # DLA-34 (Yu et al. 2018), as in CenterNet
    _C.MODEL.DLA.CHANNELS = [16, 32, 64, 128, 256, 512]
    _C.MODEL.DLA.UP_CONV = "dcn"  # CenterNet's DLAUp/IDAUp uses modulated deformable convs; "conv" = plain 3x3
    _C.MODEL.HOURGLASS = CN()
    _C.MODEL.HOURGLASS.NUM_STACKS = 2  # Hourglass-104 (CornerNet/CenterNet): two stacks
    _C.MODEL.HOURGLASS.DIMS = [256, 256, 384, 384, 384, 512]
    _C.MODEL.HOURGLASS.MODULES = [2, 2, 2, 2, 2, 4]
    _C.MODEL.HOURGLASS.STEM_CHANNELS = 128
    _C.MODEL.RESNET_DECONV = CN()
    _C.MODEL.RESNET_DECONV.DEPTH = 18  # light CPU configs (CenterNet's ResNet-18 + deconvolution upsampling)
    _C.MODEL.RESNET_DECONV.DECONV_CHANNELS = [256, 128, 64]
    _C.MODEL.RESNET_DECONV.IMAGENET_PRETRAINED = False  # torchvision weights need a download; off by default

    # Input pipeline and dense targets (Sec. 3.1-3.3, 4.2).
    _C.INPUT.GGNET = CN()
    _C.INPUT.GGNET.INPUT_SIZE = 512  # Sec. 4.2: 512x512 training input
    _C.INPUT.GGNET.SCALE_RANGE = (0.6, 1.4)  # CenterNet random scale augmentation (GGNet follows CenterNet/PPDM)
    _C.INPUT.GGNET.SHIFT = 0.1  # CenterNet: random center shift as a fraction of the image size
    _C.INPUT.GGNET.FLIP_PROB = 0.5  # horizontal flip
    _C.INPUT.GGNET.COLOR_JITTER = 0.4  # brightness/contrast/saturation strength (0 disables)
    _C.INPUT.GGNET.TEST_SIZE = 512  # Sec. 4.2: test images resized (aspect kept) so the longer side is 512
    # CenterNet/PPDM test at a fixed resolution: each test image is padded (black, bottom/right) to a TEST_SIZE square
    _C.INPUT.GGNET.TEST_PAD_SQUARE = True
    _C.INPUT.GGNET.SIZE_DIVISIBILITY = 32  # padding multiple at test (Hourglass configs need 128)
    _C.INPUT.GGNET.MAX_OBJECTS = 128  # CenterNet: max objects per image in the target tensors
    _C.INPUT.GGNET.MAX_HOIS = 64  # PPDM: max HOI triplets per image in the target tensors
    _C.INPUT.GGNET.MIN_OVERLAP = 0.7  # CenterNet's Gaussian radius formula, min IoU overlap
    _C.INPUT.GGNET.HNA_RADIUS = 3  # Sec. 3.3: radius (feature-map pixels) of the -1 hard-negative Gaussians

    # Datasets.
    _C.DATASETS.HOI = CN()
    _C.DATASETS.HOI.BAD_RECORD_POLICY = "skip"  # "skip": count, log and drop bad records; "error": raise
    _C.DATASETS.HOI.CHECK_IMAGE_FILES = True  # missing image files are bad records

    # Issue 12: usable with only a checkpoint or only one's own data; bad input.
    # (name, json_file, image_root) of one's own PPDM/GGNet-style HOI JSON datasets, registered by setup_cfg in every
    # process (register_hoi_json; the annotation layout PPDM reads in src/lib/datasets/hico.py).
    _C.DATASETS.HOI.CUSTOM = []
    # Boxes crossing the image border by at most this many original pixels are clipped to it instead of dropping the
    # image (PPDM clips every box to the map in src/lib/datasets/hico.py __getitem__; 0 = clip nothing).
    _C.DATASETS.HOI.BOX_CLIP_TOLERANCE = 2.0
    # Correspondence (Sec. 3.4, Eq. 8: objects matched only for the verbs they admit) as [verb, object] contiguous
    # pairs, for a model whose dataset metadata does not give it; empty = from the metadata, else the checkpoint.
    _C.MODEL.GGNET.VALID_VERB_OBJECT = []

    # Optimization, Sec. 4.2: Adam, batch 23, LR 1.5e-4 (HICO-DET), 120 epochs, LR x0.1 at epoch 90.
    # HICO-DET train has 38,118 images: 38,118 / 23 = 1,657.3 iterations per epoch, so 120 epochs = 198,887
    # iterations and epoch 90 = 149,165.
    _C.SOLVER.OPTIMIZER = "ADAM"  # "ADAM" (paper) or "SGD" (detectron2's default)
    _C.SOLVER.BASE_LR = 1.5e-4
    _C.SOLVER.IMS_PER_BATCH = 23
    _C.SOLVER.MAX_ITER = 198887
    _C.SOLVER.STEPS = (149165,)
    _C.SOLVER.GAMMA = 0.1
    _C.SOLVER.WARMUP_ITERS = 0  # the paper uses no warm-up
    _C.SOLVER.WEIGHT_DECAY = 0.0  # Adam without weight decay, as CenterNet/PPDM
    _C.SOLVER.CHECKPOINT_PERIOD = 5000
    _C.SOLVER.AMP.ENABLED = False
    _C.TEST.EVAL_PERIOD = 0
    return cfg
