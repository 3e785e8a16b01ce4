"""Map state dicts of the reference implementations onto ggnet_d2's parameter names, strictly.

Recognised sources (their parameter names, read from the authors' model files; see ``REFERENCE_SOURCES``):

- CenterNet (Zhou et al. 2019) COCO ``ctdet`` models: ``pose_dla_dcn.py`` DLA-34 (``base.*``, ``dla_up.*``,
  ``ida_up.*``, heads ``hm/wh/reg.{0,2}.*``; ``base.fc.*`` is DLA's ImageNet classifier, which their network never
  reads), ``large_hourglass.py`` Hourglass-104 (``pre.*``, ``kps.*``, ``cnvs.*``, ``inters.*``, ``inters_.*``,
  ``cnvs_.*``, heads ``hm/wh/reg.{stack}.0.conv.*`` / ``.{stack}.1.*``) and ``msra_resnet.py`` ResNets. They
  provide no HOI head: the interaction and APM heads are this source's declared gap.
- PPDM (Liao et al. 2020) HICO-DET models, ``pose_dla_dcn.py`` / ``large_hourglass.py`` of PPDM: CenterNet's layout
  plus heads ``hm_rel`` (interaction heatmap) and ``sub_offset`` / ``obj_offset`` (2-channel point-matching
  offsets). Every PPDM head reads the backbone features (``DLASeg.forward`` / ``exkp.forward``), so these weights
  need ``MODEL.GGNET.APM_INPUT: "backbone"``, ``APM_PER_VERB: False`` and ``NUM_GAZE_STEPS: 0``.
- GGNet (Zhong et al. 2021) Hourglass-104 models of the authors' repository, ``src/lib/models/networks``:
  ``ggnet_hourglass_s1.py`` (``--arch hourglassggnet1``, their HICO-DET script: ``hm_dcn``, ``refine_dcn``,
  ``refine_head``, one gaze step) and ``ggnet_hourglass_s2.py`` (``--arch hourglassggnet2``, their V-COCO script:
  ``hm_dcn1/2``, ``refine_dcn1/2``, ``refine_head1`` (a 1x1 conv), ``refine_head2`` (the 1x1 conv - ReLU - 1x1 conv
  classifier of ``make_kp_refine_layer``)). Their APM heads (``sub_offset``/``obj_offset``, 2V channels) read the
  glance features F0 (``i_hm_feature``).
- K gaze steps, K >= 3: the authors' repository has no such file. We define it as the natural extension of
  ``ggnet_hourglass_s2.py``'s naming: ``hm_dcn1..K``, ``refine_dcn1..K`` and ``refine_head1..K``, where
  ``refine_head1..K-1`` are single 1x1 convs and ``refine_head{K}`` is the ``make_kp_refine_layer`` classifier.

Mapping (ours on the right; {s} = Hourglass stack, 0 for single-output backbones):
  backbone modules                      -> ``backbone.<same name>``
  hm / wh / reg                         -> ``heads.{s}.object.hm / wh / reg``
  hm_rel (conv / classifier)            -> ``heads.{s}.interaction.glance_conv / glance_cls``
  sub_offset / obj_offset               -> ``heads.{s}.apm.subject / apm.object``
  hm_dcn[k].{s}.conv                    -> ``heads.{s}.interaction.gaze_feats.{k-1}``  (no k: k = 1)
  refine_dcn[k].{s}.conv_offset_mask    -> ``heads.{s}.interaction.gaze_offsets.{k-1}``
  refine_dcn[k].{s}.weight / bias       -> ``heads.{s}.interaction.gaze_dcns.{k-1}.weight / bias``
  refine_head[k].{s}.0                  -> ``heads.{s}.interaction.gaze_cls.{k-1}``  (a single conv)
  refine_head[k].{s}.0.conv / .1        -> ``heads.{s}.interaction.gaze_cls.{k-1}.0 / .2``  (the last step's MLP)
Head convs are CenterNet ``Sequential(conv, ReLU, conv)`` (``.0``/``.2``) for DLA/ResNet and
``Sequential(convolution, conv)`` (``.0.conv``/``.1``) for Hourglass; both land on our ``.0``/``.2``.

Strictness: ``convert_reference_state_dict`` reports every reference tensor without a counterpart (name or shape)
and every one of our tensors the source should have provided but did not; ``check_conversion`` turns a report with
any of them into an ``IncompleteCheckpointError`` unless partial loading is allowed. The only accepted gaps are
declared per source (``ReferenceSource.accepted_gaps``) and are listed in the report. BatchNorm's
``num_batches_tracked`` counters are optional (checkpoints saved before PyTorch 0.4.1 lack them; inference never
reads them).
"""
import re
from dataclasses import dataclass

