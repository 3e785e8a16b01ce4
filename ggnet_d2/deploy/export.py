"""Export GGNet to ONNX (torch's dynamo exporter) or TorchScript (``torch.jit.trace``), with ``ggnet_deploy.json``.

ONNX: ``torch.onnx.export(..., dynamo=True)`` (torch >= 2.6 with onnxscript) maps ``torchvision.ops.deform_conv2d``
with a mask to ONNX ``DeformConv`` (opset 19), which onnxruntime's CPU provider runs; the older TorchScript-based
exporter has no ``torchvision::deform_conv2d`` symbolic. ``aten.sort.stable`` (``decode_hoi``'s stable score sort)
has no translation in torch's ONNX library; it is exported as ONNX ``TopK`` over the whole axis, whose ties are
specified to keep the lower index first -- the stable order. Nor has ``aten._cdist_forward`` (``torch.cdist`` with
at most 25 points a side): exported as the difference-square-sum-sqrt formula it computes.

TorchScript: ``torch.jit.trace`` of ``GGNetDeployAdapter``. detectron2's ``TracingAdapter`` traces a model's whole
``forward``, whose outputs here are per-image ``Instances`` of data-dependent length mapped with each image's size;
the deployed graph ends before those steps (fixed-size tensors), so the adapter is traced directly. The file loads
with ``torch.jit.load`` after ``import torchvision`` (which registers ``torchvision::deform_conv2d``), without
ggnet_d2.
"""
import json
import os

import torch

from .adapter import GGNetDeployAdapter, deploy_input_side, export_mode
from .runtime import DEPLOY_SPEC_FILE, MODEL_FILES

__all__ = ["ONNX_OPSET", "export_onnx", "export_torchscript", "deploy_spec", "write_deploy_spec",
           "require_onnx_exporter", "prediction_id_tables"]

ONNX_OPSET = 19  # ONNX DeformConv exists from opset 19


def require_onnx_exporter():
    """Raise ImportError naming the install command when onnx / onnxscript (torch's dynamo exporter) are missing."""
    missing = []
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(f"ONNX export needs {' and '.join(missing)}: pip install -e '.[deploy]' (the deploy "
                          "extra: onnx, onnxscript, onnxruntime)")


def _sort_as_topk(self, dim=-1, descending=False, stable=None):
    """``aten.sort.stable`` as ONNX ``TopK`` with k = the axis length: TopK keeps equal values in index order."""
    from onnxscript import opset19 as op

    axis = dim % len(self.shape)
    k = op.Shape(self, start=axis, end=axis + 1)
    return op.TopK(self, k, axis=axis, largest=1 if descending else 0, sorted=1)


def _cdist_as_ops(x1, x2, p=2.0, compute_mode=None):
    """``aten._cdist_forward`` (``torch.cdist`` below 26 points, ``match_points``' Eq. 8 distances) as ONNX
    ops: sqrt of the summed squared coordinate differences, the direct formula torch's kernel computes."""
    from onnxscript import opset19 as op

    if p != 2.0:
        raise NotImplementedError(f"cdist with p={p}: only the Euclidean distance (p=2) is exported")
    diff = op.Sub(op.Unsqueeze(x1, op.Constant(value_ints=[-2])), op.Unsqueeze(x2, op.Constant(value_ints=[-3])))
    return op.Sqrt(op.ReduceSum(op.Mul(diff, diff), op.Constant(value_ints=[-1]), keepdims=0))


def example_input(cfg, batch_size=1):
    """A (batch_size, 3, S, S) float32 input on MODEL.DEVICE (S = ``deploy_input_side``)."""
    side = deploy_input_side(cfg)
    return torch.zeros(batch_size, 3, side, side, device=cfg.MODEL.DEVICE)


def _trace_input(cfg, batch_size):
    # A random input: tracing records data-independent graphs, but a non-degenerate input exercises every branch
    # the way real images do (no all-zero heatmaps).
    g = torch.Generator().manual_seed(0)
    side = deploy_input_side(cfg)
    return torch.randn(batch_size, 3, side, side, generator=g).to(cfg.MODEL.DEVICE)


