"""Reading images as users have them: one function for the loader's size check, the mapper (training and test) and
the demo, so that all of them see the same pixels in the same orientation.

Orientation: the EXIF orientation tag is applied (the image is shown as a phone or an annotation tool shows it), as
detectron2's ``read_image`` and the COCO tools assume; annotation boxes and ``height``/``width`` are in that
orientation. A missing, unreadable or unknown tag means "as stored" (detectron2's ``_apply_exif_orientation`` does
the same).

Pixel formats -> 8-bit RGB:
- 8-bit RGB, grayscale (L, 1), palette (P), CMYK, YCbCr, HSV: Pillow's conversion (CMYK without ICC profile);
- with alpha (RGBA, LA, PA, P with a transparent colour, premultiplied RGBa/La): composited over white, the
  background browsers and most viewers show (dropping alpha would show whatever colour hides under transparent
  pixels);
- 16-bit grayscale (I;16, I;16B, I;16L, I;16N, and mode I, as which older Pillow opens 16-bit PNGs, when its values
  lie in 0..65535): scaled, round(v * 255 / 65535), not clipped (Pillow's own conversion clips at 255, which made a
  16-bit image all white);
- refused with :class:`UnsupportedImageError`: 32-bit float (F), signed 16-bit (I;16S), mode I with values outside
  0..65535 (no known range), CIE L*a*b* (Pillow's conversion copies the channels as if they were RGB), and TIFFs
  with an EXIF orientation other than 1 (Pillow turns only some of their pixel modes upright).
"""
import numpy as np
from PIL import Image

__all__ = ["ImageReadError", "UnsupportedImageError", "exif_orientation", "image_size", "read_image", "to_rgb8"]

EXIF_ORIENTATION = 0x0112  # EXIF tag 274
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
              7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
_SWAPS_SIDES = (5, 6, 7, 8)
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_ALPHA = ("RGBA", "LA", "PA", "RGBa", "La")
_PILLOW_RGB = ("RGB", "L", "1", "P", "CMYK", "YCbCr", "HSV", "RGBX")
# Pillow's decoding failures: unreadable / truncated / not an image (OSError, incl. UnidentifiedImageError),
# broken headers (SyntaxError, ValueError), images past Image.MAX_IMAGE_PIXELS x 2 (DecompressionBombError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class ImageReadError(OSError):
    """An image file that cannot be opened or decoded; ``path`` and ``reason`` (the message without the path)."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class UnsupportedImageError(ImageReadError, ValueError):
    """An image whose pixel format has no sound conversion to 8-bit RGB (module docstring); names file and mode."""


def exif_orientation(im):
    """The EXIF orientation (1..8) of an open PIL image; 1 (as stored) when absent, unreadable or unknown."""
    try:
        value = im.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 -- malformed EXIF blocks raise anything; detectron2 ignores them too
        return 1
    return value if value in _TRANSPOSE else 1


def _orientation(im, path):
    """``exif_orientation``, refusing oriented TIFFs: Pillow reports them in the shown size before decoding but turns
    only some pixel modes upright while decoding (RGB and LA are, L and RGBA come out as stored), so neither the
    size nor the pixels can be trusted."""
    orientation = exif_orientation(im)
    if orientation != 1 and im.format == "TIFF":
        raise UnsupportedImageError(path, f"TIFF with EXIF orientation {orientation}: Pillow applies it to some pixel "
                                          "modes only; save the image upright (or as PNG/JPEG)")
    return orientation


def image_size(path):
    """(height, width) of the image at ``path`` as shown, i.e. after its EXIF orientation, in pixels.

    Reads the header only (for PNG, Pillow decodes the image when the EXIF chunk follows the pixel data).

    Raises:
        ImageReadError: the file cannot be opened as an image.
    """
    try:
        with Image.open(path) as im:
            width, height = im.size
            if _orientation(im, path) in _SWAPS_SIDES:
                width, height = height, width
    except ImageReadError:
        raise
    except _DECODE_ERRORS as e:
        raise ImageReadError(path, f"cannot read the image size ({type(e).__name__}: {e})") from None
    return height, width


def _over_white(rgba):
    a = rgba[..., 3:4].astype(np.uint32)
    rgb = rgba[..., :3].astype(np.uint32)
    return ((rgb * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def to_rgb8(im, path="<image>"):
    """An open PIL image (any mode) as an (H, W, 3) uint8 RGB array, by the rules of the module docstring; no
    orientation change.

    Raises:
        UnsupportedImageError: for modes with no sound conversion (names ``path`` and the mode).
    """
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im)
    if mode in _SIXTEEN_BIT or mode == "I":
        values = np.asarray(im)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise UnsupportedImageError(path, f"mode {mode} image with values {values.min()}..{values.max()}, "
                                              "outside the 16-bit range: no known scale to 8 bits")
        gray = ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if (mode == "P" and "transparency" in im.info) or mode in _ALPHA:
        if mode == "La":
            im = im.convert("LA")  # Pillow converts premultiplied La only to LA
        return _over_white(np.asarray(im.convert("RGBA")))
    if mode in _PILLOW_RGB:
        return np.asarray(im.convert("RGB"))
    raise UnsupportedImageError(path, f"mode {mode} image: no sound conversion to 8-bit RGB (convert it first, "
                                      "e.g. to an 8-bit or 16-bit PNG)")


def read_image(path, format="BGR"):
    """Decode the image at ``path``, apply its EXIF orientation and convert it to 8-bit (module docstring).

    Args:
        path (str): image file.
        format (str): "BGR" or "RGB" (detectron2's INPUT.FORMAT), or another format detectron2's
            ``convert_PIL_to_numpy`` accepts (converted from the 8-bit RGB image).

    Returns:
        np.ndarray: (H, W, 3) uint8 in ``format`` (H, W as shown, after the EXIF orientation).

    Raises:
        ImageReadError: the file is missing, truncated or not an image.
        UnsupportedImageError: a pixel format with no sound 8-bit RGB conversion.
    """
    try:
        with Image.open(path) as im:
            orientation = _orientation(im, path)
            im.load()
            rgb = to_rgb8(im, path)
    except ImageReadError:
        raise
    except _DECODE_ERRORS as e:
        raise ImageReadError(path, f"the image cannot be decoded ({type(e).__name__}: {e})") from None
    if orientation != 1:
        rgb = np.asarray(Image.fromarray(rgb).transpose(_TRANSPOSE[orientation]))
    if format == "BGR":
        return rgb[:, :, ::-1]
    if format == "RGB":
        return rgb
    # imported here: the size check needs no torch (detectron2 imports it), the torch-free file-format code uses it
    from detectron2.data.detection_utils import convert_PIL_to_numpy
    return convert_PIL_to_numpy(Image.fromarray(rgb), format)
