"""Issue 20, item 2: images as users have them. EXIF orientation is applied alike by the loader's size check, the
mapper and the demo's reader; 16-bit, palette, CMYK, alpha and grayscale images become the 8-bit RGB a viewer shows
(hand-computed pixels); formats with no sound conversion are refused by name."""
import json

import numpy as np
import pytest
from detectron2.config import get_cfg
from PIL import Image

from ggnet_d2 import add_ggnet_config
from ggnet_d2.data import BadRecordError, BadRecordPolicy, HOIDatasetMapper, load_hoi_json
from ggnet_d2.data.image_io import ImageReadError, UnsupportedImageError, image_size, read_image

STORED = np.random.RandomState(0).randint(0, 255, (6, 10, 3), np.uint8)  # 10 wide, 6 high as stored

# What a viewer shows for each EXIF orientation (EXIF 2.32, tag 274), written with numpy independently of Pillow.
SHOWN = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # rotated 180
    4: lambda a: a[::-1],  # mirrored top-bottom
    5: lambda a: a.transpose(1, 0, 2),  # mirrored along the main diagonal
    6: lambda a: np.rot90(a, k=-1),  # rotated 90 degrees clockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # mirrored along the anti-diagonal
    8: lambda a: np.rot90(a, k=1),  # rotated 90 degrees counter-clockwise
}


def _with_orientation(path, array, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(array).save(path, exif=exif)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_by_reader_and_size_check(tmp_path, orientation):
    path = str(tmp_path / "o.png")
    _with_orientation(path, STORED, orientation)
    shown = SHOWN[orientation](STORED)
    np.testing.assert_array_equal(read_image(path, "RGB"), shown)
    np.testing.assert_array_equal(read_image(path, "BGR"), shown[:, :, ::-1])
    assert image_size(path) == shown.shape[:2]


def test_malformed_or_unknown_orientation_means_as_stored(tmp_path):
    path = str(tmp_path / "o.png")
    _with_orientation(path, STORED, 9)
    np.testing.assert_array_equal(read_image(path, "RGB"), STORED)
    assert image_size(path) == (6, 10)


def _png(tmp_path, image, name="x.png", **save):
    path = str(tmp_path / name)
    image.save(path, **save)
    return path


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 32768, 65535]], np.uint16)  # round(v * 255 / 65535): 0, 1, 127.5 -> 128, 255
    path = _png(tmp_path, Image.fromarray(values))
    assert Image.open(path).mode == "I;16"
    np.testing.assert_array_equal(read_image(path, "RGB")[0], [[0] * 3, [1] * 3, [128] * 3, [255] * 3])
    # mode I (older Pillow's 16-bit PNG) in 0..65535: the same scale
    path_i = _png(tmp_path, Image.fromarray(values.astype(np.int32)), "i.tif")
    assert Image.open(path_i).mode == "I"
    np.testing.assert_array_equal(read_image(path_i, "RGB")[0, :, 0], [0, 1, 128, 255])


def test_palette_grayscale_bilevel_cmyk(tmp_path):
    pal = Image.fromarray(np.array([[0, 1, 2]], np.uint8), mode="P")
    pal.putpalette([255, 0, 0, 0, 128, 255, 9, 9, 9] + [0] * 759)
    np.testing.assert_array_equal(read_image(_png(tmp_path, pal), "RGB")[0], [[255, 0, 0], [0, 128, 255], [9] * 3])
    gray = Image.fromarray(np.array([[0, 77, 255]], np.uint8))
    np.testing.assert_array_equal(read_image(_png(tmp_path, gray, "g.png"), "BGR")[0], [[0] * 3, [77] * 3, [255] * 3])
    bilevel = Image.fromarray(np.array([[0, 255]], np.uint8)).convert("1")
    np.testing.assert_array_equal(read_image(_png(tmp_path, bilevel, "b.png"), "RGB")[0], [[0] * 3, [255] * 3])
    # CMYK -> RGB as R = (255 - C) * (255 - K) / 255, rounded (155 * 200 / 255 = 121.6); no ICC profile
    cmyk = Image.frombytes("CMYK", (3, 1), bytes([0, 0, 0, 0, 255, 0, 0, 0, 0, 100, 0, 55]))
    path = _png(tmp_path, cmyk, "c.tif")
    np.testing.assert_array_equal(read_image(path, "RGB")[0], [[255, 255, 255], [0, 255, 255], [200, 122, 200]])


