"""A CSV file in the add, remove, lists and unlists modals: read after the ack with the bot
token, its emails joined to the typed ones; each bad file told in the modal, nothing started."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer
from bot.slack.files import FileFormConversation, FileReader, SlackFile
from bot.slack.forms import Form
from bot.usecases import Source, SourceKind, TaggingInput
from bot.usecases.outcomes import Refused
from bot.usecases.ports import Message, Pending
from tests.support.slack import Bot, run_poller, text_of, wait_for

TAG = "Webinar 2026"


def _open(bot: Bot, command: str) -> dict[str, Any]:
    before = len(bot.fake.views)
    answer = bot.local.command(command, key=f"open-{command}")
    assert answer.status_code == 200 and answer.text == ""
    wait_for(lambda: len(bot.fake.views) > before, what="a modal")
    return list(bot.fake.views.values())[-1]


def _settled(bot: Bot, view_id: str, word: str) -> str:
    wait_for(lambda: word in text_of(bot.view(view_id)), what=f"view {word}")
    return text_of(bot.view(view_id))


def _new_tag(bot: Bot) -> tuple[str, str]:
    assert "Created the tag" in text_of(bot.command(f"create {TAG}", "create"))
    tag = bot.account.find_tag_by_name(TAG)
    assert tag is not None
    return (tag.tag_id, tag.name)


def _active(bot: Bot, count: int) -> list[str]:
    """The emails of the first `count` subscribed demo contacts."""
    contacts = sorted(
        bot.sandbox.state.account().contacts.values(), key=lambda c: int(c.email[7:-12])
    )
    return [c.email for c in contacts if c.is_active][:count]


def _tagged(bot: Bot, tag_id: str) -> set[str]:
    bot.sandbox.state.advance()  # what the sandbox's clock says is done by now
    account = bot.sandbox.state.account()
    return {c.email for c in account.contacts.values() if tag_id in c.tags}


def _csv(emails: list[str]) -> bytes:
    rows = ["name;email;company"] + [f"Person {n};{e};ACME" for n, e in enumerate(emails)]
    return ("\r\n".join(rows) + "\r\n").encode()


def _submit_with_file(
    bot: Bot, view: dict[str, Any], file_id: str, targets: list[tuple[str, str]], **more: Any
) -> dict[str, Any]:
    values = {
        "targets": targets,
        "source_kind": "contacts",
        "source_file": [bot.fake.file_object(file_id)],
        **more,
    }
    answer = bot.local.submit(view, values)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_the_forms_offer_one_csv_file(bot: Bot) -> None:
    for command in ("add", "remove", "lists", "unlists"):
        view = _open(bot, command)
        [block] = [b for b in view["blocks"] if b.get("block_id") == "source_file"]
        assert block["optional"] is True
        assert block["element"] == {
            "type": "file_input",
            "action_id": "value",
            "filetypes": ["csv", "txt"],
            "max_files": 1,
        }
    assert bot.fake.calls_to("files.info") == []


def test_a_csv_in_the_add_modal_tags_its_contacts_and_the_typed_ones(bot: Bot) -> None:
    tag = _new_tag(bot)
    emails = _active(bot, 7)
    in_file = emails[:6]
    typed = f"{emails[0].upper()}, {emails[6]}"  # one also in the file, in capitals
    file_id = bot.fake.upload_file("attendees.csv", _csv(in_file))
    view = _open(bot, "add")
    body = _submit_with_file(bot, view, file_id, [tag], source_contacts=typed)
    assert body["response_action"] == "update" and "Working on it" in text_of(body["view"])
    done = _settled(bot, view["id"], "Started")
    assert "add tag “Webinar 2026” to 7 named contacts" in done
    [tracked] = bot.wait_tracked()
    wait_for(lambda: _tagged(bot, tag[0]), what="the activity's effect")
    assert _tagged(bot, tag[0]) == set(emails)
    [info] = bot.fake.calls_to("files.info")
    assert info.args["file"] == file_id and info.token == "xoxb-test"
    [download] = bot.fake.downloads
    assert download.served and download.token == "xoxb-test"
    assert tracked.kind == "contacts_taggings_add" and bot.activities() == 1


def test_a_file_alone_is_enough_and_works_for_lists(bot: Bot) -> None:
    emails = _active(bot, 3)
    newsletter = bot.account.find_list_by_name("Newsletter")
    assert newsletter is not None
    file_id = bot.fake.upload_file("people.txt", "\n".join(emails).encode())
    view = _open(bot, "unlists")
    _submit_with_file(bot, view, file_id, [(newsletter.list_id, newsletter.name)])
    assert f"remove the contacts “{emails[0]}”" in _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "remove_list_memberships"


def test_a_file_with_another_source_is_an_inline_error(bot: Bot) -> None:
    tag = _new_tag(bot)
    file_id = bot.fake.upload_file("a.csv", b"contact1@example.com\n")
    view = _open(bot, "add")
    values = {
        "targets": [tag],
        "source_kind": "all-active",
        "source_file": [bot.fake.file_object(file_id)],
    }
    body = bot.local.submit(view, values).json()
    assert body["response_action"] == "errors"
    assert "pick “These contacts” above" in body["errors"]["source_file"]
    assert bot.fake.calls_to("files.info") == [] and bot.activities() == 0


BAD_FILES = [
    ("empty.csv", b"", "“empty.csv”: The file is empty"),
    ("blank.csv", b" \r\n \r\n", "“blank.csv”: The file is empty"),
    ("names.csv", b"name,company\nAnn,ACME\n", "No email address was found in the file"),
    ("photo.csv", b"\x89PNG\r\n\x00\x00\x00", "not a text CSV file"),
    ("report.pdf", b"%PDF-1.4 contact1@example.com", "is not a CSV or text file"),
    ("<!here>.csv", b"", "“&lt;!here&gt;.csv”: The file is empty"),
]


@pytest.mark.parametrize(("name", "content", "said"), BAD_FILES)
def test_a_bad_file_is_told_in_the_modal_and_nothing_starts(
    bot: Bot, name: str, content: bytes, said: str
) -> None:
    tag = _new_tag(bot)
    file_id = bot.fake.upload_file(name, content)
    view = _open(bot, "add")
    body = _submit_with_file(bot, view, file_id, [tag])
    assert body["response_action"] == "update"
    shown = _settled(bot, view["id"], "Nothing was changed")
    assert said in shown and "<!here>" not in shown
    assert bot.activities() == 0 and bot.parents() == []
    assert any(a == "tagging" and o.startswith("refused: ") for a, o in bot.audit())


def test_a_file_too_large_is_refused_before_it_is_downloaded(bot: Bot) -> None:
    tag = _new_tag(bot)
    file_id = bot.fake.upload_file("huge.csv", b"a@example.com\n" * 800_000)  # 11.2 MB
    view = _open(bot, "add")
    _submit_with_file(bot, view, file_id, [tag])
    shown = _settled(bot, view["id"], "Nothing was changed")
    assert "“huge.csv” is 10.7 MB; a CSV file of at most 10 MB is read" in shown
    assert bot.fake.downloads == [] and bot.activities() == 0


def test_a_file_gone_or_unreadable_is_told_in_the_modal(bot: Bot) -> None:
    tag = _new_tag(bot)
    view = _open(bot, "add")
    ghost = {"id": "F0NOSUCH", "name": "gone.csv"}
    bot.local.submit(view, {"targets": [tag], "source_kind": "contacts", "source_file": [ghost]})
    assert "no longer in Slack" in _settled(bot, view["id"], "Nothing was changed")

    file_id = bot.fake.upload_file("ok.csv", b"contact1@example.com\n")
    bot.fake.scopes = {"commands", "chat:write"}  # installed before files:read was asked for
    view = _open(bot, "remove")
    _submit_with_file(bot, view, file_id, [tag])
    assert "files:read" in _settled(bot, view["id"], "Nothing was changed")
    assert bot.activities() == 0


def test_a_download_redirected_to_another_host_is_not_followed(bot: Bot) -> None:
    tag = _new_tag(bot)
    file_id = bot.fake.upload_file("ok.csv", b"contact1@example.com\n")
    elsewhere = f"http://localhost:{bot.slack.port}/files-pri/T0001-{file_id}/download/ok.csv"
    bot.fake.redirect_download(file_id, elsewhere)
    view = _open(bot, "add")
    _submit_with_file(bot, view, file_id, [tag])
    assert "to another address" in _settled(bot, view["id"], "Nothing was changed")
    assert [d.host for d in bot.fake.downloads] == ["127.0.0.1"]
    assert bot.activities() == 0


# ---------------------------------------------------------------- the reader itself


@pytest.fixture
def strict_slack() -> Any:
    with FakeSlackServer(FakeSlack(valid_tokens={"xoxb-good"})) as server:
        yield server


def test_a_download_without_the_right_token_is_refused(strict_slack: FakeSlackServer) -> None:
    fake = strict_slack.fake
    file_id = fake.upload_file("a.csv", b"contact1@example.com\n")
    good = WebClient(token="xoxb-good", base_url=strict_slack.api_url)
    attached = FileReader(good).info(file_id)
    assert FileReader(good).download(attached) == b"contact1@example.com\n"
    wrong = WebClient(token="xoxb-wrong", base_url=strict_slack.api_url)
    with pytest.raises(Refused, match=r"Slack refused to let me download “a\.csv”"):
        FileReader(wrong).download(attached)
    assert [d.served for d in fake.downloads] == [True, False]
    with pytest.raises(Refused, match="Slack did not hand me the attached file"):
        FileReader(wrong).info(file_id)  # invalid_auth


def test_the_size_cap_holds_while_reading(strict_slack: FakeSlackServer) -> None:
    file_id = strict_slack.fake.upload_file("a.csv", b"x@example.com\n" * 100)
    client = WebClient(token="xoxb-good", base_url=strict_slack.api_url)
    attached = SlackFile.model_validate({**strict_slack.fake.file_object(file_id), "size": None})
    with pytest.raises(Refused, match="a CSV file of at most"):
        FileReader(client, max_bytes=1000).download(attached)


def test_a_download_address_off_slack_gets_no_token(strict_slack: FakeSlackServer) -> None:
    client = WebClient(token="xoxb-good", base_url=strict_slack.api_url)
    attached = SlackFile(id="F1", name="a.csv", url_private_download="http://example.org/a.csv")
    with pytest.raises(Refused, match="no download address of its own"):
        FileReader(client).download(attached)


# ---------------------------------------------------------------- a confirmation with a file


def test_a_confirmation_carries_the_file_and_the_yes_reads_it_again(bot: Bot) -> None:
    tag = _new_tag(bot)
    emails = _active(bot, 4)
    file_id = bot.fake.upload_file("four.csv", _csv(emails))
    view = _open(bot, "add")
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    typed = Source(SourceKind.CONTACTS, (emails[0],))
    form = Form("tagging", "add", "C0001", (tag[0],), typed, files=(file_id,))
    talk = FileFormConversation(client, view["id"], "Add tags", "Started", form)
    planned = TaggingInput("add", (tag[1],), Source(SourceKind.CONTACTS, tuple(emails)))
    talk.ask_to_confirm(Message("You asked to tag 4."), Pending(None, planned, "C0001"))
    confirm = bot.view(view["id"])
    assert confirm["callback_id"] == "confirm_view"
    assert f'"files":["{file_id}"]' in confirm["private_metadata"]
    assert emails[1] not in confirm["private_metadata"]  # the file's emails stay in the file
    bot.local.submit(confirm)
    _settled(bot, view["id"], "Started")
    bot.wait_tracked()
    wait_for(lambda: _tagged(bot, tag[0]), what="the activity's effect")
    assert _tagged(bot, tag[0]) == set(emails) and len(bot.fake.downloads) == 1


def test_a_modals_yes_is_confirmed_through_the_buttons_entry_and_reads_the_file_there(
    bot: Bot,
) -> None:
    """The yes of a confirmation modal goes through the one confirm entry of the buttons and
    the shell: claimed once (a double submit reads the file once), the file read inside its
    guarded turn, and a file deleted since the preview refused in words, audited as a
    confirmation's (a form's own path would audit it as the form's, "tagging")."""
    tag = _new_tag(bot)
    emails = _active(bot, 2)
    file_id = bot.fake.upload_file("two.csv", _csv(emails))
    view = _open(bot, "add")
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    form = Form("tagging", "add", "C0001", (tag[0],), Source(SourceKind.CONTACTS), files=(file_id,))
    talk = FileFormConversation(client, view["id"], "Add tags", "Started", form)
    planned = TaggingInput("add", (tag[1],), Source(SourceKind.CONTACTS, tuple(emails)))
    talk.ask_to_confirm(Message("You asked to tag 2."), Pending(None, planned, "C0001"))
    confirm = bot.view(view["id"])
    bot.fake.files.pop(file_id)  # deleted in Slack between the preview and the yes

    bot.local.submit(confirm)
    bot.local.submit(confirm)  # a double submit
    assert "no longer in Slack" in _settled(bot, view["id"], "Nothing was changed")
    said = wait_for(
        lambda: [o for a, o in bot.audit() if a == "confirm" and "no longer in Slack" in o],
        what="the yes audited",
    )
    assert said[0].startswith("refused: ") and not [a for a, _ in bot.audit() if a == "tagging"]
    assert len(bot.fake.calls_to("files.info")) == 1
    assert bot.activities() == 0 and bot.parents() == []


