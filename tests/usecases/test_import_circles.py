"""No import circle inside bot/usecases: every module of it imported afresh, and any import
that reaches a bot.usecases module still being initialised (a circle) is named."""

from __future__ import annotations

import subprocess
import sys

# Run in a fresh interpreter: the test process has imported everything long ago.
SPY = """
import builtins, importlib, pkgutil, sys
found = set()
real = builtins.__import__

def spy(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if level == 0 and name.startswith("bot.usecases") and importer.startswith("bot.usecases"):
        for target in [name, *(f"{name}.{part}" for part in fromlist or ())]:
            module = sys.modules.get(target)
            spec = getattr(module, "__spec__", None)
            if target != importer and getattr(spec, "_initializing", False):
                found.add(f"{importer} -> {target}")
    return real(name, globals, locals, fromlist, level)

builtins.__import__ = spy
import bot.usecases
for module in pkgutil.walk_packages(bot.usecases.__path__, "bot.usecases."):
    importlib.import_module(module.name)
print("\\n".join(sorted(found)))
"""

def _circles() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SPY], capture_output=True, text=True, check=True, timeout=120
    )
    return [line for line in done.stdout.splitlines() if line]


def test_no_import_circle_inside_the_use_cases() -> None:
    assert _circles() == []