def test_alpha_is_composited_over_white(tmp_path):
    # alpha 0 shows the background (white), 255 the colour, 128 the blend round((c * 128 + 255 * 127) / 255)
    rgba = np.array([[[10, 20, 30, 0], [10, 20, 30, 255], [10, 200, 0, 128]]], np.uint8)
    blend = [round((c * 128 + 255 * 127) / 255) for c in (10, 200, 0)]
    expected = [[255, 255, 255], [10, 20, 30], blend]
    np.testing.assert_array_equal(read_image(_png(tmp_path, Image.fromarray(rgba)), "RGB")[0], expected)
    la = Image.fromarray(np.array([[[50, 0], [50, 255]]], np.uint8), mode="LA")
    np.testing.assert_array_equal(read_image(_png(tmp_path, la, "la.png"), "RGB")[0], [[255] * 3, [50] * 3])
    pal = Image.fromarray(np.array([[0, 1]], np.uint8), mode="P")
    pal.putpalette([1, 2, 3, 4, 5, 6] + [0] * 762)
    path = _png(tmp_path, pal, "p.png", transparency=0)  # palette entry 0 transparent
    np.testing.assert_array_equal(read_image(path, "RGB")[0], [[255, 255, 255], [4, 5, 6]])


@pytest.mark.parametrize("make,mode", [
    (lambda: Image.fromarray(np.full((2, 2), 0.5, np.float32)), "mode F"),
    (lambda: Image.fromarray(np.array([[0, 70000]], np.int32)), "mode I image with values 0..70000"),
    (lambda: Image.new("LAB", (2, 2)), "mode LAB"),
])
def test_no_sound_conversion_is_a_named_error(tmp_path, make, mode):
    path = _png(tmp_path, make(), "u.tif")
    with pytest.raises(UnsupportedImageError, match=rf"u.tif: {mode}"):
        read_image(path)


def test_oriented_tiff_is_refused_by_name(tmp_path):
    """Pillow turns oriented TIFFs upright for some modes only (found by tests/test_fuzz_images.py)."""
    path = str(tmp_path / "o.tiff")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(STORED).convert("L").save(path, exif=exif)
    for fn in (read_image, image_size):
        with pytest.raises(UnsupportedImageError, match=r"o.tiff: TIFF with EXIF orientation 6"):
            fn(path)


def test_undecodable_file_is_a_named_error(tmp_path):
    (tmp_path / "t.txt").write_text("not an image")
    for fn in (read_image, image_size):
        with pytest.raises(ImageReadError, match=r"t.txt: .*UnidentifiedImageError"):
            fn(str(tmp_path / "t.txt"))


def _mapper(is_train):
    cfg = add_ggnet_config(get_cfg())
    cfg.MODEL.GGNET.NUM_CLASSES, cfg.MODEL.GGNET.NUM_VERBS = 2, 1
    cfg.INPUT.GGNET.INPUT_SIZE = cfg.INPUT.GGNET.TEST_SIZE = 64
    cfg.INPUT.GGNET.TEST_PAD_SQUARE = True
    cfg.DATASETS.HOI.BAD_RECORD_POLICY = "error"
    return HOIDatasetMapper(cfg, is_train=is_train)


def test_phone_photo_without_size_loads_and_maps_in_its_shown_orientation(tmp_path):
    """The issue's eval-only abort: the loader read the stored size, the decoder applied the orientation."""
    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:, :8] = 255  # a white band on the stored left edge: the top edge once rotated 90 degrees clockwise
    _with_orientation(str(tmp_path / "phone.jpg"), stored, 6)
    # boxes as the annotation tool showed the photo: 48 wide, 64 high
    records = [{"file_name": "phone.jpg", "annotations": [{"bbox": [2, 30, 40, 62], "category_id": 1},
                                                          {"bbox": [10, 4, 30, 20], "category_id": 2}],
                "hoi_annotation": [{"subject_id": 0, "object_id": 1, "category_id": 1}]}]
    (tmp_path / "ann.json").write_text(json.dumps(records))
    meta = {"thing_dataset_id_to_contiguous_id": {1: 0, 2: 1}, "verb_dataset_id_to_contiguous_id": {1: 0}}
    dicts = load_hoi_json(str(tmp_path / "ann.json"), str(tmp_path), metadata=meta, policy=BadRecordPolicy("error"))
    assert (dicts[0]["height"], dicts[0]["width"]) == (64, 48)
    for is_train in (False, True):
        out = _mapper(is_train)(dicts[0])
        image = out["image"].numpy()  # (3, H, W) BGR
        if not is_train:  # test: longer side 64 -> 48x64 as shown, padded to the 64 square on the right
            assert image[:, :8, :48].mean() > 200 and image[:, 16:, :48].mean() < 30
    # a record whose height/width give the stored size is named as a mismatch, not silently used
    wrong = dict(dicts[0], height=48, width=64)
    with pytest.raises(BadRecordError, match=r"phone.jpg \(image_id 0\): size mismatch"):
        _mapper(False)(wrong)


def test_16_bit_image_through_the_mapper_is_not_white(tmp_path):
    gradient = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    Image.fromarray(gradient).save(tmp_path / "g16.png")
    d = {"file_name": str(tmp_path / "g16.png"), "image_id": 0, "height": 64, "width": 64}
    image = _mapper(False)(d)["image"].numpy()
    expected = (gradient.astype(np.uint32) * 255 + 32767) // 65535
    assert abs(float(image.mean()) - float(expected.mean())) < 1.0 and image.min() == 0 and image.max() == 255
