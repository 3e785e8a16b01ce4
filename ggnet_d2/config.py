"""GGNet's configuration keys, added onto detectron2's defaults.

Every key carries the paper's default (Zhong et al., "Glance and Gaze: Inferring Action-aware Points for One-Stage HOI
Detection", CVPR 2021) and names the section it comes from. Dataset-dependent numbers (classes, verbs, schedule) default
to HICO-DET; configs/ override them per dataset. Keys are grouped by namespace, one function each. The allowed values
of choice-valued keys are in ``ggnet_d2/config_choices.py`` (one table); ``ggnet_d2.engine.check_ggnet_config`` checks
a merged config once, at start (``setup_cfg`` calls it).
"""
from detectron2.config import CfgNode as CN

from .config_choices import (AGGREGATION_GLANCE_GAZE, APM_INPUT_GLANCE, APM_STACK_MEAN, BOX_CLIP_CUT,
                             COLOR_AUG_DETECTRON2_OPS, CROP_CENTER_AFFINE, GAZE_TARGET_GLANCE, HARD_NEGATIVES_PER_PAIR,
                             HEAD_BIAS_ZERO, MATCH_EQ8, OPTIMIZER_ADAM, PLACEMENT_TOP_LEFT, POLICY_SKIP, UP_CONV_DCN)

__all__ = ["add_ggnet_config"]


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
    for add in (_add_input, _add_model_ggnet, _add_ggnet_loss, _add_ggnet_test, _add_external_detections,
                _add_backbones, _add_datasets_hoi, _add_solver, _add_test_hoi, _add_ggnet_language):
        add(_C)

    # --- issue 21: head bias initialisation, Table 3 aggregation variants ---
    # Head conv biases at start (modeling/heads/bias_init.py): "zero" = every head's hidden and regression biases 0,
    # heatmap classifiers at OBJ_HEATMAP_BIAS_INIT (CenterNet/PPDM's DLA heads, fill_fc_weights); "pytorch_default" =
    # the authors' GGNet Hourglass networks (ggnet_hourglass_s1/_s2.py exkp): only the heatmap classifiers filled,
    # the other conv biases at nn.Conv2d's default uniform(+-1/sqrt(fan_in)), ActPoint offset convs at 0.
    _C.MODEL.GGNET.HEAD_BIAS_INIT = HEAD_BIAS_ZERO
    # Interaction branch (modeling/heads/aggregation_heads.py): "glance_gaze" = GGNet's glance and gaze steps
    # (Sec. 3.2); the paper's Table 3 alternatives on the PPDM baseline (NUM_GAZE_STEPS 0, APM_PER_VERB False):
    # "human_point" (I + H), "object_point" (I + O), "human_object_points" (I + H + O) -- F0 concatenated with F0 at
    # the human/object center PPDM's point matching assigns to each pixel --, "actpoints" (ActPoints w/o glance and
    # gaze: one deformable conv over coarse ActPoints predicted on F0).
    _C.MODEL.GGNET.INTERACTION_AGGREGATION = AGGREGATION_GLANCE_GAZE

    # --- issue 24: the fastest exact training configuration (README, "Training speed"); all off = paper float32 ---
    # Autocast precision with SOLVER.AMP.ENABLED: "float16" = detectron2's AMPTrainer (autocast + GradScaler, CUDA);
    # "bfloat16" = GGNet's forward autocasts itself (no loss scaling: bfloat16 has float32's exponent range; also on
    # the CPU). Deformable convolutions and losses run in float32 either way (layers/precision.py).
    _C.SOLVER.AMP.PRECISION = "float16"
    # Channels-last (NHWC) parameters, so convolutions run in cuDNN's NHWC kernels (engine/speed.py).
    _C.MODEL.CHANNELS_LAST = False
    # torch.compile of the backbone and heads (nn.Module.compile, in place): off by default, it costs start-up time.
    _C.MODEL.COMPILE = False
    # torch.optim.Adam(fused=True): one kernel per parameter group instead of per-op foreach loops (CUDA, CPU).
    _C.SOLVER.ADAM_FUSED = False
    return _C


