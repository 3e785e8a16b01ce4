"""Map state dicts of the reference implementations onto ggnet_d2's parameter names.

Supported sources (their parameter names, as in the authors' code):
- CenterNet (Zhou et al. 2019) COCO models: ``pose_dla_dcn.py`` DLA-34 (``base.*``, ``dla_up.*``, ``ida_up.*``,
  heads ``hm/wh/reg.{0,2}.*``), ``large_hourglass.py`` Hourglass-104 (``pre.*``, ``kps.*``, ``cnvs.*``,
  ``inters.*``, ``inters_.*``, ``cnvs_.*``, heads ``hm/wh/reg.{stack}.0.conv.*`` / ``.{stack}.1.*``),
  ``msra_resnet.py`` (``conv1``, ``bn1``, ``layer1-4``, ``deconv_layers``).
- PPDM (Liao et al. 2020) and GGNet (Zhong et al. 2021) HOI models: additional heads ``hm_rel`` (glance /
  PPDM interaction heatmap), ``sub_offset``/``obj_offset`` (APM), and GGNet's two-step gaze modules ``hm_dcn{k}``
  (F_k conv), ``refine_dcn{k}`` (deformable conv + its ``conv_offset_mask`` ActPoint predictor), ``refine_head1``
  (gaze-1 classifier) and ``refine_head2`` (final gaze classifier).

Mapping (ours on the right; {s} = Hourglass stack, 0 for single-output backbones):
  backbone modules                    -> ``backbone.<same name>``
  hm / wh / reg                       -> ``heads.{s}.object.hm / wh / reg``
  hm_rel (conv / classifier)          -> ``heads.{s}.interaction.glance_conv / glance_cls``
  sub_offset / obj_offset             -> ``heads.{s}.apm.subject / apm.object``
  hm_dcn{k}.{s}.conv                  -> ``heads.{s}.interaction.gaze_feats.{k-1}``
  refine_dcn{k}.{s}.conv_offset_mask  -> ``heads.{s}.interaction.gaze_offsets.{k-1}``
  refine_dcn{k}.{s}.weight / bias     -> ``heads.{s}.interaction.gaze_dcns.{k-1}.weight / bias``
  refine_head1.{s}.0                  -> ``heads.{s}.interaction.gaze_cls.0``
  refine_head2.{s}.0.conv / .1        -> ``heads.{s}.interaction.gaze_cls.1.0 / .2``
Head convs are CenterNet ``Sequential(conv, ReLU, conv)`` (``.0``/``.2``) for DLA/ResNet and
``Sequential(convolution, conv)`` (``.0.conv``/``.1``) for Hourglass; both land on our ``.0``/``.2``. A tensor whose
name or shape has no counterpart is reported, never loaded (e.g. COCO's 80-class ``hm`` when NUM_CLASSES != 80,
PPDM's APM heads whose input is the backbone rather than our glance features, DLA's ImageNet ``base.fc``).
"""
import re

__all__ = ["convert_reference_state_dict", "looks_like_reference_state_dict", "strip_module_prefix"]

_BACKBONE_PREFIXES = ("base", "dla_up", "ida_up", "pre", "kps", "cnvs", "inters", "inters_", "cnvs_", "conv1",
                      "bn1", "layer1", "layer2", "layer3", "layer4", "deconv_layers")
_HEADS = {"hm": "object.hm", "wh": "object.wh", "reg": "object.reg", "sub_offset": "apm.subject",
          "obj_offset": "apm.object"}
_P = r"(weight|bias|running_mean|running_var|num_batches_tracked)$"


