"""Issue 25 item 2: the quickstart's closing summary names mAP, times, CPU and threads, and warns on a slow machine."""
import importlib.util
import re
from pathlib import Path

import torch
from detectron2.utils.events import EventStorage

REPO = Path(__file__).resolve().parents[1]


def _quickstart():
    spec = importlib.util.spec_from_file_location("quickstart_tool", REPO / "tools" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summary_reports_figures_and_the_machine():
    q = _quickstart()
    text = q.summary(93.456, 600.0, 660.0, 0.9, 0)
    assert "mAP (Default, Full) = 93.46 (SEED 0)" in text
    assert "10.0 min" in text and "11.0 min wall" in text and "0.900 s per iteration" in text
    assert f"{torch.get_num_threads()} torch threads" in text
    assert "WARNING" not in text


def test_summary_warns_when_an_iteration_is_far_slower_than_the_readme():
    q = _quickstart()
    slow = 2 * q.README_SECONDS_PER_ITER
    assert "WARNING: 2.0x the README's time per iteration" in q.summary(90.0, 1.0, 1.0, slow, 0)
    # at the threshold itself no warning
    assert "WARNING" not in q.summary(90.0, 1.0, 1.0, q.SLOW_FACTOR * q.README_SECONDS_PER_ITER, 0)
    assert "no training in this run" in q.summary(90.0, 1.0, 1.0, None, 0)


def test_readme_states_the_time_per_iteration_the_script_compares_with():
    q = _quickstart()
    readme = (REPO / "README.md").read_text()
    figures = re.findall(r"`tools/quickstart.py`'s\s+`README_SECONDS_PER_ITER` \(([0-9.]+) s\)", readme)
    assert figures == [f"{q.README_SECONDS_PER_ITER:.2f}"]


def test_seconds_per_iteration_is_the_mean_step_time_detectron2_recorded():
    q = _quickstart()

    class Trainer:
        pass

    trainer = Trainer()
    with EventStorage(0) as trainer.storage:
        assert q._seconds_per_iter(trainer) is None  # no step timed (IterationTimer skips its warm-up)
        for i, t in enumerate((1.0, 2.0, 4.5)):
            trainer.storage.iter = i
            trainer.storage.put_scalars(time=t)
    assert q._seconds_per_iter(trainer) == 2.5


# Two processors' blocks as Linux writes them (fields trimmed); the second processor's flags must not be read.
ZEN5_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: other
flags\t\t: fpu sse2
"""


def test_cpu_description_names_family_model_and_widest_isa():
    from ggnet_d2.utils.cpu_info import describe_cpu

    assert describe_cpu(ZEN5_CPUINFO) == "AMD EPYC (family 26 model 2, AVX-512)"
    zen3 = ZEN5_CPUINFO.split("\n\n")[0].replace("26", "25").replace("model\t\t: 2", "model\t\t: 1")
    assert describe_cpu(zen3.replace(" avx512f avx512bw avx512vl", "")) == "AMD EPYC (family 25 model 1, AVX2)"
    assert describe_cpu("model name\t: Some CPU\nflags\t: sse2\n") == "Some CPU (no AVX2)"
    assert describe_cpu("Processor\t: AArch64\n") is None
