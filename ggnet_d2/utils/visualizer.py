"""Drawing and JSON export of HOI triplets (GGNet's ``hoi_instances``, docs/interfaces.md) for the demo.

Each triplet is drawn as its subject and object boxes joined by a line between the box centers, labelled
"verb score"; optionally the interaction point and its ActPoints (the final gaze step's action-aware points),
coloured by their weights as in the paper's Fig. 4 (Zhong et al., CVPR 2021).
"""
import matplotlib.cm
import numpy as np
import torch
from detectron2.utils.colormap import colormap
from detectron2.utils.visualizer import Visualizer

__all__ = ["HOIVisualizer", "hoi_instances_to_json"]

_REQUIRED_FIELDS = ("subject_boxes", "object_boxes", "object_classes", "verb_classes", "scores")


def _check_fields(hoi_instances):
    missing = [f for f in _REQUIRED_FIELDS if not hoi_instances.has(f)]
    if missing:
        raise ValueError(f"hoi_instances lacks the field(s) {missing} (docs/interfaces.md, 'Model outputs'); "
                         f"has {sorted(hoi_instances.get_fields())}")


def _numpy(x):
    if hasattr(x, "tensor"):  # detectron2 Boxes
        x = x.tensor
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _name(names, index, kind, row):
    if names is None:
        return str(index)
    if not 0 <= index < len(names):
        raise ValueError(f"hoi_instances row {row}: {kind} id {index} outside the metadata's {len(names)} "
                         f"{kind} names")
    return names[index]


def _keep(hoi_instances, threshold):
    scores = _numpy(hoi_instances.scores).astype(np.float64)
    return np.nonzero(scores >= threshold)[0]


def hoi_instances_to_json(hoi_instances, metadata=None, threshold=0.0):
    """HOI triplets as JSON-ready dicts (the demo's per-image output).

    Args:
        hoi_instances (detectron2.structures.Instances): the model's ``"hoi_instances"`` (docs/interfaces.md):
            ``subject_boxes``/``object_boxes`` (Boxes (M, 4), XYXY abs, original pixels), ``object_classes``,
            ``verb_classes`` (M,) int, ``scores`` (M,); optional ``subject_indices``/``object_indices`` (M,),
            ``interaction_points`` (M, 2), ``actpoints`` (M, n, 2) and ``actpoint_weights`` (M, n), original pixels.
        metadata (detectron2 Metadata or None): ``thing_classes`` / ``verb_classes`` give names; without them the
            names are the ids as strings.
        threshold (float): triplets with score >= threshold are kept.

    Returns:
        list[dict]: one per kept triplet, in the input order (the model's: score descending), with ``subject_box``,
        ``object_box`` ([x1, y1, x2, y2] original pixels), ``object_class_id``, ``object_class``, ``verb_id``,
        ``verb``, ``score`` and, when present, ``subject_index``, ``object_index``, ``interaction_point`` ([x, y]),
        ``actpoints`` ([[x, y], ...]) and ``actpoint_weights``.

    Raises:
        ValueError: a required field is missing, or a class / verb id has no name in ``metadata``.
    """
    _check_fields(hoi_instances)
    thing_names = getattr(metadata, "thing_classes", None) if metadata is not None else None
    verb_names = getattr(metadata, "verb_classes", None) if metadata is not None else None
    fields = {k: _numpy(v) for k, v in hoi_instances.get_fields().items()}
    out = []
    for i in _keep(hoi_instances, threshold):
        obj, verb = int(fields["object_classes"][i]), int(fields["verb_classes"][i])
        item = {
            "subject_box": [float(v) for v in fields["subject_boxes"][i]],
            "object_box": [float(v) for v in fields["object_boxes"][i]],
            "object_class_id": obj,
            "object_class": _name(thing_names, obj, "object class", int(i)),
            "verb_id": verb,
            "verb": _name(verb_names, verb, "verb", int(i)),
            "score": float(fields["scores"][i]),
        }
        for src, dst in (("subject_indices", "subject_index"), ("object_indices", "object_index")):
            if src in fields:
                item[dst] = int(fields[src][i])
        if "interaction_points" in fields:
            item["interaction_point"] = [float(v) for v in fields["interaction_points"][i]]
        if "actpoints" in fields:
            item["actpoints"] = [[float(x), float(y)] for x, y in fields["actpoints"][i]]
        if "actpoint_weights" in fields:
            item["actpoint_weights"] = [float(w) for w in fields["actpoint_weights"][i]]
        out.append(item)
    return out


