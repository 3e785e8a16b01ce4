"""Capping the CPU's vector instruction set: one source of float differences between x86 machines removed.

A seeded CPU training run repeats bit for bit on one machine, but not across CPU generations: PyTorch's own kernels
(ATen), oneDNN (convolutions) and MKL (GEMM) each pick their widest kernels at run time (AVX-512 where present, AVX2
elsewhere), and those round differently. Each library has a documented switch that caps the instruction set; capping
all three at AVX2, which every x86-64 server CPU of the last decade has, removes that one source of difference. It
does not make two CPU generations agree: with the cap, the quickstart's SEED 0 gave 85.67 on a 2-core Zen 3 and
83.22 on a 2-core Zen 5 (README, "Set-up"; other sources remain, such as kernels whose blocking follows the cache
sizes, library versions and the thread count). Torch-free: the switches are read when torch loads its kernels, so
this must run before ``import torch``.
"""
import os
import platform

# (environment variable, value): ATen's dispatch ceiling (torch/csrc docs, ``ATEN_CPU_CAPABILITY``), oneDNN's JIT
# ceiling (oneDNN "CPU dispatcher control", ``ONEDNN_MAX_CPU_ISA``) and MKL's conditional numerical reproducibility
# branch (MKL developer guide, ``MKL_CBWR``).
AVX2_SWITCHES = (("ATEN_CPU_CAPABILITY", "avx2"), ("ONEDNN_MAX_CPU_ISA", "AVX2"), ("MKL_CBWR", "AVX2"))
X86_MACHINES = ("x86_64", "amd64", "i686", "i386")


def pin_cpu_isa_avx2(environ=None, machine=None):
    """Cap ATen, oneDNN and MKL at AVX2 kernels on an x86 machine, leaving any value the user already set.

    Args:
        environ: the environment to change (default ``os.environ``).
        machine: ``platform.machine()`` by default; on anything but x86 nothing is set (other architectures have
            none of these switches).

    Returns:
        dict: the variables this call set (empty when none), so a caller can report them.

    Raises:
        RuntimeError: if torch is already imported into this process, because the switches would then have no
            effect on the kernels it has chosen.
    """
    environ = os.environ if environ is None else environ
    machine = (machine or platform.machine()).lower()
    if machine not in X86_MACHINES:
        return {}
    import sys

    if environ is os.environ and "torch" in sys.modules:
        raise RuntimeError("pin_cpu_isa_avx2 must run before torch is imported (its kernels are chosen at load time)")
    changed = {}
    for key, value in AVX2_SWITCHES:
        if key not in environ:
            environ[key] = value
            changed[key] = value
    return changed


def describe_cpu(cpuinfo_text):
    """'<model name> (family <f> model <m>, <widest vector ISA>)' from the text of Linux's ``/proc/cpuinfo``.

    The model name alone does not tell CPU generations apart (a cloud Zen 3 and a Zen 5 both read "AMD EPYC"), and
    a seeded quickstart's mAP differs between them even with the kernels capped at AVX2 (README, "Set-up"), so the
    quickstart's summary names the family and model numbers and whether the CPU has AVX-512.

    Args:
        cpuinfo_text (str): the file's text; only the first processor's block is read.

    Returns:
        str, or None when the text has no ``model name`` line (not Linux on x86, or an unreadable file).
    """
    fields, flags = {}, set()
    for line in cpuinfo_text.splitlines():
        if not line.strip():
            if fields:
                break  # end of the first processor's block
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "flags":
            flags = set(value.split())
        else:
            fields.setdefault(key, value)
    if "model name" not in fields:
        return None
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    detail = []
    if "cpu family" in fields and "model" in fields:
        detail.append(f"family {fields['cpu family']} model {fields['model']}")
    return f"{fields['model name']} ({', '.join(detail + [isa])})"
