"""The operations' flags are refused in one line when wrong, like every other flag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CC_", "SLACK_", "CCTAG_"))}
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/cctag.db"}


def _one_line_failure(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=60
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("cctag: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["serve", "--workers", "0"], "--workers: 0 workers: give 1 to 64"),
        (["serve", "--workers", "two"], "--workers: 'two' is not a whole number"),
        (["poll", "--metrics-port", "0"], "--metrics-port: 0 is not a port number"),
    ],
)
def test_bad_operations_flags_are_one_line(tmp_path: Path, args: list[str], said: str) -> None:
    assert said in _one_line_failure(args, _env(tmp_path))


def test_a_bad_log_format_is_one_line(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "CCTAG_LOG_FORMAT": "xml"}
    assert "CCTAG_LOG_FORMAT" in _one_line_failure(["poll"], env)
