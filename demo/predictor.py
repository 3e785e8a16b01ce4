"""Single-image GGNet inference and HOI visualization for the demo (modelled on detectron2's demo/predictor.py)."""
import cv2
import torch
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.modeling import build_model

from ggnet_d2.data import build_hoi_test_augmentation
from ggnet_d2.data.external_detections import build_external_inputs
from ggnet_d2.modeling.checkpoint import load_inference_weights
from ggnet_d2.utils.visualizer import HOIVisualizer, hoi_instances_to_json

__all__ = ["HOIPredictor", "VisualizationDemo"]


class HOIPredictor:
    """Build GGNet from ``cfg``, load ``cfg.MODEL.WEIGHTS`` and run it on one image.

    The image is resized by ``build_hoi_test_augmentation(cfg)`` (longer side ``INPUT.GGNET.TEST_SIZE``, Sec. 4.2)
    and the model maps its outputs back to the original pixels through ``height`` / ``width``.

    Args:
        cfg (CfgNode): a GGNet config (``add_ggnet_config``). ``MODEL.WEIGHTS`` must provide every parameter;
            weights that leave some at initialisation (an empty path included) raise ``UninitialisedWeightsError``
            unless ``MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL``.
    """

    def __init__(self, cfg):
        self.cfg = cfg.clone()
        self.model = build_model(self.cfg)
        self.model.eval()
        load_inference_weights(self.model, self.cfg)
        self.aug = T.AugmentationList(build_hoi_test_augmentation(cfg))
        # the external-candidate fields the test mapper would add (MODEL.GGNET.EXTERNAL_DETECTIONS), or None
        self.external_inputs = build_external_inputs(cfg)
        self.input_format = cfg.INPUT.FORMAT
        if self.input_format not in ("RGB", "BGR"):
            raise ValueError(f"INPUT.FORMAT must be 'RGB' or 'BGR', got {self.input_format!r}")
        self.metadata = MetadataCatalog.get(cfg.DATASETS.TEST[0]) if len(cfg.DATASETS.TEST) else None

    def __call__(self, original_image, file_name=None):
        """Run GGNet on one image.

        Args:
            original_image (np.ndarray): (H, W, 3) uint8, BGR (OpenCV's order), original pixels.
            file_name (str or None): the image's path, passed to the model as ``file_name``: a detection file
                (MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE "file") is looked up by it.

        Returns:
            dict: the model's output for this image (docs/interfaces.md): ``"instances"`` and ``"hoi_instances"``,
            boxes and points in original pixels.

        Raises:
            ValueError: the image is not (H, W, 3).
        """
        if original_image.ndim != 3 or original_image.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) BGR image, got shape {original_image.shape}")
        with torch.no_grad():
            if self.input_format == "RGB":
                original_image = original_image[:, :, ::-1]
            height, width = original_image.shape[:2]
            aug_input = T.AugInput(original_image)
            self.aug(aug_input)
            image = torch.as_tensor(aug_input.image.astype("float32").transpose(2, 0, 1))
            inputs = {"image": image, "height": height, "width": width}
            if file_name:
                inputs["file_name"] = file_name
            if self.external_inputs is not None:
                inputs.update(self.external_inputs(inputs, original_image))
            return self.model([inputs])[0]


class VisualizationDemo:
    """Predictor + :class:`HOIVisualizer`: an image or video in, drawn triplets and their JSON out.

    Args:
        cfg (CfgNode): see :class:`HOIPredictor`.
        confidence_threshold (float): triplets with score >= this are drawn and exported.
        show_actpoints (bool): draw interaction points and ActPoints coloured by weight (paper Fig. 4).
    """

    def __init__(self, cfg, confidence_threshold=0.5, show_actpoints=False):
        self.predictor = HOIPredictor(cfg)
        self.metadata = self.predictor.metadata
        self.threshold = confidence_threshold
        self.show_actpoints = show_actpoints

    def run_on_image(self, image, file_name=None):
        """Predict and draw one BGR image (H, W, 3) uint8 (``file_name``: see :meth:`HOIPredictor.__call__`).

        Returns:
            (predictions, vis, triplets): the model's dict, the drawn ``VisImage`` (RGB) and the triplet list of
            :func:`hoi_instances_to_json` (original pixels).
        """
        predictions = self.predictor(image, file_name)
        hoi = predictions["hoi_instances"].to("cpu")
        # Small images (e.g. the 128 px synthetic set) are drawn enlarged so the labels stay readable.
        scale = max(1.0, 512.0 / max(image.shape[:2]))
        vis = HOIVisualizer(image[:, :, ::-1], self.metadata, scale=scale).draw_hoi_predictions(
            hoi, threshold=self.threshold, show_actpoints=self.show_actpoints)
        return predictions, vis, hoi_instances_to_json(hoi, self.metadata, self.threshold)

    def run_on_video(self, video):
        """Yield ``(frame_bgr_drawn, triplets)`` for every frame of an opened ``cv2.VideoCapture``."""
        while video.isOpened():
            ok, frame = video.read()
            if not ok:
                break
            _, vis, triplets = self.run_on_image(frame)
            yield cv2.cvtColor(vis.get_image(), cv2.COLOR_RGB2BGR), triplets