def _add_input(_C):
    """INPUT and INPUT.GGNET: input pipeline and dense targets (Sec. 3.1-3.3, 4.2)."""
    _C.INPUT.FORMAT = "BGR"
    _C.INPUT.GGNET = CN()
    # Training input.
    _C.INPUT.GGNET.INPUT_SIZE = 512  # Sec. 4.2: 512x512 training input
    # Training crop: "center_affine" (CenterNet's scale + shift, RandomCenterAffine) or "random_crop_border" (the
    # authors' hico.py __getitem__ default, CornerNet's random crop: side max(H, W) x a factor drawn from CROP_SCALES,
    # centre drawn uniformly among the integer pixels at least _get_border(CROP_BORDER) from the image edge).
    _C.INPUT.GGNET.CROP = CROP_CENTER_AFFINE
    _C.INPUT.GGNET.SCALE_RANGE = (0.6, 1.4)  # CenterNet random scale augmentation (GGNet follows CenterNet/PPDM)
    _C.INPUT.GGNET.SHIFT = 0.1  # CenterNet: random center shift as a fraction of the image size
    _C.INPUT.GGNET.CROP_SCALES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)  # hico.py: np.arange(0.7, 1.4, 0.1)
    _C.INPUT.GGNET.CROP_BORDER = 128  # hico.py: self._get_border(128, size)
    _C.INPUT.GGNET.FLIP_PROB = 0.5  # horizontal flip
    _C.INPUT.GGNET.COLOR_JITTER = 0.4  # brightness/contrast/saturation strength (0 disables)
    # PCA lighting noise (AlexNet; CornerNet's utils/image.py lighting_, called by color_aug with alphastd 0.1 and
    # hico.py's _eig_val / _eig_vec): std of the principal-component weights; 0 disables, the authors use 0.1.
    _C.INPUT.GGNET.PCA_LIGHTING = 0.0
    # Colour augmentation (with COLOR_JITTER as strength and PCA_LIGHTING): "detectron2_ops" = detectron2's
    # RandomBrightness, RandomContrast, RandomSaturation in that order, each clipped to uint8, then PCALighting;
    # "random_order_shared_gray" = the authors' color_aug (src/lib/utils/image.py, CornerNet's): the three in random
    # order, against the grayscale of the input, unclipped float, lighting last (data/transforms.py).
    _C.INPUT.GGNET.COLOR_AUG = COLOR_AUG_DETECTRON2_OPS
    # Test input.
    _C.INPUT.GGNET.TEST_SIZE = 512  # Sec. 4.2: test images resized (aspect kept) so the longer side is 512
    # CenterNet/PPDM test at a fixed resolution: each test image is padded (black, bottom/right) to a TEST_SIZE square
    _C.INPUT.GGNET.TEST_PAD_SQUARE = True
    # Where the resized test image sits in the TEST_SIZE square: "top_left" = aspect-preserving resize, black padding
    # bottom/right; "center" = the authors' fixed-resolution test (CenterNet/PPDM/GGNet detectors/base_detector.py
    # pre_process with fix_res, utils/image.py get_affine_transform): an affine warp (bilinear, black border) scaling
    # the longer side to TEST_SIZE and centring the image in the square (a TEST_SIZE square whatever TEST_PAD_SQUARE).
    _C.INPUT.GGNET.TEST_PLACEMENT = PLACEMENT_TOP_LEFT
    _C.INPUT.GGNET.SIZE_DIVISIBILITY = 32  # padding multiple at test (Hourglass configs need 128)
    # Dense targets.
    _C.INPUT.GGNET.MAX_OBJECTS = 128  # CenterNet: max objects per image in the target tensors
    _C.INPUT.GGNET.MAX_HOIS = 64  # PPDM: max HOI triplets per image in the target tensors
    _C.INPUT.GGNET.MIN_OVERLAP = 0.7  # CenterNet's Gaussian radius formula, min IoU overlap
    _C.INPUT.GGNET.HNA_RADIUS = 3  # Sec. 3.3: radius (feature-map pixels) of the -1 hard-negative Gaussians
    # Hard negatives of the HNA target M (data/targets.py): "per_pair" = verbs valid with the object and not labelled
    # for the human-object pair (Sec. 3.3, the paper configs); "per_hoi_in_order" = the authors' hico.py __getitem__:
    # per HOI in annotation order, only that HOI's verb excluded, a negative skipped where its square already holds a
    # positive value.
    _C.INPUT.GGNET.HARD_NEGATIVE_RULE = HARD_NEGATIVES_PER_PAIR
    # The sharp gaze target (MODEL.GGNET.LOSS.GAZE_TARGET "sharp"), the authors' hico.py:
    _C.INPUT.GGNET.GAZE_SIGMA_FACTOR = 8.0  # hico.py: draw_gaussian(hm_rel_hard[...], ..., radius, factor=8)
    _C.INPUT.GGNET.GAZE_NEGATIVE_SIGMA_FACTOR = 2.0  # hico.py: draw_umich_gaussian_for_neg(hm_rel_hard, factor=2)


