"""Who did what, as a source: campaign behaviour and segments over signed HTTP against the
sandbox, the poller following each activity to its end in its thread; and once in the shell.

The app runs on a FakeClock, so a segment's waits between 202s cost no real time."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK, FakeClock
from bot.devkit.fakeslack.server import FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.campaigns import CampaignActivityRecord
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DEMO_ACCOUNT_ID, Account
from bot.devkit.threaded_server import ThreadedServer
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.settings import Settings
from bot.shell import run_shell
from bot.slack.app import create_app
from bot.slack.views import CAMPAIGN_SELECT, LINK_SELECT
from bot.store import Store
from bot.web import create_web_app
from tests.support.slack import SECRET, Bot, text_of, wait_for

SPRING = "Spring Newsletter 2026"
PRICING = "https://example.com/pricing"
SPRING_LINKS = ("https://example.com/blog/spring", "https://example.com/events")
NARROW_SCOPE = "contact_data offline_access"

# The shell with its activities shortened (1.2 s, not 3 s): long enough for progress to show.
run_fast = partial(run_shell, activity_seconds=1.2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=datetime.now(UTC))


@contextmanager
def _bot(sandbox: SandboxServer, tmp_path: Path, clock: FakeClock, token: str) -> Iterator[Bot]:
    """The real web app on `clock`, FakeSlack, the sandbox, and a poller posting to threads."""
    slack = FakeSlackServer()
    with slack:
        store = Store(f"sqlite:///{tmp_path}/cctag.db")
        store.upgrade()
        api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=40.0), max_retries=1)
        account = api.for_account(StaticTokens(token))
        settings = Settings(slack_signing_secret=SECRET, database_url=store.database_url)
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        app = create_app(settings, store, SingleAccount(account), client, clock)
        poller = Poller(
            store,
            SingleAccount(account),
            SingleSlack(client),
            SYSTEM_CLOCK,
            owner=f"test-{uuid.uuid4().hex[:8]}",
            base_interval=0.1,
            min_interval=0.05,
        )
        stop = threading.Event()
        thread = threading.Thread(target=poller.run_forever, args=(stop,), daemon=True)
        with ThreadedServer(create_web_app(app, store)) as web:
            thread.start()
            local = LocalSlack(f"{web.url}/slack/events", SECRET, slack.response_url)
            try:
                yield Bot(sandbox, slack, store, account, web, local)
            finally:
                stop.set()
                thread.join(timeout=10)
        api.close()
        store.close()


@pytest.fixture
def bot(sandbox: SandboxServer, tmp_path: Path, clock: FakeClock) -> Iterator[Bot]:
    with _bot(sandbox, tmp_path, clock, sandbox.access_token) as made:
        yield made


@pytest.fixture
def narrow_bot(sandbox: SandboxServer, tmp_path: Path, clock: FakeClock) -> Iterator[Bot]:
    """Connected before campaign_data was asked for."""
    token = f"narrow-{uuid.uuid4().hex[:8]}"
    sandbox.state.add_access_token(token, DEMO_ACCOUNT_ID, expires_in=None, scope=NARROW_SCOPE)
    with _bot(sandbox, tmp_path, clock, token) as made:
        yield made


@pytest.fixture
def big_bot(tmp_path: Path, clock: FakeClock) -> Iterator[Bot]:
    """Enough contacts for "Pricing Launch" to have more than 500 distinct clickers."""
    with (
        SandboxServer(activity_seconds=0.3, rate_per_second=50.0, contacts=800) as sandbox,
        _bot(sandbox, tmp_path, clock, sandbox.access_token) as made,
    ):
        yield made


# ---------------------------------------------------------------- what the sandbox holds


def _account(bot: Bot) -> Account:
    return bot.sandbox.state.account()


def _reported(bot: Bot, name: str) -> list[CampaignActivityRecord]:
    book = _account(bot).campaigns
    assert book is not None
    campaign = next(
        c for c in book.campaigns.values() if c.name == name and c.current_status == "Done"
    )
    found = []
    for activity in campaign.activities:
        if activity.role in ("primary_email", "resend"):
            filled = book.activity(activity.campaign_activity_id)
            assert filled is not None
            found.append(filled)
    return found


def _report(bot: Bot, name: str, report: str, link: str | None = None) -> set[str]:
    return {
        row.contact.contact_id
        for activity in _reported(bot, name)
        for row in activity.reports[report]
        if link is None or row.link_url == link
    }


def _tagged(bot: Bot, tag_name: str) -> set[str]:
    tag = _account(bot).tag_by_name(tag_name)
    assert tag is not None
    return set(_account(bot).tag_members.get(tag.tag_id, set()))


def _create(bot: Bot, tag_name: str) -> None:
    assert "Created the tag" in text_of(
        bot.command(f'create "{tag_name}"', f"create-{uuid.uuid4().hex[:8]}")
    )


def _started(bot: Bot, line: str, key: str) -> str:
    """The reply that says it started (a segment may be waited for first, the person told)."""
    assert bot.local.command(line, key=key).status_code == 200
    return wait_for(
        lambda: next((t for r in bot.responses(key) if "Started" in (t := text_of(r))), ""),
        what=f"{line} started",
    )


def _ended_once(bot: Bot) -> SlackMessage:
    """The one parent; its activity's end posted exactly once in its thread."""
    [parent] = bot.parents()
    wait_for(lambda: bot.store.in_flight_count() == 0, timeout=20, what="the activity's end")
    thread = bot.fake.thread(parent.channel, parent.ts)
    ends = [m for m in thread if "*completed*" in m.text]
    assert len(ends) == 1, [m.text for m in thread]
    return parent


