"""Decoding presets on planted heatmaps, against expectations worked out by hand from the authors' rules
(GGNet/PPDM src/lib/models/decode.py hoidet_decode_match, src/lib/detectors/hoidet.py bbox_clip) and the paper's Eq. 8.

The scene (feature map 16 x 16, stride 4, image 64 x 64; classes 0 = person, 1, 2; verbs 0, 1):
  humans  Q (x=6, y=2) score 0.75, box wh (8, 8)  -> [8, -8, 40, 24] px, crosses the top border
          P (x=3, y=2) score 0.50, box wh (10, 2) -> [-8, 4, 32, 12] px, crosses the left border
  objects A class 1 (12, 12) score 0.9, wh (10, 4) -> [28, 40, 68, 56] px, crosses the right border
          B class 2 (8, 14) score 0.8, wh (4, 6)   -> [24, 44, 40, 68] px, crosses the bottom border
  interactions  verb 0 at (8, 8) 0.8 and (8, 11) 0.6, both expecting the subject at (4, 2) and the object at A;
                verb 1 at (2, 13) 0.7 expecting the subject at P and the object at B.
For the subject expected at (4, 2): Eq. 8 costs P 1 / 0.5 = 2 < Q 2 / 0.75 = 2.67 -> P; the authors' scores tie,
P 1/2 * 1 * 0.5 = 0.25 = Q 1/3 * 1 * 0.75 -> the first candidate, Q (the higher-scoring human comes first).
"""
import pytest
import torch
from detectron2.modeling import build_model

from ggnet_d2.modeling.postprocess import clip_boxes_authors, decode_hoi, match_points_authors

from test_modeling_helpers import tiny_cfg

H = W = 16


def _scene():
    obj = torch.zeros(1, 3, H, W)
    wh = torch.zeros(1, 2, H, W)
    for c, x, y, s, size in [(0, 6, 2, 0.75, (8, 8)), (0, 3, 2, 0.5, (10, 2)), (1, 12, 12, 0.9, (10, 4)),
                             (2, 8, 14, 0.8, (4, 6))]:
        obj[0, c, y, x] = s
        wh[0, :, y, x] = torch.tensor(size, dtype=torch.float32)
    inter = torch.zeros(1, 2, H, W)
    sub = torch.zeros(1, 4, H, W)
    ob = torch.zeros(1, 4, H, W)
    # (verb, x, y, score, expected subject (x, y), expected object (x, y)); APM = point - expected
    for v, x, y, s, es, eo in [(0, 8, 8, 0.8, (4, 2), (12, 12)), (0, 8, 11, 0.6, (4, 2), (12, 12)),
                               (1, 2, 13, 0.7, (3, 2), (8, 14))]:
        inter[0, v, y, x] = s
        sub[0, 2 * v:2 * v + 2, y, x] = torch.tensor([x - es[0], y - es[1]], dtype=torch.float32)
        ob[0, 2 * v:2 * v + 2, y, x] = torch.tensor([x - eo[0], y - eo[1]], dtype=torch.float32)
    return obj, wh, torch.zeros(1, 2, H, W), inter, sub, ob


def _decode(**kw):
    obj, wh, reg, inter, sub, ob = _scene()
    none = torch.zeros(1, 0, H, W)
    return decode_hoi(obj, wh, reg, inter, sub, ob, none, none, topk_interactions=3, topk_humans=2, topk_objects=4,
                      **kw)


def _triplets(d):
    keep = d["valid"][0]
    return [(int(s), int(o), int(v), round(float(p), 4)) for s, o, v, p in
            zip(d["subject_index"][0][keep], d["object_index"][0][keep], d["verb_classes"][0][keep],
                d["hoi_scores"][0][keep])]


def test_candidate_order_of_the_scene():
    d = _decode()
    assert d["human_scores"][0].tolist() == [0.75, 0.5]  # Q = human 0, P = human 1
    assert d["object_scores"][0].tolist() == pytest.approx([0.9, 0.8, 0.75, 0.5])  # A, B, Q, P
    assert d["object_classes"][0].tolist() == [1, 2, 0, 0]


def test_eq8_picks_p_and_keeps_duplicates():
    assert _triplets(_decode()) == [(1, 0, 0, 0.36), (1, 1, 1, 0.28), (1, 0, 0, 0.27)]


def test_authors_rule_breaks_the_tie_to_the_first_candidate():
    assert _triplets(_decode(match_rule="authors")) == [(0, 0, 0, 0.54), (0, 0, 0, 0.405), (1, 1, 1, 0.28)]


def test_authors_dedup_keeps_the_highest_scoring_duplicate():
    d = _decode(match_rule="authors", dedup=True)
    assert _triplets(d) == [(0, 0, 0, 0.54), (1, 1, 1, 0.28)]
    assert d["valid"][0].tolist() == [True, False, True]  # the 0.405 repeat of (Q, A, verb 0)
    assert d["interaction_points"][0][0].tolist() == [8.0, 8.0]  # the kept one is the 0.8 interaction point