def _add_model_ggnet(_C):
    """MODEL (meta-architecture, pixel statistics) and MODEL.GGNET: dataset facts, heads, weights."""
    _C.MODEL.META_ARCHITECTURE = "GGNet"
    # CenterNet's image statistics (BGR, 0-255 scale) -- GGNet starts from CenterNet COCO weights (Sec. 4.2).
    _C.MODEL.PIXEL_MEAN = [104.01, 113.99, 119.85]
    _C.MODEL.PIXEL_STD = [73.60, 69.89, 70.89]
    _C.MODEL.GGNET = CN()
    # Dataset facts.
    _C.MODEL.GGNET.NUM_CLASSES = 80  # Sec. 4.1: HICO-DET's 80 COCO object categories, person included
    _C.MODEL.GGNET.NUM_VERBS = 117  # Sec. 4.1: HICO-DET's 117 verbs (V-COCO: 24 actions/roles, see its config)
    _C.MODEL.GGNET.PERSON_CLASS_ID = 0  # contiguous id of "person": human points come from this channel (Sec. 3.4)
    # Correspondence (Sec. 3.4, Eq. 8: objects matched only for the verbs they admit) as [verb, object] contiguous
    # pairs, for a model whose dataset metadata does not give it; empty = from the metadata, else the checkpoint.
    _C.MODEL.GGNET.VALID_VERB_OBJECT = []
    # Where MODEL.GGNET.VALID_VERB_OBJECT came from, for the precedence with a checkpoint's correspondence and the log:
    # "metadata:<dataset>" when setup_cfg copied it from the dataset metadata (ggnet_d2/engine/dataset_facts.py);
    # "" = given in the config ("config").
    _C.MODEL.GGNET.VALID_VERB_OBJECT_SOURCE = ""
    # Heads.
    _C.MODEL.GGNET.OUTPUT_STRIDE = 4  # Sec. 3.1: backbone output stride
    _C.MODEL.GGNET.HEAD_CONV = 256  # Sec. 3.2 / CenterNet: channels of each head's 3x3 conv
    _C.MODEL.GGNET.OBJ_HEATMAP_BIAS_INIT = -2.19  # CenterNet's prior (p=0.1) for heatmap logits, Sec. 3.1
    _C.MODEL.GGNET.NUM_ACTPOINTS = 25  # Sec. 3.2 (n); Table 2 ablates 9 / 25 / 49
    _C.MODEL.GGNET.NUM_GAZE_STEPS = 2  # Sec. 3.2, Eq. 2-3: two gaze steps; Table 1 ablates 0-3 (0 = glance only)
    _C.MODEL.GGNET.SHARE_GAZE_CONVS = False  # Sec. 3.2: each gaze step has its own F_k conv; ablation shares them
    _C.MODEL.GGNET.APM_PER_VERB = True  # Sec. 3.2 APM: 4V regressors; False = PPDM's single shared regressor
    # What the APM regressors read: "glance" = the glance features F0 (GGNet Sec. 3.2; authors' ggnet_hourglass_s1/
    # s2.py exkp.forward apply sub_offset/obj_offset to i_hm_feature); "backbone" = the backbone features, like every
    # other head (PPDM src/lib/models/networks/pose_dla_dcn.py DLASeg.forward, large_hourglass.py exkp.forward).
    _C.MODEL.GGNET.APM_INPUT = APM_INPUT_GLANCE
    # Load reference or own weights that leave parameters at initialisation (tools/convert_weights.py
    # --allow-partial; --eval-only and the demo otherwise refuse them, ggnet_d2/modeling/checkpoint).
    _C.MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL = False