# ---------------------------------------------------------------- done when


def test_clickers_of_one_link_are_tagged_as_one_activity(bot: Bot) -> None:
    _create(bot, "Spring clickers")
    line = f'add "Spring clickers" --clicked "{SPRING}" --link {PRICING}'
    reply = bot.command(line, "clicked")
    expected = _report(bot, SPRING, "clicks", PRICING)
    assert expected
    shown = text_of(reply)
    summary = f"add tag “Spring clickers” to contacts who clicked {PRICING} in “{SPRING}”"
    assert f"Started: {summary}" in shown
    assert (
        f"{len(expected)} contacts who clicked {PRICING} in “{SPRING}” (from its primary_email "
        "and resend).\nIt runs as *one activity*: 1 API call to start (finding the contacts "
        "took 6 calls)" in shown
    )
    parent = _ended_once(bot)
    assert summary in parent.text
    assert _tagged(bot, "Spring clickers") == expected
    assert bot.activities() == 1


def test_non_openers_are_tagged_as_one_activity(bot: Bot) -> None:
    _create(bot, "Resend")
    bot.command(f'add Resend --not-opened "{SPRING}"', "not-opened")
    expected = _report(bot, SPRING, "didnotopens") - _report(bot, SPRING, "unique_opens")
    assert expected
    _ended_once(bot)
    assert _tagged(bot, "Resend") == expected


def test_a_segment_that_answers_202_twice_is_waited_for_and_tagged(
    bot: Bot, clock: FakeClock
) -> None:
    _create(bot, "Donor seg")
    bot.sandbox.faults.segment_computing(times=2)
    bot.local.command('add "Donor seg" --segment "Active donors"', key="segment")
    waiting = text_of(bot.wait_response("segment", 1))
    assert "still computing the segment “Active donors”" in waiting
    started = text_of(bot.wait_response("segment", 2))
    assert "Started: add tag “Donor seg” to contacts in segment Active donors" in started
    assert clock.sleeps == [2.0, 4.0]  # backoff on the app's clock, no real wait
    _ended_once(bot)
    assert _tagged(bot, "Donor seg") == _account(bot).segments[2]


