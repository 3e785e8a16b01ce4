#!/usr/bin/env bash
# Create (or reuse) the project's Python environment and install ggnet_d2 with detectron2 into it.
# Which environment (the first that applies):
#   1. the active virtual environment ($VIRTUAL_ENV);
#   2. the active conda environment ($CONDA_PREFIX), unless it is conda's base environment without torch;
#   3. ./.venv -- created with --system-site-packages when the interpreter ($PYTHON, default python3) already has
#      torch, so that torch (and an installed official detectron2) are reused instead of downloaded again.
# Idempotent: a stamp records what was installed, and a second run with unchanged install files does nothing.
# Prints the install time. `bash tools/setup_env.sh --print-python` prints the interpreter it would use and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
py=${PYTHON:-python3}

if [ -n "${VIRTUAL_ENV:-}" ]; then
  env_dir="$VIRTUAL_ENV"
elif [ -n "${CONDA_PREFIX:-}" ] && { [ "${CONDA_DEFAULT_ENV:-}" != "base" ] || \
     "$CONDA_PREFIX/bin/python" -c 'import torch' 2>/dev/null; }; then
  env_dir="$CONDA_PREFIX"
else
  env_dir=".venv"
fi
python="$env_dir/bin/python"
if [ "${1:-}" = "--print-python" ]; then
  echo "$python"
  exit 0
fi

if [ ! -x "$python" ]; then
  "$py" -c 'import sys; assert sys.version_info >= (3, 10), "ggnet_d2 needs Python >= 3.10"'
  if "$py" -c 'import torch' 2>/dev/null; then
    echo "[setup_env] $py already has torch: creating $env_dir with --system-site-packages to reuse it"
    "$py" -m venv --system-site-packages "$env_dir"
  else
    "$py" -m venv "$env_dir"
  fi
fi
echo "[setup_env] environment: $env_dir ($("$python" --version 2>&1))"
stamp="$env_dir/.ggnet_d2-install-stamp"
want=$(cat pyproject.toml tools/install_detectron2.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$python" -c "import ggnet_d2, detectron2" 2>/dev/null; then
  echo "[setup_env] environment $env_dir is up to date (checked in $(( $(date +%s) - start )) s)"
  exit 0
fi
"$python" -m pip install --quiet --disable-pip-version-check setuptools wheel
"$python" -m pip install --quiet --disable-pip-version-check -e '.[dev,deploy,language]'
"$python" tools/install_detectron2.py
"$python" -c "import ggnet_d2, detectron2, torch; print('[setup_env] detectron2', detectron2.__version__, '/ torch', torch.__version__)"
echo "$want" > "$stamp"
echo "[setup_env] install into $env_dir took $(( $(date +%s) - start )) s ($(du -sh "$env_dir" | cut -f1))"
