"""Issue 25 item 2: the quickstart's closing summary names mAP, times, CPU and threads, and warns on a slow machine."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_cpu_isa_pinning_sets_the_three_switches_on_x86_only_and_keeps_user_values():
    from ggnet_d2.utils.cpu_numerics import pin_cpu_isa_avx2

    env = {"MKL_CBWR": "COMPATIBLE"}
    changed = pin_cpu_isa_avx2(env, machine="x86_64")
    assert changed == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert env == {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    arm = {}
    assert pin_cpu_isa_avx2(arm, machine="aarch64") == {} and arm == {}


def test_cpu_isa_pinning_refuses_once_torch_is_loaded():
    from ggnet_d2.utils.cpu_numerics import pin_cpu_isa_avx2

    with pytest.raises(RuntimeError, match="before torch is imported"):
        pin_cpu_isa_avx2(machine="x86_64")


def test_quickstart_pins_the_isa_before_torch_loads(tmp_path):
    """The script's own prologue, run as a program: the switches are in the environment torch starts with, and the
    torch it imports reports at most AVX2 kernels."""
    code = ("import runpy, sys, os, platform\n"
            "sys.argv = ['quickstart.py', '--help']\n"
            "try:\n"
            f"    runpy.run_path({str(REPO / 'tools' / 'quickstart.py')!r}, run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "import torch\n"
            "print('ISA', os.environ.get('ATEN_CPU_CAPABILITY'), os.environ.get('ONEDNN_MAX_CPU_ISA'),"
            " os.environ.get('MKL_CBWR'), torch.backends.cpu.get_cpu_capability(), platform.machine())\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "GGNET_D2_NATIVE_ISA")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("ISA ")][-1].split()
    if line[-1].lower() in ("x86_64", "amd64"):
        assert line[1:4] == ["avx2", "AVX2", "AVX2"]
        assert line[4] in ("DEFAULT", "AVX2")  # never AVX512, whatever this CPU has
    else:
        assert line[1:4] == ["None", "None", "None"]


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
    from ggnet_d2.utils.cpu_numerics import describe_cpu

    assert describe_cpu(ZEN5_CPUINFO) == "AMD EPYC (family 26 model 2, AVX-512)"
    zen3 = ZEN5_CPUINFO.split("\n\n")[0].replace("26", "25").replace("model\t\t: 2", "model\t\t: 1")
    assert describe_cpu(zen3.replace(" avx512f avx512bw avx512vl", "")) == "AMD EPYC (family 25 model 1, AVX2)"
    assert describe_cpu("model name\t: Some CPU\nflags\t: sse2\n") == "Some CPU (no AVX2)"
    assert describe_cpu("Processor\t: AArch64\n") is None