def test_remove_takes_a_segment_by_id(bot: Bot) -> None:
    engaged = _account(bot).segments[1]
    vip = _account(bot).tag_by_name("VIP")
    assert vip is not None
    had = set(_account(bot).tag_members[vip.tag_id])
    assert had & engaged
    _started(bot, "remove VIP --segment 1", "remove-seg")
    _ended_once(bot)
    assert _tagged(bot, "VIP") == had - engaged


def test_lists_keeps_the_native_segment_source_given_by_name(bot: Bot) -> None:
    before = bot.sandbox.state.request_count("/v3/segments")
    reply = text_of(bot.command('lists Newsletter --segment "Active donors"', "lists-seg"))
    assert "Started: add contacts in segment Active donors to list “Newsletter”" in reply
    assert bot.sandbox.state.request_count("/v3/segments") == before + 1  # the name, once
    assert bot.sandbox.state.request_count("segment_id=") == 0  # members never read
    _ended_once(bot)
    account = _account(bot)
    newsletter = next(x for x in account.lists.values() if x.name == "Newsletter")
    assert account.segments[2] <= account.list_members[newsletter.list_id]


def test_unlists_takes_who_bounced(bot: Bot) -> None:
    account = _account(bot)
    newsletter = next(x for x in account.lists.values() if x.name == "Newsletter")
    bounced = _report(bot, SPRING, "bounces")
    assert bounced & account.list_members[newsletter.list_id]
    bot.command(f'unlists Newsletter --bounced "{SPRING}"', "unlists")
    _ended_once(bot)
    assert not bounced & account.list_members[newsletter.list_id]


def test_more_than_500_clickers_are_one_request_tagging_all(big_bot: Bot) -> None:
    _create(big_bot, "Pricing clickers")
    line = f'add "Pricing clickers" --clicked "Pricing Launch" --link {PRICING}'
    reply = text_of(big_bot.command(line, "many"))
    expected = _report(big_bot, "Pricing Launch", "clicks", PRICING)
    assert len(expected) > 500
    assert "It runs as a job of *2 activities*" in reply, reply
    [parent] = big_bot.parents()
    wait_for(lambda: big_bot.store.in_flight_count() == 0, timeout=30, what="the job")
    assert _tagged(big_bot, "Pricing clickers") == expected
    thread = big_bot.fake.thread(parent.channel, parent.ts)
    wait_for(lambda: any("completed" in m.text for m in thread), what="the job's end")
    replies = big_bot.fake.thread(parent.channel, parent.ts)
    ends = [m for m in replies if "completed:" in m.text and "%" not in m.text]  # not the bar
    assert len(ends) == 1, [m.text for m in thread]


# ---------------------------------------------------------------- refusals, nothing started


def _refused(bot: Bot, line: str, key: str) -> str:
    shown = text_of(bot.command(line, key))
    assert "Nothing was changed" in shown and "Started" not in shown
    assert bot.parents() == [] and bot.activities() == 0
    return shown


def test_an_unknown_campaign_names_the_candidates(bot: Bot) -> None:
    shown = _refused(bot, 'add VIP --opened "Pricing Lunch"', "unknown")
    assert "No email campaign is named “Pricing Lunch”. Closest: “Pricing Launch”." in shown


def test_a_link_not_in_the_campaign_names_its_links(bot: Bot) -> None:
    shown = _refused(bot, f'add VIP --clicked "{SPRING}" --link https://example.com/faq', "l")
    assert (
        f"https://example.com/faq is not a link of “{SPRING}”. Its links: {PRICING}, "
        "https://example.com/blog/spring, https://example.com/events." in shown
    )
    assert bot.sandbox.state.request_count("/tracking/") == 0


def test_a_campaign_without_reports_is_explained(bot: Bot) -> None:
    shown = _refused(bot, 'add VIP --clicked "Holiday Draft"', "draft")
    assert "“Holiday Draft” was never sent (it is Draft)" in shown
    assert bot.sandbox.state.request_count("/reports/") == 0