# ---------------------------------------------------------------- done when: many rows

KNOWN = 1180  # emails of the big sandbox's demo contacts, SKIPPED of them not subscribed
SKIPPED = 60
UNKNOWN = 20


def _rows(emails: list[str]) -> bytes:
    """A CRM export: a header, several columns, the email in the third, quoted fields."""
    rows = ['"First name","Last name",Email,"Signed up"']
    rows += [f'"Ann","Lee, Jr.",{email},2026-03-0{n % 9 + 1}' for n, email in enumerate(emails)]
    return ("\n".join(rows) + "\n").encode()


def test_a_csv_of_400_known_contacts_tags_exactly_them(big_bot: Bot, clock: FakeClock) -> None:
    bot = big_bot
    tag = _new_tag(bot)
    emails = _active(bot, 400)
    file_id = bot.fake.upload_file("crm-export.csv", _rows(emails))
    view = _open(bot, "add")
    _submit_with_file(bot, view, file_id, [tag])
    assert "add tag “Webinar 2026” to 400 named contacts" in _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    run_poller(bot, clock)
    assert _tagged(bot, tag[0]) == set(emails)
    [parent] = bot.parents()
    assert parent.ts == tracked.parent_ts
    states = [
        (m.metadata or {})["event_payload"]["state"] for m in bot.fake.thread("C0001", parent.ts)
    ]
    assert states.count("completed") == 1 and states[-1] == "completed"