def _add_ggnet_loss(_C):
    """MODEL.GGNET.LOSS: losses, Sec. 3.3, Eq. 4-7, and the authors' training variants."""
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
    # Gaze-step target: "glance" = the glance map hna_map (paper Sec. 3.3); "sharp" = the authors' hm_rel_hard
    # (src/lib/datasets/dataset/hico.py __getitem__ with --soft_gaussian; used by every gaze step in
    # src/lib/trains/hoidet.py): positive Gaussians of the same radius with sigma = (2r+1) / GAZE_SIGMA_FACTOR and
    # hard negatives of radius HNA_RADIUS with sigma = (2 HNA_RADIUS + 1) / GAZE_NEGATIVE_SIGMA_FACTOR (INPUT.GGNET).
    _C.MODEL.GGNET.LOSS.GAZE_TARGET = GAZE_TARGET_GLANCE
    # APM loss over the two Hourglass stacks: "mean" like every other loss; "sum" = the authors' trains/hoidet.py
    # (sub_offset_loss / obj_offset_loss are summed over stacks, not divided by num_stacks: 2x on Hourglass-104).
    _C.MODEL.GGNET.LOSS.APM_STACK_REDUCTION = APM_STACK_MEAN


def _add_ggnet_test(_C):
    """MODEL.GGNET.TEST: inference, Sec. 3.4, and the decoding of the authors' released models."""
    _C.MODEL.GGNET.TEST = CN()
    _C.MODEL.GGNET.TEST.TOPK_INTERACTIONS = 100  # Sec. 3.4: top-K interaction points over all verbs
    _C.MODEL.GGNET.TEST.TOPK_HUMANS = 100  # Sec. 3.4: top-K human points (person channel)
    _C.MODEL.GGNET.TEST.TOPK_OBJECTS = 100  # Sec. 3.4: top-K object points
    _C.MODEL.GGNET.TEST.MATCH_VALID_OBJECTS_ONLY = True  # Eq. 8 restricted to object classes valid for the verb
    _C.MODEL.GGNET.TEST.SCORE_THRESH = 0.0  # triplets below this score are dropped (0 keeps all K, as evaluated)
    # Matching rule of interaction points to human/object points: "eq8" = paper Eq. 8, argmin over candidates of
    # distance / score; "score_over_offset_area" = GGNet/PPDM src/lib/models/decode.py hoidet_decode_match /
    # hoidet_decode: argmax of score / ((|dx| + 1)(|dy| + 1)), ties to the first candidate (torch.argmax).
    _C.MODEL.GGNET.TEST.MATCH_RULE = MATCH_EQ8
    # Drop repeated (subject, object, verb) triplets, keeping the highest-scoring one (authors' decode.py:
    # np.unique over the score-sorted triplets); False keeps all top-K (paper Sec. 3.4).
    _C.MODEL.GGNET.TEST.DEDUP_TRIPLETS = False
    # Border boxes in original pixels: "clip" = cut to the image (detectron2 Boxes.clip); "clamp_corner_min_side" =
    # GGNet/PPDM src/lib/detectors/hoidet.py bbox_clip: x1, y1 clamped into the image, width/height clamped to
    # [10, image side] and kept from the clamped x1, y1 (a box crossing the left/top border moves inside; x2/y2 may
    # pass the border).
    _C.MODEL.GGNET.TEST.BOX_CLIP = BOX_CLIP_CUT


def _add_external_detections(_C):
    """MODEL.GGNET.EXTERNAL_DETECTIONS: external human/object candidates (issue 13; paper Table 5,
    GGNet-double-dagger: GGNet's interaction branch with another detector's boxes, DRG's detections; PPDM-double-dagger
    likewise). Inference only: training is unchanged. Layouts, class mapping and coordinate handling:
    ggnet_d2/data/external_detections.py (files, ground truth), ggnet_d2/modeling/external/ (the detectron2
    detector), docs/interfaces.md."""
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS = CN()
    # "" = GGNet's own object heads (Sec. 3.4); "detectron2" = a detectron2 detector run on each image; "file" = a
    # detection file; "ground_truth" = the dataset's boxes with score 1 (upper bound); or a registered source's name.
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE = ""
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.CONFIG_FILE = ""  # "detectron2": its config, merged onto detectron2's get_cfg()
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.DETECTOR_OPTS = []  # "detectron2": KEY VALUE overrides of its config
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.WEIGHTS = ""  # "detectron2": weights, via DetectionCheckpointer ("" = random)
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.FILE = ""  # "file": COCO results JSON or per-image JSON (formats/detections.py)
    # Source class -> dataset contiguous class (entry j for detector class j / file category_id j; -1 = drop).
    # Empty: detectron2 by thing_classes names, file by the dataset's thing_dataset_id_to_contiguous_id.
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.CLASS_MAP = []
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.TOPK = 100  # humans and objects kept per image (Sec. 3.4's K; <= 0: all)
    _C.MODEL.GGNET.EXTERNAL_DETECTIONS.SCORE_THRESH = 0.0  # detections below this score are not candidates


