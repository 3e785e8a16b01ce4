"""Geometry shared by the data side (the test input's warp) and the model (mapping outputs back to the original
image): one definition of the authors' centred fixed-resolution test placement."""

__all__ = ["TEST_PLACEMENTS", "center_affine"]

# INPUT.GGNET.TEST_PLACEMENT: "top_left" (the image resized at the top left, the paper's text) or "center" (the
# authors' centring warp, CenterNet / PPDM / GGNet detectors/base_detector.py pre_process with fix_res)
TEST_PLACEMENTS = ("top_left", "center")  # = config_choices.CHOICES["INPUT.GGNET.TEST_PLACEMENT"] (torch-free here)


def center_affine(height, width, size):
    """Scale and translation of the centring warp: input = k * original + (tx, ty).

    Their ``get_affine_transform(c, s, 0, [size, size])`` with c = (width / 2, height / 2), s = max(height, width)
    maps c to the square's centre and a vertical segment of length s to the full side, hence k = size / s and
    t = size / 2 - k * c. Their ``transform_preds`` inverts the same map for the outputs.

    Args:
        height, width (int or float): original image size, pixels.
        size (int): side of the square network input, pixels.

    Returns:
        tuple[float, float, float]: k, tx, ty.
    """
    k = size / float(max(height, width))
    return k, size / 2.0 - k * width / 2.0, size / 2.0 - k * height / 2.0