def test_unknown_match_rule_is_refused():
    with pytest.raises(ValueError, match="match_rule"):
        _decode(match_rule="nearest")


def test_authors_match_with_disallowed_candidates():
    expected = torch.tensor([[[0.0, 0.0], [5.0, 5.0]]])
    cands = torch.tensor([[[0.0, 0.0], [5.0, 5.0], [6.0, 5.0]]])
    scores = torch.tensor([[0.9, 0.2, 0.5]])
    allowed = torch.tensor([[[False, False, False], [True, False, True]]])
    index, found = match_points_authors(expected, cands, scores, allowed)
    # row 0: nothing allowed -> all-zero scores -> candidate 0, not found (the authors drop it as invalid)
    # row 1: candidate 1 disallowed; candidate 2 scores 1/2 * 0.5 = 0.25 > candidate 0's 1/6 * 1/6 * 0.9
    assert index.tolist() == [[0, 2]] and found.tolist() == [[False, True]]


def test_authors_box_rule_at_every_border():
    boxes = torch.tensor([[-10.0, 20, 30, 50],   # left: moves right keeping its width
                          [10, -5, 30, 25],      # top: moves down keeping its height
                          [80, 10, 120, 40],     # right: x2 stays beyond the border
                          [10, 60, 30, 100],     # bottom: y2 stays beyond the border
                          [50, 50, 53, 52],      # tiny: sides become 10
                          [-50, -50, 250, 250],  # larger than the image: the image
                          [120, 10, 130, 20]])   # outside on the right: x1 = width, width 10
    expected = [[0, 20, 40, 50], [10, 0, 30, 30], [80, 10, 120, 40], [10, 60, 30, 100], [50, 50, 60, 60],
                [0, 0, 100, 80], [100, 10, 110, 20]]
    assert clip_boxes_authors(boxes, 80, 100).tolist() == expected


def _model(preset):
    cfg = tiny_cfg("resnet")
    g = cfg.MODEL.GGNET
    g.NUM_CLASSES, g.NUM_VERBS, g.NUM_GAZE_STEPS = 3, 2, 0
    g.TEST.TOPK_INTERACTIONS, g.TEST.TOPK_HUMANS, g.TEST.TOPK_OBJECTS = 3, 2, 4
    if preset == "authors":
        g.TEST.MATCH_RULE, g.TEST.DEDUP_TRIPLETS, g.TEST.BOX_CLIP = "authors", True, "authors"
    return build_model(cfg).eval()


def _model_output(model):
    obj, wh, reg, inter, sub, ob = _scene()
    # logits whose sigmoid is the planted map (background -30: below every planted score)
    logit = lambda p: torch.where(p > 0, torch.logit(p.clamp(1e-6, 1 - 1e-6)), torch.full_like(p, -30.0))  # noqa
    out = {"obj_heatmap": logit(obj), "obj_wh": wh, "obj_offset": reg, "interaction_logits": [logit(inter)],
           "apm_subject": sub, "apm_object": ob, "actpoint_offsets": torch.zeros(1, 0, H, W),
           "actpoint_weights": torch.zeros(1, 0, H, W)}
    return model.inference(out, [{"height": 64, "width": 64}], [(64, 64)])[0]


def test_model_with_the_authors_preset():
    hoi = _model_output(_model("authors"))["hoi_instances"]
    assert hoi.verb_classes.tolist() == [0, 1] and hoi.scores.tolist() == pytest.approx([0.54, 0.28], abs=1e-5)
    # (after sigmoid(logit(p)) the tie holds only up to float rounding: it is checked on exact scores above)
    # P, left border: moved inside keeping its width 40; its height 8 is raised to the minimum 10
    assert hoi.subject_boxes.tensor[1].tolist() == [0, 4, 40, 14]
    assert hoi.object_boxes.tensor.tolist() == [[28, 40, 68, 56],   # A, right border: x2 stays at 68
                                                [24, 44, 40, 68]]   # B, bottom border: y2 stays at 68
    q = _model_output(_model("authors"))["instances"].pred_boxes.tensor[0].tolist()
    assert q == [8, 0, 40, 32]  # Q, top border: moved down, height 32 kept


def test_model_with_the_default_preset_cuts_boxes():
    res = _model_output(_model("eq8"))
    hoi = res["hoi_instances"]
    assert hoi.scores.tolist() == pytest.approx([0.36, 0.28, 0.27], abs=1e-5)
    assert res["instances"].pred_boxes.tensor[:2].tolist() == [[8, 0, 40, 24], [0, 4, 32, 12]]
    assert hoi.object_boxes.tensor.tolist() == [[28, 40, 64, 56], [24, 44, 40, 64], [28, 40, 64, 56]]