def _add_backbones(_C):
    """MODEL.BACKBONE, MODEL.{DLA,HOURGLASS,RESNET_DECONV} and the deformable-convolution backend (Sec. 4.2).
    Channel lists are configurable so tests can shrink them."""
    _C.MODEL.BACKBONE.NAME = "build_dla34_backbone"  # Sec. 4.2: DLA-34 (ablations) / Hourglass-104 (main results)
    _C.MODEL.DLA = CN()
    _C.MODEL.DLA.LEVELS = [1, 1, 1, 2, 2, 1]  # DLA-34 (Yu et al. 2018), as in CenterNet
    _C.MODEL.DLA.CHANNELS = [16, 32, 64, 128, 256, 512]
    _C.MODEL.DLA.UP_CONV = UP_CONV_DCN  # CenterNet's DLAUp/IDAUp uses modulated deformable convs; "conv" = plain 3x3
    _C.MODEL.HOURGLASS = CN()
    _C.MODEL.HOURGLASS.NUM_STACKS = 2  # Hourglass-104 (CornerNet/CenterNet): two stacks
    _C.MODEL.HOURGLASS.DIMS = [256, 256, 384, 384, 384, 512]
    _C.MODEL.HOURGLASS.MODULES = [2, 2, 2, 2, 2, 4]
    _C.MODEL.HOURGLASS.STEM_CHANNELS = 128
    _C.MODEL.RESNET_DECONV = CN()
    _C.MODEL.RESNET_DECONV.DEPTH = 18  # light CPU configs (CenterNet's ResNet-18 + deconvolution upsampling)
    _C.MODEL.RESNET_DECONV.DECONV_CHANNELS = [256, 128, 64]
    _C.MODEL.RESNET_DECONV.IMAGENET_PRETRAINED = False  # torchvision weights need a download; off by default
    # Deformable-convolution backend (issue 14: speed only, same maths; DCNv2, Zhu et al. 2019, as used by the gaze
    # steps, Sec. 3.2, and CenterNet's DLAUp). "torchvision" = torchvision.ops.deform_conv2d; "gather_gemm" =
    # ggnet_d2/layers/deform_conv_gemm.py (multi-threaded CPU forward and backward); "auto" = per device type from
    # the table AUTO_BACKEND_BY_DEVICE in ggnet_d2/layers/deform_conv.py (measured with tools/benchmark_gaze.py).
    _C.MODEL.DEFORM_CONV_BACKEND = "auto"


def _add_datasets_hoi(_C):
    """DATASETS.HOI: own datasets and bad input (issue 12)."""
    _C.DATASETS.HOI = CN()
    _C.DATASETS.HOI.BAD_RECORD_POLICY = POLICY_SKIP  # "skip": count, log and drop bad records; "error": raise
    _C.DATASETS.HOI.CHECK_IMAGE_FILES = True  # missing image files are bad records
    # (name, json_file, image_root) of one's own PPDM/GGNet-style HOI JSON datasets, registered by setup_cfg in every
    # process (register_hoi_json; the annotation layout PPDM reads in src/lib/datasets/hico.py).
    _C.DATASETS.HOI.CUSTOM = []
    # Boxes crossing the image border by at most this many original pixels are clipped to it instead of dropping the
    # image (PPDM clips every box to the map in src/lib/datasets/hico.py __getitem__; 0 = clip nothing).
    _C.DATASETS.HOI.BOX_CLIP_TOLERANCE = 2.0
    # One class and verb table for every DATASETS.HOI.CUSTOM file: [[file_id, name], ...] (contiguous order =
    # ascending file id). Empty = the ids found in the training files (DATASETS.TRAIN), named by their ids; every other
    # file is checked against the table (an unknown id is an error naming it; ggnet_d2/data/datasets/custom.py). With
    # names, the person class is found by name ("person" or "human", any case) unless MODEL.GGNET.PERSON_CLASS_ID is
    # set to another non-zero class.
    _C.DATASETS.HOI.CUSTOM_THING_CLASSES = []
    _C.DATASETS.HOI.CUSTOM_VERB_CLASSES = []
    # Zero-shot HICO-DET splits (ggnet_d2/data/zero_shot.py): "" | "rare_first" | "non_rare_first" | "unseen_object"
    # | "unseen_verb" (GEN-VLKT's hico_unseen_index) | "unseen_action_eoid" (EoID's UA_HOI_IDX) | "rare_first_eoid"
    # (EoID's RARE_HOI_IDX: all 138 rare classes) | "custom". The evaluator then adds Full / Seen / Unseen mAP.
    _C.DATASETS.HOI.ZERO_SHOT_SPLIT = ""
    _C.DATASETS.HOI.ZERO_SHOT_UNSEEN = []  # split "custom": unseen HOI class ids (the dataset's hoi_classes)
    # How unseen HOIs leave the training set: "pair" = GEN-VLKT (datasets/hico.py): every HOI of a human-object pair
    # with an unseen HOI is dropped, boxes used only by dropped pairs too, images left without HOI dropped; "label" =
    # EoID (hico_ua_base.py / hico_uc_base.py): only the unseen HOI annotations go, every image and box is kept.
    _C.DATASETS.HOI.ZERO_SHOT_REMOVAL = "pair"