__all__ = ["ReferenceSource", "REFERENCE_SOURCES", "IncompleteCheckpointError", "convert_reference_state_dict",
           "check_conversion", "detect_reference_source", "format_conversion_report",
           "looks_like_reference_state_dict", "strip_module_prefix"]

_BACKBONE_PREFIXES = ("base", "dla_up", "ida_up", "pre", "kps", "cnvs", "inters", "inters_", "cnvs_", "conv1",
                      "bn1", "layer1", "layer2", "layer3", "layer4", "deconv_layers")
_HEADS = {"hm": "object.hm", "wh": "object.wh", "reg": "object.reg", "sub_offset": "apm.subject",
          "obj_offset": "apm.object"}
_P = r"(weight|bias|running_mean|running_var|num_batches_tracked)$"
_HOI_HEADS = r"^heads\.\d+\.(interaction|apm)\."
_OPTIONAL = re.compile(r"\.num_batches_tracked$")


class IncompleteCheckpointError(ValueError):
    """A reference checkpoint does not map completely onto the model (the message lists every problem)."""


@dataclass(frozen=True)
class ReferenceSource:
    """One family of reference checkpoints.

    Attributes:
        key (str): short name, e.g. ``"ggnet_hourglass_s1"``.
        description (str): what it is and the authors' file that defines it.
        gaze_steps (int or None): gaze steps of its network; None when it has no interaction head (a detector).
        apm_input (str or None): ``"glance"`` / ``"backbone"``: what its APM heads read; None without APM heads.
        apm_per_verb (bool or None): 2V-channel APM (GGNet) or 2-channel (PPDM).
        accepted_gaps (tuple[str]): regexes over *our* names the source cannot provide (left at initialisation).
        unused (tuple[str]): regexes over *reference* names their network never reads (dropped, reported).
    """

    key: str
    description: str
    gaze_steps: object = None
    apm_input: object = None
    apm_per_verb: object = None
    accepted_gaps: tuple = ()
    unused: tuple = ()


_DLA_FC = (r"^base\.fc\.",)
REFERENCE_SOURCES = {
    "centernet_dla34": ReferenceSource(
        "centernet_dla34", "CenterNet COCO ctdet DLA-34 (CenterNet src/lib/models/networks/pose_dla_dcn.py, "
        "e.g. ctdet_coco_dla_2x.pth)", accepted_gaps=(_HOI_HEADS,), unused=_DLA_FC),
    "centernet_hourglass104": ReferenceSource(
        "centernet_hourglass104", "CenterNet COCO ctdet Hourglass-104 (CenterNet src/lib/models/networks/"
        "large_hourglass.py, e.g. ctdet_coco_hg.pth)", accepted_gaps=(_HOI_HEADS,)),
    "centernet_resnet": ReferenceSource(
        "centernet_resnet", "CenterNet COCO ctdet ResNet (CenterNet src/lib/models/networks/msra_resnet.py)",
        accepted_gaps=(_HOI_HEADS,)),
    "ppdm_dla34": ReferenceSource(
        "ppdm_dla34", "PPDM DLA-34 HOI model (PPDM src/lib/models/networks/pose_dla_dcn.py, --arch dla_34)",
        gaze_steps=0, apm_input="backbone", apm_per_verb=False, unused=_DLA_FC),
    "ppdm_hourglass104": ReferenceSource(
        "ppdm_hourglass104", "PPDM Hourglass-104 HOI model (PPDM src/lib/models/networks/large_hourglass.py, "
        "--arch hourglass)", gaze_steps=0, apm_input="backbone", apm_per_verb=False),
    "ggnet_hourglass_s1": ReferenceSource(
        "ggnet_hourglass_s1", "GGNet Hourglass-104, 1 gaze step (GGNet src/lib/models/networks/"
        "ggnet_hourglass_s1.py, --arch hourglassggnet1: the authors' HICO-DET model)",
        gaze_steps=1, apm_input="glance", apm_per_verb=True),
    "ggnet_hourglass_s2": ReferenceSource(
        "ggnet_hourglass_s2", "GGNet Hourglass-104, 2 gaze steps (GGNet src/lib/models/networks/"
        "ggnet_hourglass_s2.py, --arch hourglassggnet2: the authors' V-COCO model)",
        gaze_steps=2, apm_input="glance", apm_per_verb=True),
    "ggnet_hourglass_s3": ReferenceSource(
        "ggnet_hourglass_s3", "GGNet Hourglass-104, 3 gaze steps (not in the authors' repository: "
        "ggnet_hourglass_s2.py's naming extended to hm_dcn1-3 / refine_dcn1-3 / refine_head1-3)",
        gaze_steps=3, apm_input="glance", apm_per_verb=True),
}


