"""Read dense (B, C, H, W) predictions at flat positions: the loss targets' labelled points and the decoder's peaks."""
import torch

__all__ = ["gather_at_index"]


def gather_at_index(fmap, index):
    """Read a dense prediction at flat positions ``y * W + x``.

    Bounds are a property of the data (the target builder and the top-K decoder make the indices inside the map), so
    the check here costs no host-device synchronisation: on the CPU it reads the indices directly and raises a
    ValueError; on other devices it is ``torch._assert_async`` (a device-side assertion, reported at a later kernel
    launch), so a training step on CUDA never waits for it. Skipped while exporting or tracing (ggnet_d2.deploy).

    Args:
        fmap (Tensor): (B, C, H, W).
        index (Tensor): (B, K) int64, ``y * W + x`` in feature-map pixels of ``fmap``.

    Returns:
        Tensor: (B, K, C), ``out[b, k, c] = fmap[b, c].flatten()[index[b, k]]``.

    Raises:
        ValueError: on the CPU, when an index is outside [0, H*W).
    """
    b, c, h, w = fmap.shape
    # an exported / traced graph (ggnet_d2.deploy) has no host reads: the check stays in eager code only
    if index.numel() and not (torch.compiler.is_exporting() or torch.jit.is_tracing()):
        inside = (index.min() >= 0) & (index.max() < h * w)
        if index.device.type == "cpu":
            if not bool(inside):
                raise ValueError(f"target index outside the {h}x{w} feature map: range [{int(index.min())}, "
                                 f"{int(index.max())}]")
        else:
            torch._assert_async(inside)
    flat = fmap.flatten(2)  # (B, C, HW)
    return torch.gather(flat, 2, index.unsqueeze(1).expand(b, c, index.shape[1])).transpose(1, 2)