def _add_solver(_C):
    """SOLVER and CUDNN_BENCHMARK: optimisation, Sec. 4.2: Adam, batch 23, LR 1.5e-4 (HICO-DET), 120 epochs, LR x0.1
    at epoch 90. HICO-DET train has 38,118 images: 38,118 / 23 = 1,657.3 iterations per epoch, so 120 epochs =
    198,887 iterations and epoch 90 = 149,165."""
    _C.SOLVER.OPTIMIZER = OPTIMIZER_ADAM  # "ADAM" (paper) or "SGD" (detectron2's default)
    _C.SOLVER.BASE_LR = 1.5e-4
    _C.SOLVER.IMS_PER_BATCH = 23
    _C.SOLVER.MAX_ITER = 198887
    _C.SOLVER.STEPS = (149165,)
    _C.SOLVER.GAMMA = 0.1
    _C.SOLVER.WARMUP_ITERS = 0  # the paper uses no warm-up
    _C.SOLVER.WEIGHT_DECAY = 0.0  # Adam without weight decay, as CenterNet/PPDM
    _C.SOLVER.CHECKPOINT_PERIOD = 5000
    # LR multiplier of the glance parameters (glance_conv, glance_cls: the authors' "hm_rel" head). Authors: main.py
    # with --recover_loss_weight gives every parameter whose name contains "hm_rel" lr / refine_weight = 10x.
    _C.SOLVER.GLANCE_LR_FACTOR = 1.0
    # Iterations between host reads of the deformable convolutions' deferred non-finite flags (CUDA; the CPU checks
    # before each op): engine/hooks.py FiniteCheckHook. 20 = detectron2's PeriodicWriter period (DefaultTrainer).
    _C.SOLVER.FINITE_CHECK_PERIOD = 20
    # Iterations between host reads of the training losses (engine/deferred_metrics.py): the step trainer keeps them
    # on the device and writes them to detectron2's event storage, each under its own iteration, every N iterations
    # and at the last one; metrics.json and the console are unchanged. Must divide 20 (detectron2's writer period);
    # 1 = detectron2's read of every loss in every step (one CUDA synchronisation per step).
    _C.SOLVER.METRICS_SYNC_PERIOD = 20
    # CUDA: SOLVER.AMP.ENABLED (detectron2's AMPTrainer) and CUDNN_BENCHMARK (detectron2's key, applied by
    # default_setup) are detectron2's own; GGNetTrainer refuses float16 AMP off CUDA and checks that a CUDA run
    # stays on it.
    _C.SOLVER.AMP.ENABLED = False
    _C.CUDNN_BENCHMARK = False  # detectron2's default; the authors' main.py sets cudnn.benchmark = True


def _add_test_hoi(_C):
    """TEST and TEST.HOI: HOI evaluation (issue 15: official metric, prediction-file checks)."""
    _C.TEST.EVAL_PERIOD = 0
    _C.TEST.HOI = CN()
    # Images of the test split without a prediction entry (e.g. their files were missing, so the model never saw
    # them) make the evaluation fail, as the official protocols score every test image (eval_one.m, vsrl_eval.py);
    # True scores them as images without detections, with a warning.
    _C.TEST.HOI.ALLOW_MISSING_IMAGES = False
    # A prediction entry of an image that is not in the test split is an error naming it (it would otherwise be
    # scored as an image of false positives); True leaves such entries out with a warning (evaluate_hoi.py's
    # --drop-unknown-images).
    _C.TEST.HOI.DROP_UNKNOWN_IMAGES = False


