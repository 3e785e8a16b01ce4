"""Parameter names and shapes of the authors' networks, written from reading their model files (no code of theirs).

Each function returns ``{name: shape tuple}`` exactly as ``model.state_dict()`` of the reference network names it:

- CenterNet / PPDM ``pose_dla_dcn.py`` ``DLASeg`` (DLA-34, down ratio 4, last level 5) with ``base.fc`` (created by
  ``DLA.load_pretrained_model`` and saved with every checkpoint);
- CenterNet / PPDM / GGNet ``large_hourglass.py`` ``exkp`` (Hourglass-104: n = 5, 2 stacks);
- GGNet ``ggnet_hourglass_s1.py`` / ``ggnet_hourglass_s2.py`` gaze modules, and the 3-step extension of s2's naming.

Sizes are parameters so tests can use small versions; the defaults are the published sizes. Cross-checked once
against ``state_dict()`` of the authors' own model code run locally (outside this repository, DCNv2 replaced by
``torchvision.ops.deform_conv2d``): identical names and shapes for CenterNet DLA-34 / Hourglass-104, PPDM DLA-34 /
Hourglass-104 and GGNet s1 / s2.
"""
import math

__all__ = ["dla34_layout", "hourglass_layout", "dla_heads", "hourglass_heads", "ggnet_gaze_layout",
           "reference_layout"]


def _conv(out, name, cout, cin, k, bias=True):
    out[f"{name}.weight"] = (cout, cin, k, k)
    if bias:
        out[f"{name}.bias"] = (cout,)


def _bn(out, name, c):
    for p in ("weight", "bias", "running_mean", "running_var"):
        out[f"{name}.{p}"] = (c,)
    out[f"{name}.num_batches_tracked"] = ()


def _basic_block(out, name, cin, cout):
    _conv(out, f"{name}.conv1", cout, cin, 3, bias=False)
    _bn(out, f"{name}.bn1", cout)
    _conv(out, f"{name}.conv2", cout, cout, 3, bias=False)
    _bn(out, f"{name}.bn2", cout)


def _tree(out, name, levels, cin, cout, level_root=False, root_dim=0):
    """pose_dla_dcn.py ``Tree`` with BasicBlocks: tree1/tree2 recursion, ``root`` at level 1, ``project``."""
    if root_dim == 0:
        root_dim = 2 * cout
    if level_root:
        root_dim += cin
    if levels == 1:
        _basic_block(out, f"{name}.tree1", cin, cout)
        _basic_block(out, f"{name}.tree2", cout, cout)
        _conv(out, f"{name}.root.conv", cout, root_dim, 1, bias=False)
        _bn(out, f"{name}.root.bn", cout)
    else:
        _tree(out, f"{name}.tree1", levels - 1, cin, cout)
        _tree(out, f"{name}.tree2", levels - 1, cout, cout, root_dim=root_dim + cout)
    if cin != cout:
        _conv(out, f"{name}.project.0", cout, cin, 1, bias=False)
        _bn(out, f"{name}.project.1", cout)


def _deform_conv(out, name, cin, cout):
    """pose_dla_dcn.py ``DeformConv``: ``actf.0`` BatchNorm, ``conv`` a DCN with its ``conv_offset_mask``."""
    _bn(out, f"{name}.actf.0", cout)
    _conv(out, f"{name}.conv", cout, cin, 3)
    _conv(out, f"{name}.conv.conv_offset_mask", 27, cin, 3)


def _ida_up(out, name, o, channels, up_f):
    for i in range(1, len(channels)):
        f = int(up_f[i])
        _deform_conv(out, f"{name}.proj_{i}", channels[i], o)
        out[f"{name}.up_{i}.weight"] = (o, 1, 2 * f, 2 * f)  # depthwise ConvTranspose2d, no bias
        _deform_conv(out, f"{name}.node_{i}", o, o)