def export_onnx(model, cfg, folder, batch_size=1, head_maps=False):
    """Write ``folder/model.onnx`` (opset ``ONNX_OPSET``, input ``images``) and ``ggnet_deploy.json``.

    Returns:
        str: the ONNX file's path.

    Raises:
        ImportError: onnx / onnxscript missing. ValueError: a model the graph cannot carry (``check_exportable``).
    """
    require_onnx_exporter()
    os.makedirs(folder, exist_ok=True)
    adapter = GGNetDeployAdapter(model, head_maps=head_maps).eval()
    path = os.path.join(folder, MODEL_FILES["onnx"])
    with export_mode(model), torch.no_grad():
        torch.onnx.export(adapter, (_trace_input(cfg, batch_size),), path, dynamo=True, opset_version=ONNX_OPSET,
                          input_names=["images"], output_names=list(adapter.output_names), optimize=True,
                          external_data=False, verbose=False,
                          custom_translation_table={torch.ops.aten.sort.stable: _sort_as_topk,
                                                    torch.ops.aten._cdist_forward.default: _cdist_as_ops})
    write_deploy_spec(cfg, model, folder, adapter.output_names, batch_size, "onnx")
    return path


def export_torchscript(model, cfg, folder, batch_size=1, head_maps=False):
    """Write ``folder/model.ts`` (``torch.jit.trace`` of ``GGNetDeployAdapter``) and ``ggnet_deploy.json``.

    Returns:
        str: the TorchScript file's path.
    """
    os.makedirs(folder, exist_ok=True)
    adapter = GGNetDeployAdapter(model, head_maps=head_maps).eval()
    path = os.path.join(folder, MODEL_FILES["torchscript"])
    with export_mode(model), torch.no_grad():
        traced = torch.jit.trace(adapter, (_trace_input(cfg, batch_size),), check_trace=False)
    traced.save(path)
    write_deploy_spec(cfg, model, folder, adapter.output_names, batch_size, "torchscript")
    return path


def _test_metadata(cfg):
    if not len(cfg.DATASETS.TEST):
        return None
    from detectron2.data import MetadataCatalog

    return MetadataCatalog.get(cfg.DATASETS.TEST[0])


def prediction_id_tables(cfg):
    """Dataset-file id of each contiguous class and verb id of the config's first test dataset (its
    ``thing_/verb_dataset_id_to_contiguous_id`` inverted; identity where it has none): the id space of prediction
    files (docs/interfaces.md).

    Returns:
        tuple[list[int], list[int]]: (NUM_CLASSES file ids, NUM_VERBS file ids).
    """
    meta = _test_metadata(cfg)

    def _inverse(key, n):
        try:
            mapping = getattr(meta, key, None) if meta is not None else None
        except OSError:  # a lazily resolved key whose annotation file is absent here: ids are the model's
            mapping = None
        inverse = {int(c): int(f) for f, c in (mapping or {}).items()}
        return [inverse.get(i, i) for i in range(n)]

    g = cfg.MODEL.GGNET
    return (_inverse("thing_dataset_id_to_contiguous_id", g.NUM_CLASSES),
            _inverse("verb_dataset_id_to_contiguous_id", g.NUM_VERBS))


def _metadata(cfg):
    """Names (None when the test dataset has none) and dataset-id tables for ``ggnet_deploy.json``."""
    meta = _test_metadata(cfg)
    names = {k: (list(getattr(meta, k, None) or []) or None) if meta is not None else None
             for k in ("thing_classes", "verb_classes")}
    things, verbs = prediction_id_tables(cfg)
    return dict(names, thing_file_ids=things, verb_file_ids=verbs)


def deploy_spec(cfg, model, output_names, batch_size, fmt):
    """The settings ``ggnet_d2.deploy.runtime`` reads (``ggnet_deploy.json``), from the config and the model."""
    post = model.postprocessor  # the settings as the model resolved them (renamed choice values included)
    spec = {
        "format": fmt, "batch_size": batch_size, "input_name": "images", "input_side": deploy_input_side(cfg),
        "test_size": cfg.INPUT.GGNET.TEST_SIZE, "test_placement": post.test_placement,
        "input_format": cfg.INPUT.FORMAT, "pixel_mean": [float(v) for v in cfg.MODEL.PIXEL_MEAN],
        "pixel_std": [float(v) for v in cfg.MODEL.PIXEL_STD], "box_clip": post.box_clip,
        "score_thresh": float(post.score_thresh), "match_rule": post.match_rule,
        "dedup_triplets": bool(post.dedup_triplets), "person_class_id": int(post.person_class_id),
        "output_stride": int(post.output_stride), "output_names": list(output_names),
        "valid_verb_object_source": getattr(model, "valid_verb_object_source", None),
        "onnx_opset": ONNX_OPSET if fmt == "onnx" else None, "torch_version": torch.__version__,
    }
    spec.update(_metadata(cfg))
    return spec


def write_deploy_spec(cfg, model, folder, output_names, batch_size, fmt):
    """Write ``folder/ggnet_deploy.json``; returns its path."""
    path = os.path.join(folder, DEPLOY_SPEC_FILE)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(deploy_spec(cfg, model, output_names, batch_size, fmt), f, indent=1)
    return path
