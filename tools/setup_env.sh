#!/usr/bin/env bash
# Create (or reuse) the project's Python environment and install ggnet_d2 with detectron2 into it.
# Uses the active virtual environment when there is one, else ./.venv. Idempotent: a stamp records what was
# installed, and a second run with unchanged install files does nothing. Prints the install time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if [ -n "${VIRTUAL_ENV:-}" ]; then
  env_dir="$VIRTUAL_ENV"
else
  env_dir=".venv"
  if [ ! -x "$env_dir/bin/python" ]; then
    py=${PYTHON:-python3}
    "$py" -c 'import sys; assert sys.version_info >= (3, 10), "ggnet_d2 needs Python >= 3.10"'
    "$py" -m venv "$env_dir"
  fi
fi
python="$env_dir/bin/python"
stamp="$env_dir/.ggnet_d2-install-stamp"
want=$(cat pyproject.toml tools/install_detectron2.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$python" -c "import ggnet_d2, detectron2" 2>/dev/null; then
  echo "[setup_env] environment $env_dir is up to date (checked in $(( $(date +%s) - start )) s)"
  exit 0
fi
"$python" -m pip install --quiet --disable-pip-version-check setuptools wheel
"$python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
"$python" tools/install_detectron2.py
"$python" -c "import ggnet_d2, detectron2; print('[setup_env] detectron2', detectron2.__version__)"
echo "$want" > "$stamp"
echo "[setup_env] install into $env_dir took $(( $(date +%s) - start )) s ($(du -sh "$env_dir" | cut -f1))"
