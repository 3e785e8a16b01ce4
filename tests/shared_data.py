"""Where the shared real data lives: $GGNET_D2_SHARED, else ../shared/data next to the repository (CI), else
/work/shared/data (a worktree elsewhere on the development machine). Tests skip when the file they need is absent."""
import os
from pathlib import Path


def shared_data_dir():
    """Path of the shared data folder (it may not exist)."""
    candidates = [os.environ.get("GGNET_D2_SHARED"), Path(__file__).resolve().parents[1].parent / "shared" / "data",
                  "/work/shared/data"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return Path(candidates[1])


SHARED = shared_data_dir()
