"""The house rules that a grep can check: production code never imports the stand-ins."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
# The CLI's doors to `cctag sandbox` and `cctag shell` are the only production importers.
DOORS = {BOT / "cli.py", BOT / "shell.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_production_module_imports_the_devkit() -> None:
    offenders = [
        str(path.relative_to(BOT.parent))
        for path in sorted(BOT.rglob("*.py"))
        if path not in DOORS
        and BOT / "devkit" not in path.parents
        and any(name.startswith("bot.devkit") for name in _imports(path))
    ]
    assert offenders == []


def test_the_devkit_is_where_the_stand_ins_are() -> None:
    for gone in ("sandbox", "fakeslack", "testing_server.py", "slack/local.py"):
        assert not (BOT / gone).exists()
    assert (BOT / "devkit" / "sandbox").is_dir()
