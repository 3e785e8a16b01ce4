"""Single-image GGNet inference and HOI visualization for the demo (modelled on detectron2's demo/predictor.py).

Three backends give the same outputs: ``pytorch`` (the model built from its config), ``onnxruntime`` and
``torchscript`` (an export folder of tools/deploy/export_model.py, run by ``ggnet_d2.deploy.runtime``).
"""
import cv2
import torch
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.data.catalog import Metadata
from detectron2.modeling import build_model
from detectron2.structures import Boxes, Instances

from ggnet_d2.data import build_hoi_test_augmentation
from ggnet_d2.data.external_detections import build_external_inputs
from ggnet_d2.deploy import runtime
from ggnet_d2.deploy.export import prediction_id_tables
from ggnet_d2.evaluation.prediction_format import outputs_to_prediction_entry
from ggnet_d2.modeling.checkpoint import load_inference_weights
from ggnet_d2.utils.visualizer import HOIVisualizer

__all__ = ["BACKENDS", "HOIPredictor", "DeployedHOIPredictor", "VisualizationDemo"]

BACKENDS = ("pytorch", "onnxruntime", "torchscript")


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
        self.id_tables = prediction_id_tables(cfg)

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

    def prediction_entry(self, output, file_name):
        """The model's output as a prediction entry (docs/interfaces.md, "Prediction files")."""
        things, verbs = self.id_tables
        return outputs_to_prediction_entry(file_name, output, dict(enumerate(things)), dict(enumerate(verbs)))


class DeployedHOIPredictor:
    """An export folder run by ``ggnet_d2.deploy.runtime.HOIRuntimePredictor`` (``backend`` "onnxruntime": the
    ONNX file in onnxruntime; "torchscript": the TorchScript file through ``torch.jit.load``), with the
    interface of :class:`HOIPredictor`: ``__call__`` returns ``{"instances", "hoi_instances"}`` as detectron2
    ``Instances`` in original pixels, ``metadata`` holds the export's class and verb names.
    """

    def __init__(self, folder, backend="onnxruntime"):
        if backend == "torchscript":
            from ggnet_d2.deploy.torchscript import TorchScriptNetwork

            spec = runtime.load_deploy_spec(folder)
            network = TorchScriptNetwork(runtime.find_model_file(folder, "torchscript"), spec["output_names"])
        else:
            network = None  # the runtime's onnxruntime session
        self.runtime = runtime.HOIRuntimePredictor(folder, network=network)
        spec = self.runtime.spec
        names = {k: spec[k] for k in ("thing_classes", "verb_classes") if spec.get(k)}
        self.metadata = Metadata(name=f"export:{folder}", **names) if names else None

    def __call__(self, original_image, file_name=None):
        result = self.runtime(original_image)
        size = (result["height"], result["width"])
        inst = Instances(size, pred_boxes=Boxes(torch.as_tensor(result["instances"]["boxes"])),
                         scores=torch.as_tensor(result["instances"]["scores"]),
                         pred_classes=torch.as_tensor(result["instances"]["classes"]))
        h = {k: torch.as_tensor(v) for k, v in result["hoi"].items()}
        hoi = Instances(size, subject_boxes=Boxes(h.pop("subject_boxes")), object_boxes=Boxes(h.pop("object_boxes")),
                        **h)
        return {"instances": inst, "hoi_instances": hoi, "deploy_result": result}

    def prediction_entry(self, output, file_name):
        """The runtime's prediction entry (``runtime.prediction_entry``)."""
        return runtime.prediction_entry(output["deploy_result"], file_name, self.runtime.spec)


class VisualizationDemo:
    """Predictor + :class:`HOIVisualizer`: an image or video in, drawn triplets and their prediction entry out.

    Args:
        cfg (CfgNode or None): see :class:`HOIPredictor` (``backend`` "pytorch").
        confidence_threshold (float): triplets with score >= this are drawn.
        show_actpoints (bool): draw interaction points and ActPoints coloured by weight (paper Fig. 4).
        backend (str): one of ``BACKENDS``. model_dir (str): the export folder of the other two backends.
    """

    def __init__(self, cfg, confidence_threshold=0.5, show_actpoints=False, backend="pytorch", model_dir=None):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.predictor = HOIPredictor(cfg) if backend == "pytorch" else DeployedHOIPredictor(model_dir, backend)
        self.metadata = self.predictor.metadata
        self.threshold = confidence_threshold
        self.show_actpoints = show_actpoints

    def run_on_image(self, image, file_name=None, entry_name=None):
        """Predict and draw one BGR image (H, W, 3) uint8 (``file_name``: see :meth:`HOIPredictor.__call__`;
        ``entry_name``: the entry's ``file_name`` when not ``file_name``).

        Returns:
            (predictions, vis, entry): the predictor's dict, the drawn ``VisImage`` (RGB) and the image's prediction
            entry (docs/interfaces.md, "Prediction files": every triplet, whatever the drawing threshold).
        """
        predictions = self.predictor(image, file_name)
        hoi = predictions["hoi_instances"].to("cpu")
        # Small images (e.g. the 128 px synthetic set) are drawn enlarged so the labels stay readable.
        scale = max(1.0, 512.0 / max(image.shape[:2]))
        vis = HOIVisualizer(image[:, :, ::-1], self.metadata, scale=scale).draw_hoi_predictions(
            hoi, threshold=self.threshold, show_actpoints=self.show_actpoints)
        return predictions, vis, self.predictor.prediction_entry(predictions, entry_name or file_name or "image")

    def run_on_video(self, video, name="frame"):
        """Yield ``(frame_bgr_drawn, entry)`` for every frame of an opened ``cv2.VideoCapture``; frame i's entry
        has ``file_name`` ``<name>_<i:06d>``."""
        i = 0
        while video.isOpened():
            ok, frame = video.read()
            if not ok:
                break
            _, vis, entry = self.run_on_image(frame, entry_name=f"{name}_{i:06d}")
            i += 1
            yield cv2.cvtColor(vis.get_image(), cv2.COLOR_RGB2BGR), entry
