"""Table 3 aggregation variants (ggnet_d2/modeling/heads/aggregation_heads.py): the aggregated features against a
concatenation built by hand, with the matched centers worked out by hand from PPDM's matching rule
(score / ((|dx| + 1)(|dy| + 1)), largest wins)."""
import pytest
import torch

from ggnet_d2.modeling.heads.aggregation_heads import (ActPointsAggregationHead, AggregationHOIHeads,
                                                       PointAggregationHead)

H, W = 4, 5


def _scene():
    # object scores (B=1, 2 classes: 0 person, 1 other), peaks: humans A (x=1, y=1) 0.9 and B (x=4, y=2) 0.6;
    # object C (x=3, y=0) 0.8 (class 1). Objects are the top-3 peaks of all channels: A 0.9, C 0.8, B 0.6.
    scores = torch.zeros(1, 2, H, W)
    scores[0, 0, 1, 1], scores[0, 0, 2, 4], scores[0, 1, 0, 3] = 0.9, 0.6, 0.8
    f0 = torch.arange(1 * 3 * H * W, dtype=torch.float32).view(1, 3, H, W) / 7.0
    # subject offsets (point - subject center): 0 everywhere except pixel (x=4, y=3) points at (4, 2) -> B;
    # object offsets: every pixel expects the object 2 pixels to the right of itself.
    sub = torch.zeros(1, 2, H, W)
    sub[0, :, 3, 4] = torch.tensor([0.0, 1.0])
    obj = torch.zeros(1, 2, H, W)
    obj[0, 0] = -2.0
    return f0, scores, sub, obj


def _hand_match(px, py, off, cands):
    ex, ey = px - off[0], py - off[1]
    best = max(cands, key=lambda c: c[2] / ((abs(ex - c[0]) + 1) * (abs(ey - c[1]) + 1)))
    return best[0], best[1]


def _hand_concat(f0, sub, obj, parts):
    humans = [(1, 1, 0.9), (4, 2, 0.6)]
    objects = [(1, 1, 0.9), (3, 0, 0.8), (4, 2, 0.6)]
    out = [f0]
    for part in parts:
        cands, off = (humans, sub) if part == "human" else (objects, obj)
        g = torch.zeros_like(f0)
        for y in range(H):
            for x in range(W):
                cx, cy = _hand_match(x, y, off[0, :, y, x].tolist(), cands)
                g[0, :, y, x] = f0[0, :, cy, cx]
        out.append(g)
    return torch.cat(out, 1)


@pytest.mark.parametrize("aggregation, parts", [("human_point", ("human",)), ("object_point", ("object",)),
                                                ("human_object_points", ("human", "object"))])
def test_aggregated_features_equal_the_hand_built_concatenation(aggregation, parts):
    f0, scores, sub, obj = _scene()
    head = PointAggregationHead(4, 2, aggregation, head_conv=3, topk_humans=2, topk_objects=3)
    got = head.aggregate(f0, scores, sub, obj)
    want = _hand_concat(f0, sub, obj, parts)
    assert got.shape == (1, 3 * (1 + len(parts)), H, W)
    assert torch.equal(got, want)


def test_hand_matches_of_the_scene():
    # the scene exercises both humans and all three objects
    f0, scores, sub, obj = _scene()
    humans = {_hand_match(x, y, sub[0, :, y, x].tolist(), [(1, 1, 0.9), (4, 2, 0.6)]) for y in range(H)
              for x in range(W)}
    objects = {_hand_match(x, y, obj[0, :, y, x].tolist(), [(1, 1, 0.9), (3, 0, 0.8), (4, 2, 0.6)])
               for y in range(H) for x in range(W)}
    assert humans == {(1, 1), (4, 2)} and objects == {(1, 1), (3, 0), (4, 2)}


def test_gradients_reach_f0_at_the_matched_centers():
    f0, scores, sub, obj = _scene()
    f0.requires_grad_(True)
    head = PointAggregationHead(4, 2, "human_point", head_conv=3, topk_humans=2, topk_objects=3)
    head.aggregate(f0, scores, sub, obj)[:, 3:].sum().backward()
    # each human center receives the gradient of the pixels matched to it, nothing else does
    matched = [_hand_match(x, y, sub[0, :, y, x].tolist(), [(1, 1, 0.9), (4, 2, 0.6)]) for y in range(H)
               for x in range(W)]
    want = torch.zeros(H, W)
    for cx, cy in matched:
        want[cy, cx] += 1
    assert torch.equal(f0.grad[0, 0], want) and 0 < want[2, 4] < H * W


def test_actpoints_variant_at_start_is_a_plain_convolution_of_f0():
    torch.manual_seed(0)
    head = ActPointsAggregationHead(4, 2, head_conv=3, num_actpoints=9)
    x = torch.randn(1, 4, H, W)
    out = head(x)
    f0 = torch.relu(head.glance_conv(x))
    plain = torch.nn.functional.conv2d(f0, head.actpoint_dcn.weight * 0.5, head.actpoint_dcn.bias, padding=1)
    assert torch.allclose(out["aggregated_features"], torch.relu(plain), atol=1e-6)
    assert out["actpoint_offsets"].shape == (1, 18, H, W) and torch.all(out["actpoint_weights"] == 0.5)


def test_point_variants_need_the_shared_apm():
    with pytest.raises(ValueError, match="APM_PER_VERB"):
        AggregationHOIHeads(4, num_classes=2, num_verbs=2, aggregation="human_point", apm_per_verb=True)
    with pytest.raises(ValueError, match="INTERACTION_AGGREGATION"):
        AggregationHOIHeads(4, num_classes=2, num_verbs=2, aggregation="human")
