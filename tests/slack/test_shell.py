"""`cctag shell` driven through its input and output: the same pipeline and commands as Slack."""

from __future__ import annotations

import io
import re
from functools import partial
from pathlib import Path

from bot.settings import Settings
from bot.shell import CLEAR_LINE, plain, run_shell

SESSION = (
    "help\n"
    "/cctag create Spring 2026\n"
    'rename "Spring 2026" --to Spring fair 2026\n'
    "add VIP --lists Newsletter\n"
    "delete Volunteer\n"
    "yes\n"
    "add\n"
    '"Spring fair 2026"\n'
    "--tags VIP\n"
    "frobnicate\n"
    "exit\n"
)

# The shell with its activities shortened (1.2 s, not 3 s): long enough for progress to show.
run_fast = partial(run_shell, activity_seconds=1.2)


class Recording(io.StringIO):
    """Input that notes on the screen when each line is read."""

    def __init__(self, text: str, out: io.StringIO) -> None:
        super().__init__(text)
        self._out = out
        self.reads = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.reads += 1
        self._out.write(f"<read {self.reads}>")
        return super().readline()


def _run(database: Path, text: str) -> str:
    out = io.StringIO()
    assert run_fast(Settings(database_url=f"sqlite:///{database}"), io.StringIO(text), out) == 0
    return out.getvalue()


def test_a_session_reads_as_plain_text_and_runs_to_its_end(tmp_path: Path) -> None:
    printed = _run(tmp_path / "shell.db", SESSION)
    assert printed.startswith("cctag shell:") and printed.rstrip().endswith("bye")
    assert "/cctag rename <tag> --to <new name>: rename a tag" in printed  # help, no backticks
    assert "[cctag] Created the tag Spring 2026." in printed
    assert "[cctag] Renamed the tag “Spring 2026” to Spring fair 2026." in printed
    assert "[#channel] you asked to add tag “VIP” to contacts on list “Newsletter”" in printed
    assert "Volunteer: 16 contacts" in printed and "(answer yes or no)" in printed
    assert "Tags to add (separated by commas): Which contacts" in printed  # a form, as questions
    assert "you asked to add tag “Spring fair 2026” to contacts tagged “VIP”" in printed
    assert "! I do not know frobnicate" in printed and "(nothing was changed)" in printed
    assert sum("[thread] completed" in line for line in printed.split("\n")) == 3
    for raw in ("*", "`", "<@", ":warning:", "Traceback"):
        assert raw not in printed.split("Answer yes or no")[1], raw


