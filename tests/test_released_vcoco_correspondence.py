"""The released V-COCO model carries the authors' verb-object correspondence (their detectors/hoidet.py loads
corre_vcoco.npy) in its converted checkpoint (tools/convert_weights.py --valid-verb-object), so it decodes the same
triplets with and without the dataset registered. A small version of the released config (tiny Hourglass, same
heads, 2 gaze steps, the authors' decoding preset) with random weights in the authors' parameter layout."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model

from ggnet_d2.engine import setup_cfg
from ggnet_d2.modeling.checkpoint import GGNetCheckpointer

from reference_layouts import reference_layout

REPO = Path(__file__).resolve().parents[1]
RELEASED = REPO / "configs" / "released" / "GGNet_Hourglass104_VCOCO.yaml"
TINY = ["MODEL.HOURGLASS.DIMS", "[8, 8, 12, 12, 12, 16]", "MODEL.HOURGLASS.MODULES", "[1, 1, 1, 1, 1, 1]",
        "MODEL.HOURGLASS.STEM_CHANNELS", "4", "MODEL.GGNET.HEAD_CONV", "8", "INPUT.GGNET.TEST_SIZE", "128",
        "MODEL.DEVICE", "cpu", "MODEL.WEIGHTS", "", "DATASETS.TRAIN", "()"]
STAND_IN = "vcoco_test_ppdm25_with_corre_i21"  # what vcoco_test_ppdm25 states once its corre_vcoco.npy is read


def _tool():
    spec = importlib.util.spec_from_file_location("convert_weights", REPO / "tools" / "convert_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cfg(test_sets):
    return setup_cfg(str(RELEASED), TINY + ["DATASETS.TEST", test_sets])


def _triplets(model, image):
    model.eval()
    with torch.no_grad():
        hoi = model([{"image": image, "height": 96, "width": 128}])[0]["hoi_instances"]
    return (hoi.verb_classes.tolist(), hoi.object_classes.tolist(), hoi.scores.tolist(),
            hoi.subject_boxes.tensor.tolist(), hoi.object_boxes.tensor.tolist())


def _image():
    # the centred 128 x 128 test input of a 128 x 96 image (TEST_PLACEMENT "center"): 16 x 16 blocks of random
    # colours, whose structure survives the random network (pixel noise averages out to one class everywhere)
    blocks = torch.randint(0, 256, (1, 3, 8, 8), generator=torch.Generator().manual_seed(2)).float()
    return torch.nn.functional.interpolate(blocks, size=(128, 128), mode="nearest")[0].to(torch.uint8)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vcoco")
    cfg = _cfg("()")
    assert (cfg.MODEL.GGNET.NUM_VERBS, cfg.MODEL.GGNET.NUM_GAZE_STEPS, cfg.MODEL.GGNET.TEST.MATCH_RULE) == (
        25, 2, "score_over_offset_area")
    (tmp / "tiny.yaml").write_text(cfg.dump())
    layout = reference_layout("ggnet_hourglass_s2", 80, 25, hg_dims=(8, 8, 12, 12, 12, 16), hg_modules=(1,) * 6,
                              hg_stem=4, cnv_dim=8, head_conv=8, kernel=5)
    g = torch.Generator().manual_seed(0)
    ref = {}
    for k, shape in layout.items():  # He-initialised convolutions, identity batch norms, no class priors
        if len(shape) == 4:
            ref[k] = torch.randn(shape, generator=g) * (2.0 / (shape[1] * shape[2] * shape[3])) ** 0.5
        elif k.endswith("running_var") or k[:-len("weight")] + "running_var" in layout:
            ref[k] = torch.ones(shape)
        else:
            ref[k] = torch.zeros(shape) if shape else torch.tensor(5)
    torch.save({"state_dict": ref}, tmp / "ref.pth")
    tool = _tool()
    args = ["--config-file", str(tmp / "tiny.yaml"), "--input", str(tmp / "ref.pth")]
    assert tool.main(args + ["--output", str(tmp / "without.pth")]) == 0
    # A correspondence that allows every other (verb, object) pair the unrestricted model decodes, so that the
    # restriction visibly bites; (verbs, objects), the layout hoidet.py reads.
    unrestricted = build_model(cfg)
    GGNetCheckpointer(unrestricted).load(str(tmp / "without.pth"))
    verbs, objects = _triplets(unrestricted, _image())[:2]
    pairs = sorted(set(zip(verbs, objects)))
    assert len(pairs) >= 2
    corre = np.zeros((25, 80), bool)
    corre[tuple(np.array(pairs[::2]).T)] = True
    np.save(tmp / "corre_vcoco.npy", corre.astype(np.float64))
    assert tool.main(args + ["--output", str(tmp / "with.pth"), "--valid-verb-object",
                             str(tmp / "corre_vcoco.npy")]) == 0
    return tmp, corre


def test_same_triplets_with_and_without_the_dataset(converted):
    tmp, corre = converted
    if STAND_IN not in DatasetCatalog.list():
        DatasetCatalog.register(STAND_IN, lambda: [])
        meta = MetadataCatalog.get("vcoco_test_ppdm25")
        MetadataCatalog.get(STAND_IN).set(thing_classes=meta.thing_classes, valid_verb_object=corre)
    image = _image()

    bare = build_model(_cfg("()"))  # no dataset at all: the correspondence comes from the checkpoint
    assert bare.valid_verb_object_source == "unknown"
    GGNetCheckpointer(bare).load(str(tmp / "with.pth"))
    assert bare.valid_verb_object_source == "checkpoint"
    assert torch.equal(bare.valid_verb_object, torch.from_numpy(corre))

    registered = build_model(_cfg(f"('{STAND_IN}',)"))
    assert registered.valid_verb_object_source == f"metadata:{STAND_IN}"
    GGNetCheckpointer(registered).load(str(tmp / "with.pth"))

    unrestricted = build_model(_cfg("()"))
    GGNetCheckpointer(unrestricted).load(str(tmp / "without.pth"))
    assert bool(unrestricted.valid_verb_object.all())

    a, b, c = (_triplets(m, image) for m in (bare, registered, unrestricted))
    assert len(a[0]) > 0 and a == b
    assert all(corre[v, o] for v, o in zip(a[0], a[1]))
    assert c != a and not all(corre[v, o] for v, o in zip(c[0], c[1]))  # the restriction is what differs


def test_bad_correspondence_file_is_named(converted, tmp_path):
    tmp, _ = converted
    np.save(tmp_path / "bad.npy", np.ones((7, 80)))
    with pytest.raises(ValueError, match="bad.npy"):
        _tool().main(["--config-file", str(tmp / "tiny.yaml"), "--input", str(tmp / "ref.pth"),
                      "--valid-verb-object", str(tmp_path / "bad.npy")])
