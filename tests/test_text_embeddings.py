"""Text embeddings (issue 23 item 2): prompts, the embeddings file round trip, a tiny random CLIP, the nltk guard."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ggnet_d2.modeling.language import (TextEmbeddings, gerund, hoi_prompts, load_text_embeddings,
                                        save_text_embeddings, verb_prompts)

TINY_CLIP = os.path.join(os.path.dirname(__file__), "data", "tiny_clip.json")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gerunds_of_hico_verbs():
    labels = ("ride", "hop_on", "lie_on", "sit_at", "run", "tie", "see", "no_interaction", "brush_with", "text_on",
              "type_on", "swing", "sip", "control", "cut_instr", "hold_obj", "talk_on_phone_instr")
    assert [gerund(v) for v in labels] == [
        "riding", "hopping on", "lying on", "sitting at", "running", "tying", "seeing", "and", "brushing with",
        "texting on", "typing on", "swinging", "sipping", "controlling", "cutting with", "holding",
        "talking on phone with"]


def test_prompt_kinds():
    verbs, objects = ["ride", "hold", "wave"], ["person", "horse", "umbrella", "skis"]
    hois = [(0, 1), (1, 1), (1, 2), (0, 3)]
    assert hoi_prompts(hois, verbs, objects) == [
        "a photo of a person riding a horse", "a photo of a person holding a horse",
        "a photo of a person holding an umbrella", "a photo of a person riding skis"]
    by_hoi = verb_prompts("hoi", verbs, objects, hois)
    assert by_hoi == [["a photo of a person riding a horse", "a photo of a person riding skis"],
                      ["a photo of a person holding a horse", "a photo of a person holding an umbrella"],
                      ["a photo of a person waving"]]  # no HOI class: the verb prompt
    assert verb_prompts("verb", verbs) == [["a photo of a person riding"], ["a photo of a person holding"],
                                           ["a photo of a person waving"]]
    desc = verb_prompts("description", verbs, objects, hois, descriptions={"wave": ["the hand moves side to side"]})
    assert desc[1] == ["a photo of a person holding something, such as a horse or an umbrella"]
    assert desc[2] == ["a photo of a person waving", "the hand moves side to side"]
    with pytest.raises(ValueError, match="PROMPT"):
        verb_prompts("nonsense", verbs)


def _emb(v=3, d=4, n=2):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(v, d)).astype(np.float32)
    h = rng.normal(size=(n, d)).astype(np.float32)
    return TextEmbeddings(verb_embeddings=x / np.linalg.norm(x, axis=1, keepdims=True), verb_classes=["a", "b", "c"],
                          verb_prompts=[["pa"], ["pb1", "pb2"], ["pc"]], model="ViT-B-32", pretrained="openai",
                          prompt_kind="hoi", hoi_embeddings=h, hoi_classes=[[0, 1], [2, 0]], hoi_prompts=["x", "y"],
                          object_classes=["person", "dog"], open_clip_version="3.3.0", dataset="d")


def test_file_round_trip(tmp_path):
    emb = _emb()
    path = str(tmp_path / "sub" / "t.npz")
    save_text_embeddings(path, emb)
    back = load_text_embeddings(path)
    np.testing.assert_array_equal(back.verb_embeddings, emb.verb_embeddings)
    np.testing.assert_array_equal(back.hoi_embeddings, emb.hoi_embeddings)
    np.testing.assert_array_equal(back.hoi_classes, [[0, 1], [2, 0]])
    assert (back.model, back.pretrained, back.prompt_kind) == ("ViT-B-32", "openai", "hoi")
    assert back.verb_prompts == [["pa"], ["pb1", "pb2"], ["pc"]] and back.hoi_prompts == ["x", "y"]
    assert back.verb_classes == ["a", "b", "c"] and back.object_classes == ["person", "dog"]


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_text_embeddings"):
        load_text_embeddings(str(tmp_path / "none.npz"))
    bad = _emb()
    bad.verb_classes = ["a"]
    with pytest.raises(ValueError, match="3 verb embeddings but 1 verb classes"):
        save_text_embeddings(str(tmp_path / "bad.npz"), bad)
    np.savez(str(tmp_path / "other.npz"), x=np.zeros(2))
    with pytest.raises(ValueError, match="other.npz: not a text-embeddings file"):
        load_text_embeddings(str(tmp_path / "other.npz"))


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    pytest.importorskip("open_clip")
    from ggnet_d2.modeling.language.clip_models import build_clip, register_clip_config

    with open(TINY_CLIP) as f:
        register_clip_config("ggnet-tiny-clip", json.load(f), str(tmp_path_factory.mktemp("clipcfg")))
    return build_clip("ggnet-tiny-clip", "")


def test_tiny_clip_embeddings(tiny_clip, tmp_path):
    """Each verb's embedding is the normalised mean of its prompts' text embeddings, computed independently here."""
    import torch

    from ggnet_d2.modeling.language.clip_models import build_text_embeddings

    model, tokenizer, (mean, std) = tiny_clip
    assert len(mean) == 3 and len(std) == 3
    verbs, objects, hois = ["ride", "hold"], ["person", "horse", "bicycle"], [(0, 1), (0, 2), (1, 1)]
    emb = build_text_embeddings(model, tokenizer, verb_classes=verbs, object_classes=objects, hoi_classes=hois,
                                prompt_kind="hoi", model_name="ggnet-tiny-clip", pretrained="")
    with torch.no_grad():
        t = model.encode_text(tokenizer(["a photo of a person riding a horse", "a photo of a person riding a bicycle",
                                         "a photo of a person holding a horse"]))
    t = torch.nn.functional.normalize(t, dim=-1).numpy()
    ride = (t[0] + t[1]) / np.linalg.norm(t[0] + t[1])
    np.testing.assert_allclose(emb.verb_embeddings[0], ride, atol=1e-5)
    np.testing.assert_allclose(emb.verb_embeddings[1], t[2], atol=1e-5)
    np.testing.assert_allclose(emb.hoi_embeddings, t, atol=1e-5)
    assert emb.verb_embeddings.shape == (2, 16)
    path = str(tmp_path / "t.npz")
    save_text_embeddings(path, emb)
    back = load_text_embeddings(path)
    assert back.model == "ggnet-tiny-clip" and back.pretrained == "" and back.hoi_prompts[2].endswith("a horse")


def test_build_text_embeddings_tool(tmp_path):
    pytest.importorskip("open_clip")
    out = str(tmp_path / "synth.npz")
    env = dict(os.environ, PYTHONPATH=REPO, GGNET_D2_CACHE=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "build_text_embeddings.py"), "--output", out,
                        "--dataset", "synth_hoi_test", "--clip-config", TINY_CLIP,
                        "MODEL.GGNET.TEXT.CLIP_MODEL", "ggnet-tiny-clip-tool", "MODEL.GGNET.TEXT.CLIP_PRETRAINED", "",
                        "MODEL.GGNET.TEXT.PROMPT", "verb", "MODEL.DEVICE", "cpu"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    emb = load_text_embeddings(out)
    assert emb.verb_classes == ["hold", "throw", "kick", "ride", "push", "carry", "sit_on"]
    assert emb.verb_prompts[6] == ["a photo of a person sitting on"]
    assert len(emb.hoi_classes) == 7 and emb.model == "ggnet-tiny-clip-tool" and emb.dataset == "synth_hoi_test"


def test_nltk_download_guarded(tmp_path):
    """An open_clip that calls nltk.download() at import (one release did) must not reach it through us."""
    (tmp_path / "nltk").mkdir()
    (tmp_path / "nltk" / "__init__.py").write_text(
        "def download(*a, **k):\n    raise RuntimeError('nltk.download reached the network')\n")
    (tmp_path / "open_clip").mkdir()
    (tmp_path / "open_clip" / "__init__.py").write_text("import nltk\nnltk.download('punkt')\nOK = True\n")
    code = textwrap.dedent("""
        import nltk
        from ggnet_d2.modeling.language.clip_models import import_open_clip
        oc = import_open_clip()
        assert oc.OK
        try:
            nltk.download('x')
        except RuntimeError:
            print('restored')
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), REPO]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "restored"