def _rules():
    rules = [(rf"^({'|'.join(re.escape(p) for p in _BACKBONE_PREFIXES)})\.(.*)$", r"backbone.\1.\2")]
    for ref, ours in _HEADS.items():
        rules += [(rf"^{ref}\.([02])\.{_P}", rf"heads.0.{ours}.\1.\2"),
                  (rf"^{ref}\.(\d+)\.0\.conv\.{_P}", rf"heads.\1.{ours}.0.\2"),
                  (rf"^{ref}\.(\d+)\.1\.{_P}", rf"heads.\1.{ours}.2.\2")]
    rules += [(rf"^hm_rel\.0\.{_P}", r"heads.0.interaction.glance_conv.\1"),
              (rf"^hm_rel\.2\.{_P}", r"heads.0.interaction.glance_cls.\1"),
              (rf"^hm_rel\.(\d+)\.0\.conv\.{_P}", r"heads.\1.interaction.glance_conv.\2"),
              (rf"^hm_rel\.(\d+)\.1\.{_P}", r"heads.\1.interaction.glance_cls.\2")]
    return [(re.compile(a), b) for a, b in rules]


_RULES = _rules()
# Gaze modules; group 1 is the step number k ("" for ggnet_hourglass_s1's unnumbered names), group 2 the stack.
_GAZE = [(re.compile(rf"^hm_dcn(\d*)\.(\d+)\.conv\.{_P}"), "gaze_feats.{k}.{p}"),
         (re.compile(rf"^refine_dcn(\d*)\.(\d+)\.conv_offset_mask\.{_P}"), "gaze_offsets.{k}.{p}"),
         (re.compile(rf"^refine_dcn(\d*)\.(\d+)\.{_P}"), "gaze_dcns.{k}.{p}"),
         (re.compile(rf"^refine_head(\d*)\.(\d+)\.0\.conv\.{_P}"), "gaze_cls.{k}.0.{p}"),
         (re.compile(rf"^refine_head(\d*)\.(\d+)\.1\.{_P}"), "gaze_cls.{k}.2.{p}"),
         (re.compile(rf"^refine_head(\d*)\.(\d+)\.0\.{_P}"), "gaze_cls.{k}.{p}")]
_GAZE_STEP = re.compile(r"^(?:hm_dcn|refine_dcn|refine_head)(\d*)\.")