class Terminal(io.StringIO):
    """A screen that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_rewritten_in_place_on_a_terminal(tmp_path: Path) -> None:
    out = Terminal()
    lines = io.StringIO("add VIP --lists Newsletter\nexit\n")
    assert run_fast(Settings(), lines, out) == 0
    printed = out.getvalue()
    assert printed.count(f"{CLEAR_LINE}[progress]") >= 2
    assert "\n[progress]" not in printed  # never a new line per update
    assert "[progress]" in printed and "100% (completed)" in printed


def test_progress_in_a_pipe_is_plain_lines_without_control_codes(tmp_path: Path) -> None:
    printed = _run(tmp_path / "shell.db", "add VIP --lists Newsletter\nexit\n")
    assert "\x1b" not in printed and "\r" not in printed
    progress = [line for line in printed.splitlines() if line.startswith("[progress]")]
    assert progress and len(progress) == len(set(progress))  # each text once
    assert "100% (completed)" in progress[-1]


class Keys(io.StringIO):
    """Typed lines, where `^C` is a Ctrl-C (KeyboardInterrupt, as the terminal raises it)."""

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        line = super().readline()
        if line == "^C\n":
            raise KeyboardInterrupt
        return line


def _keys(text: str) -> str:
    out = io.StringIO()
    assert run_fast(Settings(), Keys(text), out) == 0
    return out.getvalue()


def test_a_first_ctrl_c_stops_waiting_and_a_second_leaves(tmp_path: Path) -> None:
    printed = _keys("^C\ntags\n^C\n^C\ntags\n")
    assert printed.count("Stopped waiting (what was started goes on)") == 2
    assert printed.count("VIP:") == 1  # the tags between; the line after the second Ctrl-C unread
    assert printed.rstrip().endswith("bye") and "Traceback" not in printed


def test_ctrl_c_in_a_question_starts_nothing_and_the_shell_goes_on(tmp_path: Path) -> None:
    printed = _keys("add\nVIP\n^C\ntags\nquit\n")
    assert "Stopped waiting" in printed and "Started" not in printed
    assert "VIP:" in printed and printed.rstrip().endswith("bye")


def test_a_second_shell_after_a_ctrl_c_during_an_activity_starts_cleanly_and_stays_quiet(
    tmp_path: Path,
) -> None:
    first = _keys("add VIP --lists Newsletter\n^C\n^C\n")
    assert "[cctag] Started:" in first and first.rstrip().endswith("bye")
    second = _keys("add Volunteer --tags VIP\nexit\n")
    assert second.count("[#channel]") == 1 and second.count("[thread] completed") == 1
    first_summary = "list “Newsletter”"  # nothing of the first session is followed again
    for noise in ("message_not_found", "Slack said", "went wrong", "Traceback", first_summary):
        assert noise not in second, noise


def test_help_names_the_csv_source_and_the_demo_data(tmp_path: Path) -> None:
    printed = _run(tmp_path / "shell.db", "help\nexit\n")
    assert "--csv <path>" in printed and "contact1@example.com … contact200@example.com" in printed
    for name in ("Newsletter", "Donors", "Engaged readers (1)", "show campaigns"):
        assert name in printed, name
    assert "show lists|segments|campaigns" in printed


def test_input_is_read_while_a_command_works(tmp_path: Path) -> None:
    out = io.StringIO()
    lines = Recording("add VIP --lists Newsletter\ntags\nexit\n", out)
    assert run_fast(Settings(database_url=f"sqlite:///{tmp_path}/s.db"), lines, out) == 0
    printed = out.getvalue()
    assert printed.index("<read 3>") < printed.index("[cctag] Started: add tag “VIP”")


def test_a_second_run_in_the_same_folder_behaves_like_the_first(tmp_path: Path) -> None:
    text = "add VIP --lists Newsletter\nadd Volunteer --tags VIP\nexit\n"
    for _ in range(2):
        printed = _run(tmp_path / "same.db", text)
        assert printed.count("[cctag] Started:") == 2, printed
        assert sum("[thread] completed" in line for line in printed.split("\n")) == 2
        assert "went wrong" not in printed


def test_says_when_nothing_awaits_yes_and_ends_on_eof(tmp_path: Path) -> None:
    printed = _run(tmp_path / "shell.db", "yes\nno\nadd Nope --all-active\n")
    assert printed.count("Nothing is waiting for a yes or no.") == 2
    assert "Unknown tag: “Nope”" in printed and "Traceback" not in printed


def _csv(path: Path, known: int, unknown: int) -> Path:
    rows = ["name,email,notes"]
    rows += [f"Person {n},contact{n}@example.com,came" for n in range(1, known + 1)]
    rows += [f"Guest {n},guest{n}@nowhere.example,walk-in" for n in range(unknown)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_csv_of_1200_emails_runs_as_one_job_in_the_shell(tmp_path: Path) -> None:
    """The done-when run in the shell: --csv previews, asks, runs as a job of three
    activities, and the thread ends with one `completed` reply for all of them."""
    attendees = _csv(tmp_path / "attendees.csv", known=1196, unknown=4)
    text = f"create Webinar\nadd Webinar --csv {attendees}\nyes\nexit\n"
    out = io.StringIO()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/csv.db")
    assert run_fast(settings, io.StringIO(text), out, contacts=1300) == 0
    printed = out.getvalue()
    counted = re.search(r"(\d+) contacts found", printed)
    assert counted is not None
    found = int(counted.group(1))
    assert 1000 < found <= 1500
    assert "4 emails not found: guest0@nowhere.example" in printed
    skipped = re.search(r"(\d+) contacts skipped \((\d+) deleted, (\d+) unsubscribed\)", printed)
    assert skipped is not None, "the demo data holds unsubscribed and deleted contacts"
    assert int(skipped.group(1)) == 1196 - found == int(skipped.group(2)) + int(skipped.group(3))
    assert "It runs as a job of 3 activities: 3 API calls to start" in printed
    assert "(answer yes or no)" in printed and "[cctag] Started job " in printed
    ends = [line for line in printed.split("\n") if line.startswith("[thread] Job ")]
    assert len(ends) == 1, ends
    assert f"completed: all 3 activities, {found:,} of {found:,} items." in ends[0]
    assert "Traceback" not in printed


def test_csv_files_that_give_no_emails_are_refused_in_words(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("name\nAnn\nBob\n", encoding="utf-8")
    lines = [
        f"add VIP --csv {tmp_path / 'missing.csv'}",
        f"add VIP --csv {empty}",
        f"add VIP --csv {names}",
        f"add VIP --csv {tmp_path}",
        "add VIP --csv",
    ]
    printed = _run(tmp_path / "refused.db", "\n".join([*lines, "exit", ""]))
    assert f"! There is no file at {tmp_path / 'missing.csv'} (nothing was changed)" in printed
    assert "The file is empty: a CSV file with a column of emails is needed" in printed
    assert "No email address was found in the file" in printed
    assert f"{tmp_path} is a folder, not a CSV file" in printed
    assert "--csv needs the path of a CSV file" in printed
    assert "[#channel]" not in printed and "Traceback" not in printed


def test_budget_in_the_shell_shows_the_workspaces_calls_and_the_keys(tmp_path: Path) -> None:
    printed = _run(tmp_path / "budget.db", "tags\nbudget\nbudget now\nexit\n")
    shown = printed.split("Constant Contact calls today")[1]
    assert "This workspace: 1 call today (0 of them background work)." in shown
    assert "The API key, for every workspace: 9,999 of its 10,000 calls left" in shown
    # 2,000 kept for people, less the one call a person made
    assert "1,999 of them kept for people waiting" in shown and "UTC, in" in shown
    assert "! /cctag budget takes nothing after it" in printed


def test_the_shell_decides_requests_as_an_admin(tmp_path: Path) -> None:
    from datetime import timedelta

    from bot.store import Store
    from bot.store.approvals import ApprovalStore, NewApproval

    database = tmp_path / "shell.db"
    store = Store(f"sqlite:///{database}")
    store.upgrade()

    def waiting(line: str) -> str:
        new = NewApproval(
            workspace_id="T0001",
            requester_id="UPLAIN",
            channel_id="C0PLAIN",
            action="contacts_tags_delete",
            summary=f"do what `{line}` says",
            preview="You asked to delete a tag.",
            line=line,
            form=None,
            fingerprint="[]",  # not what planning it again answers: stale at the approval
            expires_at=store.clock.now() + timedelta(hours=1),
        )
        return ApprovalStore(store).create(new).id

    denied, stale = waiting("delete Volunteer"), waiting("delete VIP")
    store.close()
    out = io.StringIO()
    lines = f"deny {denied} not before the AGM\napprove {denied}\napprove {stale}\nexit\n"
    url = f"sqlite:///{database}"
    assert run_fast(Settings(), io.StringIO(lines), out, database_url=url) == 0
    printed = out.getvalue()
    assert "Denied by you at " in printed and "“not before the AGM”" in printed
    assert "[to UPLAIN] Your request" in printed
    assert f"Request {denied} is decided already" in printed
    assert f"Request {stale} was approved but not run: what it names changed" in printed


def test_rules_are_made_listed_and_paused_in_the_shell(tmp_path: Path) -> None:
    printed = _run(
        tmp_path / "rules.db",
        "every weekday at 07:30 add VIP --lists Newsletter\nrules\nrule pause 1\nrules\nexit\n",
    )
    assert "Rule 1 made: every weekday at 07:30 (UTC: your time zone could not be read)" in printed
    assert "1 every weekday at 07:30 (UTC)" in printed and "next run" in printed
    assert "Paused rule 1" in printed and "paused (paused by" in printed
    assert "[#channel]" not in printed, "making a rule starts nothing"


def test_mentions_of_people_and_channels_read_plainly() -> None:
    said = "<@U0SHELL> asked; it waits in <#C0APPROVE> and <#C0NAMED|approvals> for <@U0ADMIN>"
    assert plain(said) == "you asked; it waits in #C0APPROVE and #approvals for @U0ADMIN"
