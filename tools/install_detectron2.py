#!/usr/bin/env python
"""Install detectron2 into the running Python environment, offline-friendly.

detectron2 has no PyPI release. This script:

1. does nothing when an official detectron2 >= 0.6 is already importable (the user's own build wins);
2. otherwise downloads the PyPI sdist ``pb1-detectron2==0.6`` (the Python sources of detectron2's v0.6 tag,
   without the C++/CUDA sources) with ``pip download`` -- so the user's pip index, proxy and certificate settings
   apply --, verifies its sha256, and installs it with the C++ extension build switched off.

Because the compiled extension ``detectron2._C`` cannot be built from that sdist, a pure-Python stand-in module is
installed in its place: importing ``detectron2.layers`` works, and any *call* into a compiled op (rotated boxes, the
v0.6 DeformConv, the fast COCO evaluator) raises :class:`detectron2._C.CompiledOpsMissingError` naming the op.
ggnet_d2 itself uses ``torchvision.ops`` only.

The v0.6 sources use ``Image.LINEAR``, an alias of ``Image.BILINEAR`` that Pillow 10 removed; the extracted sources
are patched to ``Image.BILINEAR`` (the same filter), so any Pillow works -- Pillow 9.5, the last with the alias, has
no wheels for Python 3.12 and 3.13.

Usage: ``python tools/install_detectron2.py [--force]``. Environment: ``GGNET_D2_DETECTRON2_SDIST`` may point to a
local copy of the sdist (checked against the same sha256).
"""
import argparse
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import tempfile

SDIST_REQUIREMENT = "pb1-detectron2==0.6"
SDIST_SHA256 = "5d2e9e51e523ec72f6a31cca04b0a515492e9514b773a3d134cedc0677170b29"
OFFLINE_MARKER = "GGNET_D2_OFFLINE_V06_BUILD"

C_STUB = '''"""Stand-in for detectron2's compiled extension, written by ggnet_d2's tools/install_detectron2.py.

This detectron2 was built from the ``pb1-detectron2==0.6`` sdist, which carries no C++/CUDA sources, so the compiled
ops do not exist. Attribute access to any op raises CompiledOpsMissingError naming it.
"""
GGNET_D2_OFFLINE_V06_BUILD = 2  # 2: Image.LINEAR patched to Image.BILINEAR, no Pillow pin


class CompiledOpsMissingError(AttributeError):
    """Raised when code reaches for a compiled detectron2 op that this offline v0.6 build does not have."""


def get_compiler_version():
    return "not built (offline v0.6 build without C++ sources)"


def get_cuda_version():
    return "not built (offline v0.6 build without C++ sources)"


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise CompiledOpsMissingError(
        f"detectron2._C.{name} is a compiled op, and this detectron2 is the offline v0.6 build from the "
        "pb1-detectron2 sdist, which has no C++/CUDA sources: rotated boxes, detectron2's own DeformConv and the "
        "fast COCO evaluator are absent. Use torchvision.ops, or install official detectron2 "
        "(pip install 'git+https://github.com/facebookresearch/detectron2.git')."
    )
'''


