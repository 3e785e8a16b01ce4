"""Issue 24 item 1: no host work and no host read inside a training step next to an accelerator, checked on the CPU by
running GGNetTrainer's step on the meta device (engine/step_census.py), and the pre-processing that replaced
detectron2's ImageList.from_tensors (CPU tensor arithmetic on the image sizes) gives the same batch."""
import pytest
import torch
import torch.nn.functional as F
from detectron2.modeling import build_model
from detectron2.structures import ImageList

from ggnet_d2.engine import GGNetTrainer
from ggnet_d2.engine.step_census import meta_step_census

from test_modeling_helpers import tiny_cfg, train_inputs


def _census(cfg):
    torch.manual_seed(0)
    model = build_model(cfg)
    return meta_step_census(model, lambda m: GGNetTrainer.build_optimizer(cfg, m), train_inputs())


@pytest.mark.parametrize("backbone", ["resnet", "dla"])
def test_a_training_step_does_no_host_compute_but_adams_step_counters(backbone):
    """Forward, losses, backward and Adam's step of the real trainer on meta, every operator's devices counted. A
    host read of a device value would have raised (meta tensors hold none). Before issue 24's change the census had
    7 host operators: detectron2 v0.6's ImageList.from_tensors (max, add, floor_divide, mul, unbind on the image
    sizes) and Adam's two step-counter additions."""
    cfg = tiny_cfg(backbone)
    census = _census(cfg)
    s = census.summary()
    assert s["target"] > 900  # the step did run on the stand-in accelerator
    # PyTorch keeps non-fused, non-capturable Adam's step counters on the CPU by design (torch/optim/adam.py): one
    # foreach addition per parameter group, host-only (no synchronisation); SOLVER.ADAM_FUSED True keeps them on
    # the device
    groups = len(GGNetTrainer.build_optimizer(cfg, build_model(cfg)).param_groups)
    assert s["cpu_fallback"] == {"aten::_foreach_add_": groups}
    assert not census.counts["cpu_scalar_operand"], dict(census.counts["cpu_scalar_operand"])
    assert census.counts["transfer"] == {"aten::_to_copy": 2 + 10}  # the images and the 10 stacked targets


def test_with_sgd_a_training_step_does_no_host_compute_at_all():
    cfg = tiny_cfg("resnet")
    cfg.SOLVER.OPTIMIZER = "SGD"
    census = _census(cfg)
    assert census.summary()["cpu_fallback"] == {} and not census.counts["cpu_scalar_operand"]
    # what stays on the host: stacking the loader's CPU targets before their copy to the device
    assert dict(census.counts["cpu_staging"]) == {"aten::stack": 10}


def test_census_sees_host_compute_next_to_the_device():
    """The census can fail: a model computing a normaliser on the host, as detectron2 v0.6's ImageList did."""

    class HostMath(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(3))

        def forward(self, batch):
            n = torch.as_tensor([len(batch)]).max()  # host tensor arithmetic
            return {"loss": (self.w * 2).sum() / n}

    census = meta_step_census(HostMath(), lambda m: torch.optim.SGD(m.parameters(), lr=0.1), [1, 2])
    assert census.summary()["cpu_fallback"] == {"aten::max": 1}
    assert census.counts["cpu_scalar_operand"]["aten::div"] >= 1  # forward (and backward) divide by the host n


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("square", [0, 100])
def test_preprocessing_equals_detectron2_image_list(training, square):
    torch.manual_seed(0)
    cfg = tiny_cfg("resnet")
    model = build_model(cfg).train(training)
    model.postprocessor.test_square_size = square
    inputs = [{"image": torch.randint(0, 256, (3, h, w), dtype=torch.uint8)} for h, w in ((50, 70), (64, 33))]
    got = model.preprocess_image(inputs)
    # detectron2's path, the code this replaced
    ref = ImageList.from_tensors([x["image"].float() for x in inputs], model.size_divisibility)
    tensor = ref.tensor
    if not training and square:
        div = model.size_divisibility
        side = -(-max(square, *tensor.shape[-2:]) // div) * div
        tensor = F.pad(tensor, (0, side - tensor.shape[-1], 0, side - tensor.shape[-2]))
    assert got.image_sizes == ref.image_sizes == [(50, 70), (64, 33)]
    assert torch.equal(got.tensor, (tensor - model.pixel_mean) / model.pixel_std)
    assert got.tensor.shape[-2:] == ((128, 128) if not training and square else (64, 96))


@pytest.mark.parametrize("read", ["item", "cpu", "bool"])
def test_a_host_read_inside_the_step_fails_on_meta(read):
    """Why a step completing on meta has no host read of a device value: meta tensors hold none to read."""

    class HostRead(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(3))

        def forward(self, batch):
            loss = (self.w * 2).sum()
            {"item": loss.item, "cpu": loss.cpu, "bool": loss.__bool__}[read]()
            return {"loss": loss}

    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        meta_step_census(HostRead(), lambda m: torch.optim.SGD(m.parameters(), lr=0.1), [1])