def dla34_layout(channels=(16, 32, 64, 128, 256, 512), levels=(1, 1, 1, 2, 2, 1), imagenet_classes=1000):
    """``base`` (DLA), ``dla_up`` (DLAUp from level 2), ``ida_up`` (IDAUp over levels 2-4) of ``DLASeg``."""
    out = {}
    c = channels
    _conv(out, "base.base_layer.0", c[0], 3, 7, bias=False)
    _bn(out, "base.base_layer.1", c[0])
    for lvl, (cin, cout) in enumerate([(c[0], c[0]), (c[0], c[1])]):
        for j in range(levels[lvl]):
            _conv(out, f"base.level{lvl}.{3 * j}", cout, cin if j == 0 else cout, 3, bias=False)
            _bn(out, f"base.level{lvl}.{3 * j + 1}", cout)
    for lvl in range(2, 6):
        _tree(out, f"base.level{lvl}", levels[lvl], c[lvl - 1], c[lvl], level_root=lvl > 2)
    if imagenet_classes:
        _conv(out, "base.fc", imagenet_classes, c[-1], 1)
    # DLAUp(startp=2, channels[2:], scales 1, 2, 4, 8): ida_i for i = 0..2, later stages see updated in_channels.
    chans = list(c[2:])
    in_ch = list(chans)
    scales = [2 ** i for i in range(len(chans))]
    for i in range(len(chans) - 1):
        j = len(chans) - i - 2
        _ida_up(out, f"dla_up.ida_{i}", chans[j], in_ch[j:], [s // scales[j] for s in scales[j:]])
        scales[j + 1:] = [scales[j]] * (len(chans) - j - 1)
        in_ch[j + 1:] = [chans[j]] * (len(chans) - j - 1)
    _ida_up(out, "ida_up", c[2], list(c[2:5]), [1, 2, 4])
    return out


def _residual(out, name, cin, cout, stride=1):
    _conv(out, f"{name}.conv1", cout, cin, 3, bias=False)
    _bn(out, f"{name}.bn1", cout)
    _conv(out, f"{name}.conv2", cout, cout, 3, bias=False)
    _bn(out, f"{name}.bn2", cout)
    if stride != 1 or cin != cout:
        _conv(out, f"{name}.skip.0", cout, cin, 1, bias=False)
        _bn(out, f"{name}.skip.1", cout)


def _kp_module(out, name, n, dims, modules):
    """large_hourglass.py ``kp_module`` as built by ``HourglassNet`` (make_hg_layer: first residual stride 2)."""
    cur, nxt = dims[0], dims[1]
    for j in range(modules[0]):
        _residual(out, f"{name}.up1.{j}", cur, cur)
    for j in range(modules[0]):
        _residual(out, f"{name}.low1.{j}", cur if j == 0 else nxt, nxt, stride=2 if j == 0 else 1)
    if n > 1:
        _kp_module(out, f"{name}.low2", n - 1, dims[1:], modules[1:])
    else:
        for j in range(modules[1]):
            _residual(out, f"{name}.low2.{j}", nxt, nxt)
    for j in range(modules[0]):
        _residual(out, f"{name}.low3.{j}", nxt, cur if j == modules[0] - 1 else nxt)


def hourglass_layout(dims=(256, 256, 384, 384, 384, 512), modules=(2, 2, 2, 2, 2, 4), stem=128, stacks=2,
                     cnv_dim=256):
    """``pre``, ``kps``, ``cnvs``, ``inters``, ``inters_``, ``cnvs_`` of ``exkp`` (n = len(dims) - 1)."""
    out = {}
    _conv(out, "pre.0.conv", stem, 3, 7, bias=False)
    _bn(out, "pre.0.bn", stem)
    _residual(out, "pre.1", stem, dims[0], stride=2)
    for s in range(stacks):
        _kp_module(out, f"kps.{s}", len(dims) - 1, list(dims), list(modules))
        _conv(out, f"cnvs.{s}.conv", cnv_dim, dims[0], 3, bias=False)
        _bn(out, f"cnvs.{s}.bn", cnv_dim)
    for s in range(stacks - 1):
        _residual(out, f"inters.{s}", dims[0], dims[0])
        _conv(out, f"inters_.{s}.0", dims[0], dims[0], 1, bias=False)
        _bn(out, f"inters_.{s}.1", dims[0])
        _conv(out, f"cnvs_.{s}.0", dims[0], cnv_dim, 1, bias=False)
        _bn(out, f"cnvs_.{s}.1", dims[0])
    return out


def dla_heads(heads, in_channels=64, head_conv=256):
    """``DLASeg`` heads: ``{head}.0`` 3x3 conv, ``{head}.2`` 1x1 conv; ``heads`` = {name: output channels}."""
    out = {}
    for h, n in heads.items():
        _conv(out, f"{h}.0", head_conv, in_channels, 3)
        _conv(out, f"{h}.2", n, head_conv, 1)
    return out


def hourglass_heads(heads, cnv_dim=256, curr_dim=256, stacks=2):
    """``exkp`` heads (``make_kp_layer``): ``{head}.{s}.0.conv`` 3x3 conv with bias, ``{head}.{s}.1`` 1x1 conv."""
    out = {}
    for h, n in heads.items():
        for s in range(stacks):
            _conv(out, f"{h}.{s}.0.conv", curr_dim, cnv_dim, 3)
            _conv(out, f"{h}.{s}.1", n, curr_dim, 1)
    return out


def ggnet_gaze_layout(steps, num_verbs, cnv_dim=256, curr_dim=256, stacks=2, kernel=5):
    """GGNet's gaze modules: s1 names (``hm_dcn``, ``refine_dcn``, ``refine_head``) for one step, s2's numbered names
    (and their extension) otherwise; the last ``refine_head`` is ``make_kp_refine_layer`` (1x1 conv with bias +
    ReLU as ``.0.conv``, 1x1 conv ``.1``, hidden width int(sqrt(cnv_dim / V) * V))."""
    out = {}
    mid = int(math.sqrt(cnv_dim / num_verbs) * num_verbs)
    for k in range(1, steps + 1):
        tag = "" if steps == 1 else str(k)
        for s in range(stacks):
            _conv(out, f"hm_dcn{tag}.{s}.conv", curr_dim, cnv_dim, 3)
            _conv(out, f"refine_dcn{tag}.{s}", cnv_dim, cnv_dim, kernel)
            _conv(out, f"refine_dcn{tag}.{s}.conv_offset_mask", 3 * kernel * kernel, cnv_dim, kernel)
            if k < steps:
                _conv(out, f"refine_head{tag}.{s}.0", num_verbs, cnv_dim, 1)
            else:
                _conv(out, f"refine_head{tag}.{s}.0.conv", mid, cnv_dim, 1)
                _conv(out, f"refine_head{tag}.{s}.1", num_verbs, mid, 1)
    return out


def reference_layout(source, num_classes=80, num_verbs=117, *, dla_channels=(16, 32, 64, 128, 256, 512),
                     hg_dims=(256, 256, 384, 384, 384, 512), hg_modules=(2, 2, 2, 2, 2, 4), hg_stem=128,
                     cnv_dim=256, head_conv=256, kernel=5, imagenet_classes=1000):
    """Full state-dict layout of one source (keys of ``ggnet_d2.modeling.checkpoint.REFERENCE_SOURCES``):
    CenterNet heads {hm: C, wh: 2, reg: 2}; PPDM adds {hm_rel: V, sub_offset: 2, obj_offset: 2}; GGNet has 2V-channel
    offsets and the gaze modules."""
    det = {"hm": num_classes, "wh": 2, "reg": 2}
    if source.startswith("ppdm"):
        heads = dict(det, hm_rel=num_verbs, sub_offset=2, obj_offset=2)
    elif source.startswith("ggnet"):
        heads = dict(det, hm_rel=num_verbs, sub_offset=2 * num_verbs, obj_offset=2 * num_verbs)
    else:
        heads = det
    if source.endswith("dla34"):
        out = dla34_layout(dla_channels, imagenet_classes=imagenet_classes)
        out.update(dla_heads(heads, dla_channels[2], head_conv))
        return out
    out = hourglass_layout(hg_dims, hg_modules, hg_stem, 2, cnv_dim)
    out.update(hourglass_heads(heads, cnv_dim, hg_dims[0]))
    if source.startswith("ggnet"):
        out.update(ggnet_gaze_layout(int(source[-1]), num_verbs, cnv_dim, hg_dims[0], 2, kernel))
    return out