def test_a_misspelt_tag_costs_no_report_call(bot: Bot) -> None:
    shown = _refused(bot, f'add Nope --opened "{SPRING}"', "tag")
    assert "Unknown tag: “Nope”" in shown
    assert bot.sandbox.state.request_count("/emails") == 0


def test_bad_lines_are_sentences(bot: Bot) -> None:
    link = _refused(bot, f'add VIP --opened "{SPRING}" --link {PRICING}', "p1")
    assert "--link only narrows --clicked <campaign>" in link
    assert "--clicked needs a value" in _refused(bot, "add VIP --clicked", "p2")


def test_a_connection_without_campaign_data_is_told_to_reconnect(narrow_bot: Bot) -> None:
    shown = _refused(narrow_bot, f'add VIP --clicked "{SPRING}"', "scope")
    assert "campaign_data" in shown and "/cctag connect" in shown
    # segments need only contact_data: the same connection still tags a segment's members
    started = _started(narrow_bot, 'add VIP --segment "Active donors"', "scope-seg")
    assert "Started: add tag “VIP” to contacts in segment Active donors" in started


# ---------------------------------------------------------------- the shell


def test_the_shell_tags_a_campaigns_clickers(tmp_path: Path) -> None:
    lines = io.StringIO(
        '/cctag create "Spring clickers"\n'
        f'add "Spring clickers" --clicked "{SPRING}" --link {PRICING}\n'
        "exit\n"
    )
    out = io.StringIO()
    assert run_fast(Settings(database_url=f"sqlite:///{tmp_path}/shell.db"), lines, out) == 0
    printed = out.getvalue()
    summary = f"add tag “Spring clickers” to contacts who clicked {PRICING} in “{SPRING}”"
    assert f"[cctag] You asked to {summary}." in printed and f"\nStarted: {summary}" in printed
    assert "(finding the contacts took 6 calls)" in printed
    assert sum("[thread] completed" in line for line in printed.split("\n")) == 1
    assert "Traceback" not in printed


# ---------------------------------------------------------------- the modals


def _open_form(bot: Bot, command: str) -> dict[str, Any]:
    assert bot.local.command(command, key=f"open-{command}").status_code == 200
    return wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]


def _picked(action_id: str, value: str) -> dict[str, Any]:
    option = {"value": value, "text": {"type": "plain_text", "text": value[:75]}}
    return {action_id: {"type": "external_select", "selected_option": option}}


