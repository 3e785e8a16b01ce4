"""Run an exported GGNet with numpy, OpenCV and onnxruntime only (no torch, no detectron2).

An export folder (``tools/deploy/export_model.py``) holds the network (``model.onnx`` or ``model.ts``) and
``ggnet_deploy.json``, the settings this module needs: test input (size, placement, channel order, mean/std), box
clipping, score threshold, class and verb names, the dataset-id maps of the prediction format.

Steps per image, each the numpy twin of the PyTorch test path it names:

1. ``preprocess``: channel order (INPUT.FORMAT), resize at the test placement -- "top_left": longer side TEST_SIZE
   by Pillow's bilinear resampling (``resize_bilinear_pillow``; detectron2's ``ResizeLongestEdge`` resizes uint8
   images with Pillow), "center": the authors' centring warp (``cv2.warpAffine``, as ``data/test_placement.py``)
   -- black padding to the square network input, then ``(x - PIXEL_MEAN) / PIXEL_STD`` (``GGNet.preprocess_image``).
2. the network (``GGNetDeployAdapter``: backbone, heads and the whole of Sec. 3.4's decoding), fixed-size outputs in
   input pixels.
3. ``postprocess``: keep valid triplets with score >= SCORE_THRESH, map boxes and points to original pixels (the
   inverse of step 1's resize/placement) and clip them ("clip" or the authors' ``bbox_clip``,
   "clamp_corner_min_side"):
   ``HOIPostProcessor.to_instances``.

This file imports nothing of ggnet_d2, torch or detectron2, so it can be copied next to an exported model.
"""
import json
import os

import cv2
import numpy as np

__all__ = ["DEPLOY_SPEC_FILE", "load_deploy_spec", "resize_bilinear_pillow", "preprocess", "postprocess",
           "prediction_entry", "ONNXRuntimeNetwork", "HOIRuntimePredictor", "find_model_file"]

DEPLOY_SPEC_FILE = "ggnet_deploy.json"
MODEL_FILES = {"onnx": "model.onnx", "torchscript": "model.ts"}
_PRECISION_BITS = 32 - 8 - 2  # Pillow's fixed-point coefficients for 8-bit images (libImaging/Resample.c)


def load_deploy_spec(path):
    """Read ``ggnet_deploy.json`` (``path``: the file or its folder).

    Raises:
        FileNotFoundError: no such file. ValueError: not JSON, or a key this module needs is missing (named).
    """
    if os.path.isdir(path):
        path = os.path.join(path, DEPLOY_SPEC_FILE)
    with open(path, encoding="utf-8") as f:
        try:
            spec = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a JSON file ({e})") from None
    required = ("input_side", "test_size", "test_placement", "input_format", "pixel_mean", "pixel_std",
                "box_clip", "score_thresh", "person_class_id", "output_names", "thing_file_ids", "verb_file_ids")
    missing = [k for k in required if k not in spec]
    if missing:
        raise ValueError(f"{path}: missing keys {missing} (write it with tools/deploy/export_model.py)")
    return spec


def find_model_file(folder, backend):
    """Path of the exported network of ``backend`` ("onnx" | "torchscript") in an export folder.

    Raises:
        FileNotFoundError: naming the missing file and the command that writes it.
    """
    path = os.path.join(folder, MODEL_FILES[backend])
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: export it with tools/deploy/export_model.py --format {backend} "
                                f"--output {folder}")
    return path