def test_a_csv_of_1200_emails_previews_then_runs_as_one_job(big_bot: Bot, clock: FakeClock) -> None:
    bot = big_bot
    tag = _new_tag(bot)
    account = bot.sandbox.state.account()
    demo = sorted(account.contacts.values(), key=lambda c: int(c.email[7:-12]))
    skipped = [c.email for c in demo if not c.is_active][:SKIPPED]
    found = [c.email for c in demo if c.is_active][: KNOWN - SKIPPED]
    emails = found + skipped + [f"nobody{n}@example.org" for n in range(UNKNOWN)]
    subscribed = {account.by_email[e] for e in found}
    assert len(emails) == 1200 and len(skipped) == SKIPPED
    file_id = bot.fake.upload_file("webinar.csv", _rows(emails))
    view = _open(bot, "add")
    _submit_with_file(bot, view, file_id, [tag])
    preview = _settled(bot, view["id"], "until you confirm")
    assert f"*{len(subscribed)} contacts* found" in preview
    assert f"*{UNKNOWN} emails* not found" in preview
    assert f"*{SKIPPED} contacts* skipped" in preview
    assert bot.activities() == 0 and bot.parents() == []
    bot.local.submit(bot.view(view["id"]))
    _settled(bot, view["id"], "Started")
    wait_for(lambda: bot.activities() == 3, what="three activities")
    run_poller(bot, clock)
    [parent] = bot.parents()
    ends = [
        m
        for m in bot.fake.thread("C0001", parent.ts)
        if (m.metadata or {}).get("event_payload", {}).get("state") == "job"
    ]
    assert len(ends) == 1 and "completed" in ends[0].text
    assert bot.sandbox.state.account().tag_members[tag[0]] == subscribed
    assert len(bot.fake.downloads) == 2  # the preview's read and the yes's
