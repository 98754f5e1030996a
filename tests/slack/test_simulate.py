"""The full-stack simulation (signed HTTP through the web app): lines in, what Slack shows out."""

from __future__ import annotations

import io
from pathlib import Path

from bot.devkit.simulate import run_simulation
from bot.settings import Settings


def test_shell_runs_an_activity_to_its_end(tmp_path: Path) -> None:
    lines = io.StringIO(
        '/cctag help\n/cctag add VIP --lists "Newsletter"\n/cctag delete Volunteer\nyes\nexit\n'
    )
    out = io.StringIO()
    assert run_simulation(Settings(database_url=f"sqlite:///{tmp_path}/shell.db"), lines, out) == 0
    printed = out.getvalue()
    assert (
        printed.startswith("cctag simulation:") and '/cctag add VIP --lists "Newsletter"' in printed
    )
    assert "only you] *cctag* manages Constant Contact tags" in printed
    assert "#channel] <@U0SHELL> asked to add tag “VIP” to contacts on list “Newsletter”" in printed
    assert "• *Volunteer*:" in printed and "(answer yes or no)" in printed
    assert "asked to delete tags “Volunteer”" in printed
    thread = [line for line in printed.splitlines() if "thread]" in line]
    assert sum("completed" in line for line in thread) >= 2, printed
    assert printed.rstrip().endswith("bye")


def test_shell_says_when_nothing_awaits_yes_and_ends_on_eof(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/shell.db")
    assert run_simulation(settings, io.StringIO("yes\n/cctag add Nope --all-active\n"), out) == 0
    printed = out.getvalue()
    assert "Nothing is waiting for a yes or no." in printed
    assert "Unknown tag: “Nope”" in printed and "Traceback" not in printed
