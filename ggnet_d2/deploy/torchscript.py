"""Run an exported ``model.ts`` with torch only (no ggnet_d2 model code, no detectron2)."""
import numpy as np
import torch
import torchvision  # noqa: F401  registers torchvision::deform_conv2d, which the traced graph calls

__all__ = ["TorchScriptNetwork"]


class TorchScriptNetwork:
    """``torch.jit.load`` of an exported ``model.ts``: ``__call__(batch (B, 3, S, S) float32 numpy)`` -> dict of
    named numpy outputs (``output_names``: the export's ``ggnet_deploy.json`` list), for ``HOIRuntimePredictor``.
    ``device``: where the graph runs ("cpu", "cuda")."""

    def __init__(self, path, output_names, device="cpu"):
        self.device = torch.device(device)
        self.module = torch.jit.load(path, map_location=self.device).eval()
        self.output_names = list(output_names)

    def __call__(self, batch):
        with torch.no_grad():
            outputs = self.module(torch.from_numpy(np.ascontiguousarray(batch, np.float32)).to(self.device))
        return {n: o.cpu().numpy() for n, o in zip(self.output_names, outputs)}
