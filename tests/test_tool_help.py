"""Issue 20, item 8: every command-line option of the scripts has --help text."""
import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*REPO.glob("tools/**/*.py"), REPO / "train_net.py", REPO / "demo" / "demo.py"])


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(s.relative_to(REPO)) for s in SCRIPTS])
def test_every_option_has_help(script):
    tree = ast.parse(script.read_text())
    missing = [f"line {n.lineno}: {ast.unparse(n.args[0]) if n.args else '?'}" for n in ast.walk(tree)
               if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add_argument"
               and "help" not in {k.arg for k in n.keywords}]
    assert not missing, f"{script.name}: options without help= : {missing}"
