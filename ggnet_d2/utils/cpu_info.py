"""Naming the CPU a seeded result was measured on, for comparing figures between machines.

A seeded CPU training run repeats bit for bit on one kind of machine, but not across CPU generations: ATen, oneDNN
and MKL pick their kernels at run time by instruction set (AVX-512 where present, AVX2 elsewhere) and some block
their loops by cache size, and those round differently. The quickstart's SEED 0 gave 89.94 on a 2-core Zen 5 (in two
sessions, on two machines of that kind) and 85.67 on a 2-core Zen 3 (README, "Set-up"). Capping all three libraries
at AVX2 (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``, ``MKL_CBWR``) was tried and dropped: on the Zen 5 it gave
83.22, matching neither, and made an iteration 45% slower. So the quickstart names the CPU's family, model and
widest vector instruction set, which is what tells the README's rows apart.
"""


def describe_cpu(cpuinfo_text):
    """'<model name> (family <f> model <m>, <widest vector ISA>)' from the text of Linux's ``/proc/cpuinfo``.

    The model name alone does not tell CPU generations apart (a cloud Zen 3 and a Zen 5 both read "AMD EPYC"),
    and a seeded quickstart's mAP differs between them (README, "Set-up").

    Args:
        cpuinfo_text (str): the file's text; only the first processor's block is read.

    Returns:
        str, or None when the text has no ``model name`` line (as on many ARM machines).
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
