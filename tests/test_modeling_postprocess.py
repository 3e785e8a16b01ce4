import torch

from ggnet_d2.modeling.postprocess import decode_actpoints, decode_hoi

H = W = 16
C, V = 3, 2  # person = 0


def _planted():
    """Two humans, two objects, two interactions, with APM offsets pointing at their partners."""
    obj = torch.zeros(1, C, H, W)
    wh = torch.zeros(1, 2, H, W)
    reg = torch.zeros(1, 2, H, W)
    # (class, x, y, score, w, h, off_x, off_y)
    for c, x, y, s, bw, bh, ox, oy in [(0, 3, 4, 0.9, 2.0, 4.0, 0.25, 0.5), (0, 12, 10, 0.8, 3.0, 3.0, 0.0, 0.0),
                                       (2, 8, 4, 0.7, 2.0, 2.0, 0.5, 0.0), (1, 12, 3, 0.6, 4.0, 2.0, 0.0, 0.25)]:
        obj[0, c, y, x] = s
        wh[0, :, y, x] = torch.tensor([bw, bh])
        reg[0, :, y, x] = torch.tensor([ox, oy])
    inter = torch.zeros(1, V, H, W)
    sub = torch.zeros(1, 2 * V, H, W)
    ob = torch.zeros(1, 2 * V, H, W)
    inter[0, 1, 4, 5] = 0.95  # verb 1 at (5, 4): human (3, 4), object (8, 4)
    sub[0, 2:4, 4, 5] = torch.tensor([2.0, 0.0])
    ob[0, 2:4, 4, 5] = torch.tensor([-3.0, 0.0])
    inter[0, 0, 6, 12] = 0.5  # verb 0 at (12, 6): human (12, 10), object (12, 3)
    sub[0, 0:2, 6, 12] = torch.tensor([0.0, -4.0])
    ob[0, 0:2, 6, 12] = torch.tensor([0.0, 3.0])
    return obj, wh, reg, inter, sub, ob


def _decode(valid=None, n=0):
    obj, wh, reg, inter, sub, ob = _planted()
    return decode_hoi(obj, wh, reg, inter, sub, ob, torch.zeros(1, 2 * n, H, W), torch.zeros(1, n, H, W),
                      person_class_id=0, topk_interactions=2, topk_humans=2, topk_objects=4,
                      valid_verb_object=valid)


def test_decoding_recovers_planted_triplets():
    d = _decode()
    assert d["human_scores"][0].tolist() == [torch.tensor(0.9).item(), torch.tensor(0.8).item()]
    torch.testing.assert_close(d["human_boxes"][0], torch.tensor([[2.25, 2.5, 4.25, 6.5], [10.5, 8.5, 13.5, 11.5]]))
    hb, ob = d["human_boxes"][0], d["object_boxes"][0]
    assert d["verb_classes"][0].tolist() == [1, 0]
    torch.testing.assert_close(d["hoi_scores"][0], torch.tensor([0.95 * 0.9 * 0.7, 0.5 * 0.8 * 0.6]))
    torch.testing.assert_close(hb[d["subject_index"][0]], hb[[0, 1]])
    objs = ob[d["object_index"][0]]
    torch.testing.assert_close(objs, torch.tensor([[7.5, 3.0, 9.5, 5.0], [10.0, 2.25, 14.0, 4.25]]))
    assert d["object_classes"][0][d["object_index"][0]].tolist() == [2, 1]
    torch.testing.assert_close(d["interaction_points"][0], torch.tensor([[5.0, 4.0], [12.0, 6.0]]))
    assert d["valid"][0].all()
    assert d["actpoints"].shape == (1, 2, 0, 2)


def test_persons_are_object_candidates():
    d = _decode()
    assert sorted(d["object_classes"][0].tolist()) == [0, 0, 1, 2]


def test_valid_verb_object_restricts_matching():
    valid = torch.ones(V, C, dtype=torch.bool)
    valid[0, 1] = False  # verb 0 may not take class 1 -> its nearest valid object (by distance/score) is chosen
    d = _decode(valid)
    second = d["object_classes"][0][d["object_index"][0][d["verb_classes"][0] == 0]]
    assert second.item() != 1
    valid[0] = False  # no object class valid for verb 0 -> triplet flagged invalid with score 0
    d = _decode(valid)
    mask = d["verb_classes"][0] == 0
    assert not d["valid"][0][mask].any() and (d["hoi_scores"][0][mask] == 0).all()


def test_actpoints_positions():
    offsets = torch.zeros(1, 18, H, W)
    offsets[0, 8, 4, 5] = 0.5  # kernel position 4 (the center): dy = 0.5
    offsets[0, 1, 4, 5] = -1.0  # kernel position 0 (top-left): dx = -1
    weights = torch.rand(1, 9, H, W)
    pts, w = decode_actpoints(offsets, weights, torch.tensor([[4]]), torch.tensor([[5]]))
    assert pts.shape == (1, 1, 9, 2)
    assert pts[0, 0, 0].tolist() == [3.0, 3.0]  # (5 - 1 - 1, 4 - 1)
    assert pts[0, 0, 4].tolist() == [5.0, 4.5]
    assert pts[0, 0, 8].tolist() == [6.0, 5.0]
    torch.testing.assert_close(w[0, 0], weights[0, :, 4, 5])