def installed_detectron2():
    """Return (version, package directory) of the importable detectron2, or (None, None) when there is none."""
    if importlib.util.find_spec("detectron2") is None:
        return None, None
    out = subprocess.run(
        [sys.executable, "-c", "import os, detectron2; print(detectron2.__version__); print(os.path.dirname(detectron2.__file__))"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return None, None
    version, pkg_dir = out.stdout.strip().splitlines()[-2:]
    return version, pkg_dir


def is_current_offline_build(pkg_dir):
    """True when pkg_dir holds an offline build whose _C stand-in matches this script's (False: rebuild it)."""
    stub = os.path.join(pkg_dir, "_C.py")
    return os.path.exists(stub) and open(stub).read() == C_STUB


def is_offline_build(pkg_dir):
    stub = os.path.join(pkg_dir, "_C.py")
    return os.path.exists(stub) and OFFLINE_MARKER in open(stub).read()


def version_at_least(version, minimum=(0, 6)):
    nums = [int(x) for x in re.findall(r"\d+", version)[:2]]
    return tuple(nums) >= minimum


def fetch_sdist(dest_dir):
    """Path of the verified sdist: ``$GGNET_D2_DETECTRON2_SDIST``, else ``pip download`` into ``dest_dir``."""
    path = os.environ.get("GGNET_D2_DETECTRON2_SDIST")
    if not path:
        print(f"[install_detectron2] pip download {SDIST_REQUIREMENT} (source distribution)")
        # No build isolation: pip reads the sdist's metadata by running its setup.py, which imports torch.
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                               "--no-build-isolation", "--disable-pip-version-check", SDIST_REQUIREMENT,
                               "-d", dest_dir])
        found = [f for f in os.listdir(dest_dir) if f.endswith(".tar.gz")]
        if len(found) != 1:
            raise SystemExit(f"[install_detectron2] pip download left {found} in {dest_dir}, expected one sdist")
        path = os.path.join(dest_dir, found[0])
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"[install_detectron2] sha256 mismatch for {path}: got {digest}, expected {SDIST_SHA256}")
    return path


def patch_pillow_linear(src):
    """Replace ``Image.LINEAR`` (removed in Pillow 10; it was ``Image.BILINEAR``) in every .py file under ``src``.

    Returns:
        list[str]: the patched files (relative to ``src``).
    """
    patched = []
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            text = open(path, encoding="utf-8").read()
            new = re.sub(r"\bImage\.LINEAR\b", "Image.BILINEAR", text)
            if new != text:
                open(path, "w", encoding="utf-8").write(new)
                patched.append(os.path.relpath(path, src))
    return patched


def patch_sources(src):
    """Switch the C++ extension off, relax the obsolete black pin, replace Image.LINEAR, add the _C stand-in."""
    setup_py = os.path.join(src, "setup.py")
    text = open(setup_py).read()
    for old, new in [
        ("ext_modules=get_extensions(),", "ext_modules=[],"),
        ('cmdclass={"build_ext": torch.utils.cpp_extension.BuildExtension},', ""),
        ('"black==21.4b2",', '"black",'),
    ]:
        if old not in text:
            raise SystemExit(f"[install_detectron2] unexpected setup.py in {src}: cannot find {old!r}")
        text = text.replace(old, new)
    open(setup_py, "w").write(text)
    patched = patch_pillow_linear(os.path.join(src, "detectron2"))
    if "data/transforms/transform.py" not in [p.replace(os.sep, "/") for p in patched]:
        raise SystemExit(f"[install_detectron2] unexpected sources in {src}: no Image.LINEAR in transform.py")
    print(f"[install_detectron2] Image.LINEAR -> Image.BILINEAR in {patched}")
    with open(os.path.join(src, "detectron2", "_C.py"), "w") as f:
        f.write(C_STUB)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="reinstall the offline build even if one is present")
    args = parser.parse_args()

    version, pkg_dir = installed_detectron2()
    stale_offline = version is not None and is_offline_build(pkg_dir) and not is_current_offline_build(pkg_dir)
    if version is not None and not args.force and not stale_offline:
        if version_at_least(version):
            print(f"[install_detectron2] detectron2 {version} already importable; leaving it untouched")
            return
        raise SystemExit(f"[install_detectron2] detectron2 {version} is older than 0.6; uninstall it first")

    with tempfile.TemporaryDirectory() as tmp:
        sdist = fetch_sdist(tmp)
        with tarfile.open(sdist) as tar:
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, **kwargs)
        src = os.path.join(tmp, "pb1-detectron2-0.6")
        patch_sources(src)
        # setup.py imports torch, so it must build against the environment's torch (no build isolation).
        subprocess.check_call(
            [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-cache-dir", src]
        )
    print(f"[install_detectron2] installed offline detectron2 v0.6 build ({OFFLINE_MARKER})")


if __name__ == "__main__":
    main()
