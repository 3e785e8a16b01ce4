"""Deployment: GGNet exported to ONNX / TorchScript (``export``, ``adapter``; torch) and run without torch
(``runtime``: numpy, OpenCV, onnxruntime). Nothing is imported here, so ``ggnet_d2.deploy.runtime`` stays torch-free."""