def _pillow_coefficients(in_size, out_size):
    """Pillow's bilinear (triangle) filter coefficients of one axis, support scaled by the reduction factor
    (antialiasing), as ``precompute_coeffs`` + ``normalize_coeffs_8bpc``: first tap (out_size,), taps (out_size, k)
    int64 fixed-point with 22 fractional bits."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = filterscale  # bilinear support 1.0
    ksize = int(np.ceil(support)) * 2 + 1
    center = (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    xmin = np.trunc(center - support + 0.5).astype(np.int64).clip(min=0)
    count = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), in_size) - xmin
    taps = np.arange(ksize)[None, :]
    w = np.abs((taps + xmin[:, None] - center[:, None] + 0.5) * (1.0 / filterscale))
    w = np.where((w < 1.0) & (taps < count[:, None]), 1.0 - w, 0.0)
    total = np.zeros((out_size, 1))
    for j in range(ksize):  # sequential sum, as Pillow's loop (numpy's pairwise sum rounds differently)
        total = total + w[:, j:j + 1]
    w = np.where(total != 0, w / np.where(total != 0, total, 1.0), w)
    fixed = np.trunc(np.where(w < 0, -0.5, 0.5) + w * (1 << _PRECISION_BITS)).astype(np.int64)
    return xmin, fixed


def _resample_axis(img, out_size, axis):
    xmin, k = _pillow_coefficients(img.shape[axis], out_size)
    acc = np.full(img.shape[:axis] + (out_size,) + img.shape[axis + 1:], 1 << (_PRECISION_BITS - 1), np.int64)
    shape = [1] * img.ndim
    shape[axis] = out_size
    for j in range(k.shape[1]):
        idx = np.minimum(xmin + j, img.shape[axis] - 1)  # taps past the end have weight 0
        acc += np.take(img, idx, axis=axis).astype(np.int64) * k[:, j].reshape(shape)
    return np.clip(acc >> _PRECISION_BITS, 0, 255).astype(np.uint8)


def resize_bilinear_pillow(img, new_w, new_h):
    """Pillow's ``Image.resize((new_w, new_h), BILINEAR)`` of a uint8 (H, W[, C]) array, in numpy.

    What detectron2's ``ResizeTransform`` does to uint8 images (through Pillow), so the runtime's "top_left" input
    equals the PyTorch path's without Pillow. Two passes as Pillow <= 12 (libImaging/Resample.c): horizontal, then
    vertical, each rounded to 8 bits; the single-axis passes are bit-exact with Pillow 13. Pillow 13 runs the
    vertical pass first when the height shrinks much more than the width (Pillow PR #9549), which moves some
    pixels by one intensity level for such shapes.
    """
    out = img
    if new_w != img.shape[1]:
        out = _resample_axis(out, new_w, 1)
    if new_h != img.shape[0]:
        out = _resample_axis(out, new_h, 0)
    return out


def _to_original_transform(info, spec):
    """(scale (2,), offset (2,)) float32 with original = input pixels * scale + offset, per axis (x, y):
    ``HOIPostProcessor.to_original``."""
    height, width = info["height"], info["width"]
    if spec["test_placement"] == "center":
        k, tx, ty = _center_affine(height, width, spec["test_size"])
        return np.array([1 / k, 1 / k], np.float32), np.array([-tx / k, -ty / k], np.float32)
    rh, rw = info["resized"]
    return np.array([width / rw, height / rh], np.float32), np.zeros(2, np.float32)


def _center_affine(height, width, size):
    """The authors' centring warp: input = k * original + (tx, ty) (``data/test_placement.center_affine``)."""
    k = size / float(max(height, width))
    return k, size / 2.0 - k * width / 2.0, size / 2.0 - k * height / 2.0


def preprocess(image, spec):
    """One BGR uint8 image (H, W, 3), original pixels -> the network input and what ``postprocess`` needs.

    Returns:
        tuple: ``(chw, info)``: float32 (3, S, S) normalised input (S = ``spec["input_side"]``), and
        ``{"height", "width", "resized": (rh, rw)}`` (original size; the resized image's size before padding).

    Raises:
        ValueError: an image that is not (H, W, 3) uint8.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got shape {image.shape} dtype {image.dtype}")
    if spec["input_format"] == "RGB":
        image = image[:, :, ::-1]
    height, width = image.shape[:2]
    size = spec["test_size"]
    if spec["test_placement"] == "center":
        k, tx, ty = _center_affine(height, width, size)
        resized = cv2.warpAffine(np.ascontiguousarray(image), np.array([[k, 0.0, tx], [0.0, k, ty]]), (size, size),
                                 flags=cv2.INTER_LINEAR)
    else:
        # detectron2's ResizeLongestEdge.get_output_shape
        scale = size * 1.0 / max(height, width)
        new_h, new_w = int(height * scale + 0.5), int(width * scale + 0.5)
        resized = resize_bilinear_pillow(image, new_w, new_h)
    side = spec["input_side"]
    rh, rw = resized.shape[:2]
    if rh > side or rw > side:
        raise ValueError(f"resized image {rh}x{rw} exceeds the exported input {side}x{side}")
    padded = np.zeros((side, side, 3), np.float32)
    padded[:rh, :rw] = resized
    mean = np.asarray(spec["pixel_mean"], np.float32).reshape(3, 1, 1)
    std = np.asarray(spec["pixel_std"], np.float32).reshape(3, 1, 1)
    return (padded.transpose(2, 0, 1) - mean) / std, {"height": height, "width": width, "resized": (rh, rw)}


BOX_CLIPS = ("clip", "clamp_corner_min_side", "authors")  # "authors": the earlier name of the second


def _clip_boxes(boxes, height, width, mode):
    """Boxes (N, 4) float32 original pixels: "clip" cuts at the border (detectron2 ``Boxes.clip``);
    "clamp_corner_min_side" is the authors' ``bbox_clip`` (``modeling/postprocess/decode.clip_boxes_authors``: x1/y1
    into the image, sides in [10, image side], x2 = x1 + side).

    Raises:
        ValueError: another mode.
    """
    if mode not in BOX_CLIPS:
        raise ValueError(f"box_clip must be one of {BOX_CLIPS}, got {mode!r}")
    if mode == "clip":
        out = boxes.copy()
        out[:, 0::2] = np.clip(out[:, 0::2], 0, width)
        out[:, 1::2] = np.clip(out[:, 1::2], 0, height)
        return out
    x1 = np.minimum(np.maximum(boxes[:, 0], 0), width).astype(np.float32)
    y1 = np.minimum(np.maximum(boxes[:, 1], 0), height).astype(np.float32)
    w = np.maximum(np.minimum(boxes[:, 2] - boxes[:, 0], width), 10).astype(np.float32)
    h = np.maximum(np.minimum(boxes[:, 3] - boxes[:, 1], height), 10).astype(np.float32)
    return np.stack([x1, y1, x1 + w, y1 + h], axis=1)


def postprocess(outputs, index, info, spec):
    """Image ``index`` of the network's batched outputs -> detections and HOI triplets in original pixels.

    Args:
        outputs (dict[str, np.ndarray]): the network outputs by name (``GGNetDeployAdapter``), input pixels.
        index (int): image in the batch. info (dict): ``preprocess``'s. spec (dict): ``load_deploy_spec``'s.

    Returns:
        dict: ``"instances"``: ``boxes`` (N, 4) XYXY, ``scores`` (N,), ``classes`` (N,) int64 -- the human
        candidates, then the object candidates; ``"hoi"``: ``subject_boxes``, ``object_boxes`` (M, 4),
        ``subject_indices``, ``object_indices`` (M,) rows of ``instances``, ``object_classes``, ``verb_classes``
        (M,) int64, ``scores`` (M,) float32 (decreasing), ``interaction_points`` (M, 2), ``actpoints`` (M, n, 2),
        ``actpoint_weights`` (M, n); all in original pixels, as the PyTorch model's ``instances`` /
        ``hoi_instances`` (docs/interfaces.md, "Model outputs").
    """
    o = {k: v[index] for k, v in outputs.items()}
    height, width = info["height"], info["width"]
    scale, offset = _to_original_transform(info, spec)
    box_scale, box_offset = np.tile(scale, 2), np.tile(offset, 2)
    human_boxes = _clip_boxes(o["human_boxes"] * box_scale + box_offset, height, width, spec["box_clip"])
    object_boxes = _clip_boxes(o["candidate_object_boxes"] * box_scale + box_offset, height, width, spec["box_clip"])
    num_h = len(human_boxes)
    boxes = np.concatenate([human_boxes, object_boxes]).astype(np.float32)
    classes = np.concatenate([np.full(num_h, spec["person_class_id"], np.int64),
                              o["candidate_object_classes"].astype(np.int64)])
    keep = o["valid"].astype(bool) & (o["hoi_scores"] >= np.float32(spec["score_thresh"]))
    sub, obj = o["subject_index"][keep].astype(np.int64), o["object_index"][keep].astype(np.int64)
    hoi = {"subject_boxes": boxes[sub], "object_boxes": boxes[num_h + obj], "subject_indices": sub,
           "object_indices": num_h + obj, "object_classes": classes[num_h + obj],
           "verb_classes": o["verb_classes"][keep].astype(np.int64), "scores": o["hoi_scores"][keep],
           "interaction_points": o["interaction_points"][keep] * scale + offset,
           "actpoints": o["actpoints"][keep] * scale + offset, "actpoint_weights": o["actpoint_weights"][keep]}
    instances = {"boxes": boxes, "scores": np.concatenate([o["human_scores"], o["candidate_object_scores"]]),
                 "classes": classes}
    return {"instances": instances, "hoi": hoi, "height": height, "width": width}


def prediction_entry(result, file_name, spec, image_id=None):
    """One image's result as a prediction entry (docs/interfaces.md, "Prediction files"), ids in the dataset
    file's id space (``spec["thing_file_ids"]`` / ``["verb_file_ids"]``: file id of each contiguous id), boxes in
    original pixels: what ``tools/evaluate_hoi.py`` scores and ``--eval-only`` writes.

    Raises:
        ValueError: a class or verb id outside the spec's tables.
    """
    things, verbs = spec["thing_file_ids"], spec["verb_file_ids"]
    inst, hoi = result["instances"], result["hoi"]
    if len(inst["classes"]) and int(inst["classes"].max()) >= len(things):
        raise ValueError(f"class id {int(inst['classes'].max())} outside the {len(things)} classes of the spec")
    if len(hoi["verb_classes"]) and int(hoi["verb_classes"].max()) >= len(verbs):
        raise ValueError(f"verb id {int(hoi['verb_classes'].max())} outside the {len(verbs)} verbs of the spec")
    entry = {"file_name": os.path.basename(file_name),
             "predictions": [{"bbox": [float(v) for v in b], "category_id": int(things[int(c)])}
                             for b, c in zip(inst["boxes"].astype(np.float64), inst["classes"])],
             "hoi_prediction": [{"subject_id": int(s), "object_id": int(ob), "category_id": int(verbs[int(v)]),
                                 "score": float(sc)}
                                for s, ob, v, sc in zip(hoi["subject_indices"], hoi["object_indices"],
                                                        hoi["verb_classes"], hoi["scores"].astype(np.float64))]}
    if image_id is not None:
        entry["image_id"] = int(image_id)
    return entry


class ONNXRuntimeNetwork:
    """An exported ``model.onnx`` in an onnxruntime session: ``__call__(batch (B, 3, S, S) float32)`` -> dict of
    named numpy outputs. ``providers``: onnxruntime's list (default: CUDA when available, then CPU).

    Raises:
        ImportError: onnxruntime is not installed (``pip install 'ggnet_d2[deploy]'``).
    """

    def __init__(self, path, providers=None, threads=0):
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ImportError("onnxruntime is not installed: pip install onnxruntime (or the project's extra: "
                              "pip install -e '.[deploy]')") from e
        if providers is None:
            available = ort.get_available_providers()
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(path, sess_options=options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, batch):
        values = self.session.run(self.output_names, {self.input_name: np.ascontiguousarray(batch, np.float32)})
        return dict(zip(self.output_names, values))


class HOIRuntimePredictor:
    """Exported GGNet on images: ``preprocess`` -> network -> ``postprocess``, one batch per call.

    Args:
        folder (str): the export folder (``ggnet_deploy.json`` and the network file).
        network (callable or None): batch (B, 3, S, S) float32 -> dict of named numpy outputs; default an
            ``ONNXRuntimeNetwork`` of ``folder/model.onnx`` (a TorchScript twin: ``ggnet_d2.deploy.torchscript``).
        providers: onnxruntime providers for the default network.
    """

    def __init__(self, folder, network=None, providers=None):
        self.spec = load_deploy_spec(folder)
        self.network = network if network is not None else ONNXRuntimeNetwork(find_model_file(folder, "onnx"),
                                                                              providers)
        self.batch_size = int(self.spec.get("batch_size", 1))

    def __call__(self, image):
        """One BGR uint8 image (H, W, 3) -> ``postprocess``'s dict (original pixels)."""
        return self.predict([image])[0]

    def predict(self, images):
        """A list of BGR uint8 images -> a list of ``postprocess`` dicts; run in batches of the exported size
        (the last one padded with zeros)."""
        results = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start:start + self.batch_size]
            pre = [preprocess(im, self.spec) for im in chunk]
            batch = np.zeros((self.batch_size,) + pre[0][0].shape, np.float32)
            for i, (chw, _) in enumerate(pre):
                batch[i] = chw
            outputs = self.network(batch)
            results += [postprocess(outputs, i, info, self.spec) for i, (_, info) in enumerate(pre)]
        return results