def _add_ggnet_language(_C):
    """MODEL.GGNET.VERB_CLASSIFIER, MODEL.GGNET.TEXT and MODEL.GGNET.DISTILL: verbs from language and CLIP
    distillation (issue 23)."""
    # Verb classifier at the end of the glance and every gaze step: "conv" = V-channel 1x1 conv (Sec. 3.2); "text" =
    # per-pixel projection to the text dimension, cosine similarity with fixed CLIP text embeddings x a learnable
    # scale + a bias (GEN-VLKT's / EoID's text classifier, ggnet_d2/modeling/heads/verb_classifier.py). With "text",
    # NUM_VERBS is the number of verbs in TEXT.EMBEDDINGS_FILE.
    _C.MODEL.GGNET.VERB_CLASSIFIER = "conv"
    _C.MODEL.GGNET.TEXT = CN()
    # .npz written by tools/build_text_embeddings.py (ggnet_d2/modeling/language/text_embeddings.py); inference
    # needs only this file.
    _C.MODEL.GGNET.TEXT.EMBEDDINGS_FILE = ""
    _C.MODEL.GGNET.TEXT.CLIP_MODEL = "ViT-B-32"  # open_clip model; ViT-B/32 as GEN-VLKT (Sec. 4.2) and EoID use
    _C.MODEL.GGNET.TEXT.CLIP_PRETRAINED = "openai"  # open_clip pretrained tag (OpenAI's CLIP weights); "" = random
    _C.MODEL.GGNET.TEXT.PROMPT = "hoi"  # verb embeddings from: "hoi" | "verb" | "description" (language/prompts.py)
    _C.MODEL.GGNET.TEXT.HOI_TEMPLATE = "a photo of a person {verb} {object}"  # GEN-VLKT / EoID HOI prompt form
    _C.MODEL.GGNET.TEXT.VERB_TEMPLATE = "a photo of a person {verb}"
    # RmLR-style structured description of a verb (the objects it takes); DESCRIPTIONS_FILE adds sentences per verb
    _C.MODEL.GGNET.TEXT.DESCRIPTION_TEMPLATE = "a photo of a person {verb} something, such as {objects}"
    _C.MODEL.GGNET.TEXT.DESCRIPTIONS_FILE = ""  # JSON {verb label: [sentence, ...]}
    # initial logit scale: CLIP's initial temperature 1/0.07 (Radford et al. 2021; GEN-VLKT's logit_scale)
    _C.MODEL.GGNET.TEXT.LOGIT_SCALE_INIT = 1.0 / 0.07
    # CLIP distillation (EoID, region level; ggnet_d2/modeling/distillation/), training only: a frozen CLIP
    # (TEXT.CLIP_MODEL / CLIP_PRETRAINED) scores the union box of each annotated pair against the HOI embeddings of
    # TEXT.EMBEDDINGS_FILE; the final heatmap's verb logits at the pair's interaction point are pulled towards them.
    _C.MODEL.GGNET.DISTILL = CN()
    _C.MODEL.GGNET.DISTILL.ENABLED = False
    # weight of loss_distill. EoID's --clip_loss_coef is 700 (main.py) on a loss averaged over all verb entries of
    # all queries; ours is averaged over the distilled entries only, so its scale differs: 1 is our choice.
    _C.MODEL.GGNET.DISTILL.WEIGHT = 1.0
    _C.MODEL.GGNET.DISTILL.TEMPERATURE = 0.0  # cosine multiplier; <= 0: CLIP's own logit_scale.exp() (EoID)
    _C.MODEL.GGNET.DISTILL.IMAGE_SIZE = 224  # teacher input side (ViT-B/32: 224, EoID's CLIP preprocess)
    _C.MODEL.GGNET.DISTILL.CACHE = True  # keep teacher targets per (image, pair) in memory (crops are unaugmented)
    _C.MODEL.GGNET.DISTILL.CLIP_CONFIG_FILE = ""  # JSON open_clip model config registered as TEXT.CLIP_MODEL first
    # Student scores distilled: "final" = the last gaze step's (computed from the ActPoints' aggregated features,
    # the option; EoID distils its single verb head); "all" = the glance and every gaze step.
    _C.MODEL.GGNET.DISTILL.STEPS = "final"
