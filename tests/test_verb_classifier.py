"""Language-defined verb classifier (issue 23 item 1): MODEL.GGNET.VERB_CLASSIFIER "text"."""
import numpy as np
import pytest
import torch
from detectron2.modeling import build_model
from torch import nn

from ggnet_d2.modeling.heads import GlanceGazeHead
from ggnet_d2.modeling.heads.verb_classifier import TextVerbClassifier, build_verb_classifier
from ggnet_d2.modeling.language import TextEmbeddings, apply_text_verb_list, save_text_embeddings
from test_modeling_helpers import V, tiny_cfg, train_inputs


def test_text_equals_conv_with_its_weights():
    """Embeddings = the conv's (unit) weight rows, projection = identity, scale 1, same bias: the same logits on
    unit-norm features (the text classifier normalises its features, the conv does not)."""
    torch.manual_seed(0)
    d, v = 6, 4
    conv = nn.Conv2d(d, v, 1)
    with torch.no_grad():
        conv.weight.copy_(nn.functional.normalize(torch.randn(v, d), dim=1)[:, :, None, None])
        conv.bias.fill_(-2.19)
    text = TextVerbClassifier(d, conv.weight[:, :, 0, 0].detach().numpy(), logit_scale_init=1.0, bias_init=-2.19)
    with torch.no_grad():
        text.proj.weight.copy_(torch.eye(d)[:, :, None, None])
        text.proj.bias.zero_()
    x = nn.functional.normalize(torch.randn(2, d, 5, 7), dim=1)
    torch.testing.assert_close(text(x), conv(x))
    # on any features: the conv applied to the per-pixel normalised features
    y = torch.randn(2, d, 5, 7) * 3
    torch.testing.assert_close(text(y), conv(nn.functional.normalize(y, dim=1)))


def test_scale_and_bias_are_learnable_and_verb_count_free():
    emb = np.random.default_rng(0).normal(size=(5, 6))
    text = TextVerbClassifier(8, emb, logit_scale_init=10.0, bias_init=-2.19)
    x = torch.randn(1, 8, 3, 3)
    out = text(x)
    assert out.shape == (1, 5, 3, 3)
    # cosines lie in [-1, 1]: logits within bias +- scale
    assert (out - -2.19).abs().max() <= 10.0 + 1e-4
    out.sum().backward()
    assert text.log_scale.grad is not None and text.bias.grad is not None and text.proj.weight.grad is not None
    assert "text_embeddings" not in text.state_dict()  # from the file, never from a checkpoint
    assert all(5 not in p.shape for p in text.parameters())
    text.set_text_embeddings(np.ones((2, 6)))
    assert text(x).shape == (1, 2, 3, 3)
    with pytest.raises(ValueError, match="VERB_CLASSIFIER"):
        build_verb_classifier("mlp", 8, 5, -2.19)
    with pytest.raises(ValueError, match="EMBEDDINGS_FILE"):
        build_verb_classifier("text", 8, 5, -2.19)


def test_head_with_text_classifier_every_step():
    torch.manual_seed(0)
    emb = np.random.default_rng(1).normal(size=(V, 16))
    head = GlanceGazeHead(8, V, head_conv=8, num_actpoints=9, num_gaze_steps=2, verb_classifier="text",
                          text_embeddings=emb)
    out = head(torch.randn(2, 8, 6, 6))
    assert [t.shape for t in out["interaction_logits"]] == [(2, V, 6, 6)] * 3
    assert isinstance(head.glance_cls, TextVerbClassifier) and isinstance(head.gaze_cls[0], TextVerbClassifier)
    assert isinstance(head.gaze_cls[1][-1], TextVerbClassifier)
    # at initialisation the logits sit around the focal prior bias
    assert abs(torch.stack([t.mean() for t in out["interaction_logits"]]).mean().item() + 2.19) < 1.0


def _write(path, v, d=16, seed=0):
    rng = np.random.default_rng(seed)
    save_text_embeddings(str(path), TextEmbeddings(
        verb_embeddings=rng.normal(size=(v, d)), verb_classes=[f"verb{i}" for i in range(v)],
        verb_prompts=[[f"a photo of a person verb{i}ing"] for i in range(v)], model="test", pretrained="",
        prompt_kind="verb"))
    return str(path)


def test_model_trains_and_evaluates_on_another_verb_list(tmp_path):
    """Trained with 3 verbs, evaluated with 5 (NUM_VERBS from the file, APM shared as PPDM's)."""
    torch.manual_seed(0)
    cfg = tiny_cfg("dla", VERB_CLASSIFIER="text", APM_PER_VERB=False)
    cfg.MODEL.GGNET.TEXT.EMBEDDINGS_FILE = _write(tmp_path / "three.npz", V)
    model = build_model(apply_text_verb_list(cfg))
    losses = model(train_inputs())
    sum(losses.values()).backward()
    assert model.heads[0].interaction.glance_cls.proj.weight.grad is not None
    state = model.state_dict()

    cfg5 = tiny_cfg("dla", VERB_CLASSIFIER="text", APM_PER_VERB=False)
    cfg5.MODEL.GGNET.TEXT.EMBEDDINGS_FILE = _write(tmp_path / "five.npz", 5, seed=1)
    apply_text_verb_list(cfg5)
    assert cfg5.MODEL.GGNET.NUM_VERBS == 5
    model5 = build_model(cfg5)
    state.pop("valid_verb_object")  # (V, C): the dataset's fact, not a trained weight
    missing, unexpected = model5.load_state_dict(state, strict=False)
    assert missing == ["valid_verb_object"] and not unexpected
    model5.eval()
    with torch.no_grad():
        out = model5([{"image": torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8), "height": 64, "width": 64}])
    verbs = out[0]["hoi_instances"].verb_classes
    assert len(verbs) and int(verbs.max()) < 5
    assert (verbs >= V).any()  # the two verbs the model never trained on are scored and decoded


def test_num_verbs_must_match_the_file(tmp_path):
    cfg = tiny_cfg("dla", VERB_CLASSIFIER="text")
    cfg.MODEL.GGNET.TEXT.EMBEDDINGS_FILE = _write(tmp_path / "five.npz", 5)
    with pytest.raises(ValueError, match="holds 5 verbs"):
        build_model(cfg)