def strip_module_prefix(state_dict):
    """Drop DataParallel's ``module.`` prefix from every key."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state_dict.items()}


def looks_like_reference_state_dict(state_dict):
    """True when the keys follow CenterNet/PPDM/GGNet naming rather than ours (no ``backbone.``/``heads.`` key)."""
    keys = list(strip_module_prefix(state_dict))
    if any(k.startswith(("backbone.", "heads.")) for k in keys):
        return False
    return any(k.split(".")[0] in _BACKBONE_PREFIXES + ("hm", "hm_rel") for k in keys)


def detect_reference_source(state_dict):
    """Recognise which reference network a state dict comes from, by its parameter names.

    Args:
        state_dict (dict[str, Tensor]): reference weights (``module.`` prefixes allowed).

    Returns:
        ReferenceSource: one of ``REFERENCE_SOURCES``, or, for GGNet-style gaze heads with more than 3 steps or on
        another backbone, a ReferenceSource built on the fly (key ``ggnet_<backbone>_s<K>``).

    Raises:
        IncompleteCheckpointError: the names fit none of the sources (no recognisable backbone).
    """
    keys = list(strip_module_prefix(state_dict))
    tops = {k.split(".")[0] for k in keys}
    if "base" in tops or "dla_up" in tops:
        backbone = "dla34"
    elif tops & {"pre", "kps", "cnvs"}:
        backbone = "hourglass104"
    elif tops & {"layer1", "deconv_layers"}:
        backbone = "resnet"
    else:
        raise IncompleteCheckpointError(
            f"unrecognised reference checkpoint: no CenterNet/PPDM/GGNet backbone among its top-level names "
            f"{sorted(tops)[:20]}")
    steps = [m.group(1) for m in map(_GAZE_STEP.match, keys) if m]
    if steps:
        k = max(int(s) if s else 1 for s in steps)
        key = f"ggnet_{'hourglass' if backbone == 'hourglass104' else backbone}_s{k}"
        if key in REFERENCE_SOURCES:
            return REFERENCE_SOURCES[key]
        return ReferenceSource(key, f"GGNet-style gaze heads with {k} steps on {backbone} (not released by the "
                                    f"authors; ggnet_hourglass_s2.py's naming extended)",
                               gaze_steps=k, apm_input="glance", apm_per_verb=True,
                               unused=_DLA_FC if backbone == "dla34" else ())
    if "hm_rel" in tops:
        if backbone == "resnet":
            return ReferenceSource("ppdm_resnet", "PPDM ResNet HOI model (PPDM src/lib/models/networks/"
                                                  "resnet_dcn.py)", gaze_steps=0, apm_input="backbone",
                                   apm_per_verb=False)
        return REFERENCE_SOURCES[f"ppdm_{backbone}"]
    return REFERENCE_SOURCES[f"centernet_{backbone}"]


def _rename(key):
    for pattern, fmt in _GAZE:
        m = pattern.match(key)
        if m:
            k = int(m.group(1)) - 1 if m.group(1) else 0
            return f"heads.{m.group(2)}.interaction." + fmt.format(k=k, p=m.group(3))
    for pattern, repl in _RULES:
        if pattern.match(key):
            return pattern.sub(repl, key)
    return None


def _model_facts(target_state_dict):
    """Gaze steps and APM channels of our model, read from its parameter names/shapes (stack 0)."""
    steps = {int(m.group(1)) for m in (re.match(r"^heads\.0\.interaction\.gaze_dcns\.(\d+)\.weight$", k)
                                       for k in target_state_dict) if m}
    apm = target_state_dict.get("heads.0.apm.subject.2.weight")
    return len(steps), (None if apm is None else int(apm.shape[0]))


def convert_reference_state_dict(state_dict, target_state_dict, *, source=None, apm_input=None):
    """Rename a reference state dict onto ours and report, strictly, what did not map.

    Args:
        state_dict (dict[str, Tensor]): reference weights (``module.`` prefixes allowed).
        target_state_dict (dict[str, Tensor]): ``model.state_dict()`` of the GGNet model to load into (only names
            and shapes are read: meta tensors are fine).
        source (ReferenceSource or str or None): force a source; None recognises it (``detect_reference_source``).
        apm_input (str or None): the model's ``MODEL.GGNET.APM_INPUT``; when given and the source's APM heads read
            something else, that is reported as a problem (shapes alone cannot tell for Hourglass, where F0 and the
            backbone features both have 256 channels).

    Returns:
        tuple: (converted dict[str, Tensor] in our names, report dict) with report keys
          ``source`` (ReferenceSource), ``unmatched`` (reference keys without a counterpart name),
          ``unused`` (reference keys their network never reads; dropped), ``shape_mismatch``
          (``"ref -> ours: ref_shape vs our_shape"``), ``not_loaded`` (every key of ours that received nothing),
          ``accepted_gaps`` (those of ``not_loaded`` declared for the source), ``missing`` (those of
          ``not_loaded`` the source should have provided), ``optional_missing`` (BatchNorm counters),
          ``problems`` (architecture disagreements, e.g. gaze steps), ``complete`` (bool: nothing unmatched,
          mismatched, missing, no problem).

    Raises:
        IncompleteCheckpointError: the source cannot be recognised.
    """
    state_dict = strip_module_prefix(state_dict)
    if source is None:
        source = detect_reference_source(state_dict)
    elif isinstance(source, str):
        source = REFERENCE_SOURCES[source]
    unused_res = [re.compile(p) for p in source.unused]
    converted, unmatched, unused, mismatch = {}, [], [], []
    for key, value in state_dict.items():
        if any(p.search(key) for p in unused_res):
            unused.append(key)
            continue
        new = _rename(key)
        if new is None or new not in target_state_dict:
            unmatched.append(key)
        elif tuple(target_state_dict[new].shape) != tuple(value.shape):
            mismatch.append(f"{key} -> {new}: {tuple(value.shape)} vs {tuple(target_state_dict[new].shape)}")
        else:
            converted[new] = value
    # valid_verb_object is a dataset fact the model keeps (GGNet's buffer), never a weight of a reference checkpoint.
    not_loaded = [k for k in target_state_dict if k not in converted and not k.endswith("valid_verb_object")]
    gap_res = [re.compile(p) for p in source.accepted_gaps]
    optional = [k for k in not_loaded if _OPTIONAL.search(k)]
    gaps = [k for k in not_loaded if k not in optional and any(p.search(k) for p in gap_res)]
    missing = [k for k in not_loaded if k not in optional and k not in gaps]
    problems = []
    steps, apm_channels = _model_facts(target_state_dict)
    if source.gaze_steps is not None and source.gaze_steps != steps:
        problems.append(f"the source has {source.gaze_steps} gaze step(s), the model {steps} "
                        f"(MODEL.GGNET.NUM_GAZE_STEPS)")
    if source.apm_input is not None and apm_input is not None and source.apm_input != apm_input:
        problems.append(f"the source's APM heads read the {source.apm_input} features, the model's the "
                        f"{apm_input} features (MODEL.GGNET.APM_INPUT)")
    if source.apm_per_verb is not None and apm_channels is not None and (apm_channels != 2) != source.apm_per_verb:
        problems.append(f"the source's APM heads are {'per verb' if source.apm_per_verb else 'shared (2 channels)'}"
                        f", the model's are not (MODEL.GGNET.APM_PER_VERB)")
    report = {"source": source, "unmatched": unmatched, "unused": unused, "shape_mismatch": mismatch,
              "not_loaded": not_loaded, "accepted_gaps": gaps, "missing": missing, "optional_missing": optional,
              "problems": problems, "num_converted": len(converted), "num_reference": len(state_dict),
              "num_target": len(target_state_dict)}
    report["complete"] = not (unmatched or mismatch or missing or problems)
    return converted, report


def format_conversion_report(report, name=""):
    """Human-readable text of a ``convert_reference_state_dict`` report: the recognised source, counts, and every
    unmapped / mismatched / missing tensor and accepted gap by name."""
    src = report["source"]
    lines = [f"{name + ': ' if name else ''}recognised source: {src.key}: {src.description}",
             f"mapped {report['num_converted']} of {report['num_reference']} reference tensors onto "
             f"{report['num_target']} model tensors"]
    sections = [("architecture problems", report["problems"]),
                ("unmapped reference tensors", report["unmatched"]),
                ("shape mismatches (reference -> ours: reference shape vs ours)", report["shape_mismatch"]),
                ("model tensors left at initialisation that the source should provide", report["missing"]),
                ("accepted gaps (declared for this source, left at initialisation)", report["accepted_gaps"]),
                ("reference tensors their network never reads (dropped)", report["unused"])]
    for title, items in sections:
        lines.append(f"{title}: {len(items)}")
        lines += ["  " + item for item in items]
    if report["optional_missing"]:
        lines.append(f"BatchNorm num_batches_tracked counters absent from the source (unused at inference): "
                     f"{len(report['optional_missing'])}")
    lines.append("conversion complete" if report["complete"] else "conversion INCOMPLETE")
    return "\n".join(lines)


def check_conversion(report, allow_partial=False, name=""):
    """Raise unless the conversion is complete (or ``allow_partial``).

    Raises:
        IncompleteCheckpointError: with ``format_conversion_report``'s text, naming every unmapped, mismatched or
            missing tensor, and how to override (``--allow-partial`` / ``MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL``).
    """
    if report["complete"] or allow_partial:
        return
    raise IncompleteCheckpointError(
        format_conversion_report(report, name) + "\nRefusing a partial conversion; pass --allow-partial "
        "(tools/convert_weights.py) or set MODEL.GGNET.WEIGHTS_ALLOW_PARTIAL True to load it anyway.")
