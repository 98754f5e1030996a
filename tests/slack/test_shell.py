"""`cctag shell` end to end: lines in, the bolt app over signed HTTP, each run to its end."""

from __future__ import annotations

import io

from bot.settings import Settings
from bot.shell import run_shell


def test_the_shell_runs_a_command_to_its_end_and_answers_confirmations() -> None:
    out = io.StringIO()
    lines = [
        '/cctag add VIP --lists "Newsletter"',
        "/cctag delete Volunteer",
        "yes",
        "/cctag add Nope --all-active",
        "exit",
        "/cctag tags",  # after exit: never sent
    ]
    code = run_shell(Settings(), lines, out, activity_seconds=0.3, poll_interval=0.1)
    text = out.getvalue()
    assert code == 0
    assert "@you asked: Add tag “VIP” to the contacts on list “Newsletter”" in text
    assert text.count("completed") >= 2  # both activities' ends reached the thread
    assert "“Volunteer”: " in text and "Confirm? Type yes or no." in text
    assert "Unknown tags: “Nope”" in text
    assert "Board Member:" not in text