class HOIVisualizer(Visualizer):
    """detectron2 ``Visualizer`` that draws HOI triplets.

    Args:
        img_rgb (np.ndarray): (H, W, 3) uint8 RGB image, original pixels.
        metadata (Metadata or None): ``thing_classes`` / ``verb_classes`` for the labels (ids are used otherwise).
        scale (float): output scale (detectron2).
        actpoint_cmap (str): matplotlib colormap for ActPoint weights in [0, 1] (Fig. 4 style: blue low, red high).
    """

    def __init__(self, img_rgb, metadata=None, scale=1.0, actpoint_cmap="jet"):
        super().__init__(img_rgb, metadata, scale=scale)
        self._cmap = matplotlib.cm.get_cmap(actpoint_cmap) if hasattr(matplotlib.cm, "get_cmap") else \
            matplotlib.colormaps[actpoint_cmap]
        self._verb_colors = colormap(rgb=True, maximum=1)

    def verb_color(self, verb_id):
        """Fixed RGB colour (floats in [0, 1]) of a verb, from detectron2's colormap."""
        return tuple(self._verb_colors[int(verb_id) % len(self._verb_colors)])

    def draw_hoi_triplet(self, subject_box, object_box, label, color, interaction_point=None, actpoints=None,
                         actpoint_weights=None):
        """Draw one triplet.

        Args:
            subject_box, object_box (sequence of 4 floats): XYXY abs, original pixels.
            label (str): text at the middle of the subject-object line.
            color: matplotlib colour of the boxes and the line.
            interaction_point (sequence of 2 floats or None): (x, y), original pixels.
            actpoints ((n, 2) array or None): ActPoints (x, y), original pixels.
            actpoint_weights ((n,) array or None): weights in [0, 1] (clipped), coloured by ``actpoint_cmap``.

        Returns:
            VisImage: ``self.output``.
        """
        self.draw_box(subject_box, edge_color=color)
        self.draw_box(object_box, edge_color=color, line_style="--")
        sx, sy = (subject_box[0] + subject_box[2]) / 2, (subject_box[1] + subject_box[3]) / 2
        ox, oy = (object_box[0] + object_box[2]) / 2, (object_box[1] + object_box[3]) / 2
        self.draw_line([sx, ox], [sy, oy], color=color, linewidth=max(self._default_font_size / 4, 1))
        self.draw_circle((sx, sy), color=color, radius=max(self._default_font_size / 5, 2))
        self.draw_circle((ox, oy), color=color, radius=max(self._default_font_size / 5, 2))
        if actpoints is not None and len(actpoints):
            weights = np.ones(len(actpoints)) if actpoint_weights is None else np.clip(actpoint_weights, 0, 1)
            for (x, y), w in zip(actpoints, weights):
                self.draw_circle((float(x), float(y)), color=self._cmap(float(w))[:3],
                                 radius=max(self._default_font_size / 6, 1.5))
        if interaction_point is not None:
            self.draw_circle((float(interaction_point[0]), float(interaction_point[1])), color="white",
                             radius=max(self._default_font_size / 3, 3))
            self.draw_circle((float(interaction_point[0]), float(interaction_point[1])), color=color,
                             radius=max(self._default_font_size / 5, 2))
        self.draw_text(label, ((sx + ox) / 2, (sy + oy) / 2), color=color, font_size=self._default_font_size)
        return self.output

    def draw_hoi_predictions(self, hoi_instances, threshold=0.0, show_actpoints=False, max_triplets=None):
        """Draw every triplet of ``hoi_instances`` whose score is >= ``threshold``.

        Args:
            hoi_instances (Instances): the model's ``"hoi_instances"`` (see :func:`hoi_instances_to_json`),
                original pixels of this image.
            threshold (float): minimal score.
            show_actpoints (bool): also draw the interaction point and its ActPoints (needs ``interaction_points``;
                ActPoints are drawn when ``actpoints`` has n > 0 points).
            max_triplets (int or None): draw at most this many of the best-scoring kept triplets.

        Returns:
            VisImage: ``self.output``.

        Raises:
            ValueError: missing required fields, unknown class / verb ids for the metadata, or ``show_actpoints``
                without ``interaction_points``.
        """
        items = hoi_instances_to_json(hoi_instances, self.metadata if self.metadata is not None else None,
                                      threshold)
        if show_actpoints and len(hoi_instances) and not hoi_instances.has("interaction_points"):
            raise ValueError("show_actpoints needs hoi_instances.interaction_points (docs/interfaces.md)")
        items.sort(key=lambda t: -t["score"])
        if max_triplets is not None:
            items = items[:max_triplets]
        for t in reversed(items):  # best last, so it ends on top
            self.draw_hoi_triplet(
                t["subject_box"], t["object_box"], f"{t['verb']} {t['score']:.2f}", self.verb_color(t["verb_id"]),
                interaction_point=t.get("interaction_point") if show_actpoints else None,
                actpoints=np.asarray(t["actpoints"]) if show_actpoints and t.get("actpoints") else None,
                actpoint_weights=np.asarray(t["actpoint_weights"]) if t.get("actpoint_weights") else None,
            )
        return self.output
