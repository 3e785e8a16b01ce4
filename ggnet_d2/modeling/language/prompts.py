"""Text prompts for verbs and HOI classes.

Three kinds (MODEL.GGNET.TEXT.PROMPT):

- ``"hoi"``: one prompt per HOI class, ``HOI_TEMPLATE`` = "a photo of a person {verb} {object}" (GEN-VLKT's and
  EoID's HOI prompt form); a verb's embedding is the normalised mean over the prompts of its HOI classes (CLIP's
  prompt ensembling, Radford et al. 2021 Sec. 3.1.4).
- ``"verb"``: one prompt per verb, ``VERB_TEMPLATE`` = "a photo of a person {verb}".
- ``"description"``: per-verb structured text in the spirit of RmLR (Cao et al., ICCV 2023: verbs described with
  knowledge instead of a bare label): ``DESCRIPTION_TEMPLATE`` names the objects the verb takes in the dataset
  ("a photo of a person {verb} something, such as {objects}"), plus any sentences given for the verb in a JSON file
  ``{verb name: [sentence, ...]}`` (``DESCRIPTIONS_FILE``); all of a verb's sentences are averaged.

``{verb}`` is the verb's present participle (:func:`gerund`), ``{object}`` the object name with underscores as
spaces.
"""

__all__ = ["PROMPT_KINDS", "gerund", "hoi_prompts", "verb_prompts"]

PROMPT_KINDS = ("hoi", "verb", "description")

# English spelling: a final consonant doubled before -ing (stressed short vowel + single consonant)
_DOUBLED = {"cut", "hit", "hop", "pet", "run", "set", "sit", "stab", "stir", "stop", "tag", "drag", "flip", "zip",
            "dig", "grab", "hug", "jog", "nap", "pat", "rub", "shop", "skip", "slip", "spin", "swim", "tap", "trim",
            "wag", "chop", "drop", "get", "put", "bat", "pop", "ship", "slap", "snap", "step", "strip", "swap", "wrap",
            "sip", "control", "patrol", "begin", "plan", "rob", "shut", "sit", "spit", "trip", "win"}
# verbs whose final e stays before -ing
_KEEP_E = {"see", "flee", "agree", "free", "dye", "hoe", "toe", "tiptoe", "referee"}
# V-COCO's role suffixes: the instrument follows "with", the object needs no word
_ROLE_WORDS = {"instr": "with", "obj": "", "agent": ""}
# labels that are no verb phrase
_SPECIAL = {"no_interaction": "and"}


def gerund(verb):
    """Present participle of a dataset verb label: "ride" -> "riding", "hop_on" -> "hopping on", "lie_on" ->
    "lying on", "no_interaction" -> "and" (so "a photo of a person and a dog"), V-COCO's "cut_instr" -> "cutting
    with", "hold_obj" -> "holding".

    Args:
        verb (str): verb label, words separated by underscores or spaces.

    Returns:
        str: the phrase with its first word in -ing form.
    """
    if verb in _SPECIAL:
        return _SPECIAL[verb]
    words = verb.replace("_", " ").split()
    if len(words) > 1 and words[-1] in _ROLE_WORDS:  # V-COCO action-role names: "cut_instr", "hold_obj"
        words = words[:-1] + ([_ROLE_WORDS[words[-1]]] if _ROLE_WORDS[words[-1]] else [])
    if not words:
        return verb
    w = words[0]
    if w.endswith("ie"):
        ing = w[:-2] + "ying"
    elif w in _DOUBLED:
        ing = w + w[-1] + "ing"
    elif w.endswith("e") and w not in _KEEP_E and len(w) > 2:
        ing = w[:-1] + "ing"
    else:
        ing = w + "ing"
    return " ".join([ing] + words[1:])


def _name(label):
    return label.replace("_", " ")


# plural-only object names take no article ("a person riding skis")
_NO_ARTICLE = {"skis", "scissors"}


def _article(name):
    if name in _NO_ARTICLE:
        return name
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def hoi_prompts(hoi_classes, verb_classes, object_classes, template="a photo of a person {verb} {object}"):
    """One prompt per HOI class.

    Args:
        hoi_classes (list[tuple[int, int]]): (verb id, object id) of each HOI class.
        verb_classes, object_classes (list[str]): labels.
        template (str): with ``{verb}`` (gerund) and ``{object}`` (object with its indefinite article).

    Returns:
        list[str], one per HOI class.
    """
    return [template.format(verb=gerund(verb_classes[v]), object=_article(_name(object_classes[o])))
            for v, o in hoi_classes]


def verb_prompts(kind, verb_classes, object_classes=None, hoi_classes=None, *, hoi_template=None, verb_template=None,
                 description_template=None, descriptions=None):
    """The prompts whose embeddings are averaged into each verb's embedding.

    Args:
        kind (str): one of ``PROMPT_KINDS``.
        verb_classes (list[str]): V verb labels.
        object_classes (list[str] | None): object labels ("hoi", "description").
        hoi_classes (list[tuple[int, int]] | None): (verb, object) of the dataset's HOI classes ("hoi",
            "description"); a verb without any ("hoi") falls back to the verb prompt.
        hoi_template, verb_template, description_template (str): templates (module docstring).
        descriptions (dict[str, list[str]] | None): extra sentences per verb label ("description").

    Returns:
        list[list[str]]: V non-empty lists of prompts.

    Raises:
        ValueError: unknown ``kind``, or "hoi"/"description" without ``object_classes`` / ``hoi_classes``.
    """
    hoi_template = hoi_template or "a photo of a person {verb} {object}"
    verb_template = verb_template or "a photo of a person {verb}"
    description_template = description_template or "a photo of a person {verb} something, such as {objects}"
    if kind not in PROMPT_KINDS:
        raise ValueError(f"MODEL.GGNET.TEXT.PROMPT must be one of {PROMPT_KINDS}, got {kind!r}")
    plain = [verb_template.format(verb=gerund(v)) for v in verb_classes]
    if kind == "verb":
        return [[p] for p in plain]
    if object_classes is None or hoi_classes is None:
        raise ValueError(f"prompt kind {kind!r} needs the object classes and the HOI classes (verb, object)")
    objects_of = [[] for _ in verb_classes]
    for v, o in hoi_classes:
        objects_of[v].append(o)
    if kind == "hoi":
        per_hoi = hoi_prompts(hoi_classes, verb_classes, object_classes, hoi_template)
        out = [[] for _ in verb_classes]
        for (v, _), p in zip(hoi_classes, per_hoi):
            out[v].append(p)
        return [ps or [plain[v]] for v, ps in enumerate(out)]
    descriptions = descriptions or {}
    out = []
    for v, label in enumerate(verb_classes):
        names = [_article(_name(object_classes[o])) for o in objects_of[v]]
        if names:
            objects = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
            sentences = [description_template.format(verb=gerund(label), objects=objects)]
        else:
            sentences = [plain[v]]
        out.append(sentences + list(descriptions.get(label, [])))
    return out