def _rules():
    rules = [(rf"^({'|'.join(re.escape(p) for p in _BACKBONE_PREFIXES)})\.(.*)$", r"backbone.\1.\2")]
    for ref, ours in _HEADS.items():
        rules += [(rf"^{ref}\.([02])\.{_P}", rf"heads.0.{ours}.\1.\2"),
                  (rf"^{ref}\.(\d+)\.0\.conv\.{_P}", rf"heads.\1.{ours}.0.\2"),
                  (rf"^{ref}\.(\d+)\.1\.{_P}", rf"heads.\1.{ours}.2.\2")]
    rules += [(rf"^hm_rel\.0\.{_P}", r"heads.0.interaction.glance_conv.\1"),
              (rf"^hm_rel\.2\.{_P}", r"heads.0.interaction.glance_cls.\1"),
              (rf"^hm_rel\.(\d+)\.0\.conv\.{_P}", r"heads.\1.interaction.glance_conv.\2"),
              (rf"^hm_rel\.(\d+)\.1\.{_P}", r"heads.\1.interaction.glance_cls.\2"),
              (rf"^refine_head1\.(\d+)\.0\.{_P}", r"heads.\1.interaction.gaze_cls.0.\2"),
              (rf"^refine_head2\.(\d+)\.0\.conv\.{_P}", r"heads.\1.interaction.gaze_cls.1.0.\2"),
              (rf"^refine_head2\.(\d+)\.1\.{_P}", r"heads.\1.interaction.gaze_cls.1.2.\2")]
    return [(re.compile(a), b) for a, b in rules]


_RULES = _rules()
_GAZE = [(re.compile(rf"^hm_dcn(\d)\.(\d+)\.conv\.{_P}"), "heads.{s}.interaction.gaze_feats.{k}.{p}"),
         (re.compile(rf"^refine_dcn(\d)\.(\d+)\.conv_offset_mask\.{_P}"), "heads.{s}.interaction.gaze_offsets.{k}.{p}"),
         (re.compile(rf"^refine_dcn(\d)\.(\d+)\.{_P}"), "heads.{s}.interaction.gaze_dcns.{k}.{p}")]


def strip_module_prefix(state_dict):
    """Drop DataParallel's ``module.`` prefix from every key."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state_dict.items()}


def looks_like_reference_state_dict(state_dict):
    """True when the keys follow CenterNet/PPDM/GGNet naming rather than ours (no ``backbone.``/``heads.`` key)."""
    keys = list(strip_module_prefix(state_dict))
    if any(k.startswith(("backbone.", "heads.")) for k in keys):
        return False
    return any(k.split(".")[0] in _BACKBONE_PREFIXES + ("hm", "hm_rel") for k in keys)


def _rename(key):
    for pattern, fmt in _GAZE:
        m = pattern.match(key)
        if m:
            return fmt.format(k=int(m.group(1)) - 1, s=m.group(2), p=m.group(3))
    for pattern, repl in _RULES:
        if pattern.match(key):
            return pattern.sub(repl, key)
    return None


def convert_reference_state_dict(state_dict, target_state_dict):
    """Rename a reference state dict onto ours, keeping only tensors whose new name and shape exist in the target.

    Args:
        state_dict (dict[str, Tensor]): reference weights (``module.`` prefixes allowed).
        target_state_dict (dict[str, Tensor]): ``model.state_dict()`` of the GGNet model to load into.

    Returns:
        tuple: (converted dict[str, Tensor] in our names, report dict with lists ``unmatched`` (reference keys with
        no counterpart name), ``shape_mismatch`` (``"ref -> ours: ref_shape vs our_shape"``), ``not_loaded`` (our
        keys that received nothing)).
    """
    converted, unmatched, mismatch = {}, [], []
    for key, value in strip_module_prefix(state_dict).items():
        new = _rename(key)
        if new is None or new not in target_state_dict:
            unmatched.append(key)
        elif tuple(target_state_dict[new].shape) != tuple(value.shape):
            mismatch.append(f"{key} -> {new}: {tuple(value.shape)} vs {tuple(target_state_dict[new].shape)}")
        else:
            converted[new] = value
    # valid_verb_object is a dataset fact the model keeps (GGNet's buffer), never a weight of a reference checkpoint.
    not_loaded = [k for k in target_state_dict if k not in converted and not k.endswith("valid_verb_object")]
    return converted, {"unmatched": unmatched, "shape_mismatch": mismatch, "not_loaded": not_loaded}