def _suggest(
    bot: Bot, action_id: str, typed: str, campaign: str | None = None
) -> list[tuple[str, str]]:
    """A block_suggestion as Slack sends it, with the modal's state so far."""
    state = {"source_campaign": _picked(CAMPAIGN_SELECT, campaign)} if campaign else {}
    payload = {
        "type": "block_suggestion",
        "team": {"id": "T0001", "domain": "local"},
        "user": {"id": "U0001", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy",
        "action_id": action_id,
        "block_id": "source_link" if action_id == LINK_SELECT else "source_campaign",
        "value": typed,
        "view": {"type": "modal", "state": {"values": state}},
    }
    answer = bot.local.interact(payload)
    assert answer.status_code == 200
    options = answer.json()["options"]
    assert len(options) <= 100
    found = [(o["value"], o["text"]["text"]) for o in options]
    assert all(len(value) <= 150 and len(text) <= 75 for value, text in found)
    return found


def _submit_picked(bot: Bot, view: dict[str, Any], values: dict[str, Any], **picked: str) -> None:
    payload = bot.local.view_submission_payload(view, values)
    state = payload["view"]["state"]["values"]
    state["source_campaign"] = _picked(CAMPAIGN_SELECT, picked["campaign"])
    if "link" in picked:
        state["source_link"] = _picked(LINK_SELECT, picked["link"])
    assert bot.local.interact(payload).status_code == 200


def test_the_add_form_picks_a_campaign_and_a_link_by_type_ahead(bot: Bot) -> None:
    _create(bot, "Spring clickers")
    view = _open_form(bot, "add")
    shown = text_of(view)
    assert "Campaign (for who clicked" in shown and "Link (only for who clicked" in shown
    kinds = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert {"clicked", "opened", "not-opened", "bounced", "segment"} <= set(kinds)
    wait_for(lambda: bot.sandbox.state.request_count("/v3/emails") >= 1, what="menu warmed")
    before = bot.sandbox.state.request_count("/v3/emails")
    assert [t for _, t in _suggest(bot, CAMPAIGN_SELECT, "spr")] == [SPRING]
    every = [t for _, t in _suggest(bot, CAMPAIGN_SELECT, "")]
    assert "Holiday Draft" not in every  # never sent: nobody to select
    assert sum(t.casefold() == "member update" for t in every) == 1
    assert bot.sandbox.state.request_count("/v3/emails") == before  # from the cache
    links = _suggest(bot, LINK_SELECT, "", campaign=SPRING)
    assert [t for _, t in links] == sorted([PRICING, *SPRING_LINKS])
    assert _suggest(bot, LINK_SELECT, "") == []  # no campaign picked yet
    targets = [(_tag_id(bot, "Spring clickers"), "Spring clickers")]
    values = {"targets": targets, "source_kind": "clicked"}
    _submit_picked(bot, view, values, campaign=SPRING, link=PRICING)
    wait_for(lambda: "Started" in text_of(bot.view(view["id"])), what="the form started")
    _ended_once(bot)
    assert _tagged(bot, "Spring clickers") == _report(bot, SPRING, "clicks", PRICING)


def test_a_long_link_fits_an_option_and_maps_back(bot: Bot) -> None:
    [primary, resend] = _reported(bot, SPRING)
    long_url = "https://example.com/pricing?" + "utm_campaign=spring&" * 20
    for activity in (primary, resend):
        url_id = next(u for u, url in activity.links.items() if url == PRICING)
        activity.links[url_id] = long_url
    links = dict((text, value) for value, text in _suggest(bot, LINK_SELECT, "utm", SPRING))
    [(text, value)] = links.items()
    assert text.endswith("…") and value.startswith("k:")
    _create(bot, "Long link")
    view = _open_form(bot, "add")
    values = {"targets": [(_tag_id(bot, "Long link"), "Long link")], "source_kind": "clicked"}
    _submit_picked(bot, view, values, campaign=SPRING, link=value)
    wait_for(lambda: "Started" in text_of(bot.view(view["id"])), what="the form started")
    _ended_once(bot)
    assert _tagged(bot, "Long link") == _report(bot, SPRING, "clicks", PRICING)


def test_the_lists_form_reads_a_segment_name_whole(bot: Bot) -> None:
    view = _open_form(bot, "lists")
    newsletter = bot.account.find_list_by_name("Newsletter")
    assert newsletter is not None
    values = {
        "targets": [(newsletter.list_id, "Newsletter")],
        "source_kind": "segment",
        "source_segment": "Active donors",
    }
    bot.local.submit(view, values)
    wait_for(lambda: "Started" in text_of(bot.view(view["id"])), what="the form started")
    assert "contacts in segment Active donors" in text_of(bot.view(view["id"]))


def _tag_id(bot: Bot, name: str) -> str:
    tag = bot.account.find_tag_by_name(name)
    assert tag is not None
    return tag.tag_id


def test_a_campaign_name_from_constant_contact_never_pings(bot: Bot) -> None:
    book = _account(bot).campaigns
    assert book is not None
    spring = next(c for c in book.campaigns.values() if c.name == SPRING)
    spring.name = "Spring <!channel> & co"
    bot.command('add VIP --opened "Spring news"', "ping")
    [raw] = bot.responses("ping")
    for text in (raw["text"], raw["blocks"][0]["text"]["text"]):
        assert "“Spring &lt;!channel&gt; &amp; co”" in text, text
        assert "<!channel>" not in text
