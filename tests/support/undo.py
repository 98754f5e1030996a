"""Helpers for the undo tests: a bot over a sandbox of 1,300 contacts on a fake clock, and
what its threads and the sandbox hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.devkit.fakeslack.server import SlackMessage
from bot.devkit.sandbox.server import SandboxServer
from bot.permissions import Permissions
from bot.store import Store
from bot.usecases.undo import UNDO_BUTTON
from tests.support.slack import Bot, bot_over, run_poller, text_of, wait_for

CONTACTS = 1300


def bot_on(
    database_url: str,
    clock: FakeClock,
    contacts: int = CONTACTS,
    permissions: Callable[[WebClient], Permissions] | None = None,
) -> Iterator[Bot]:
    """A bot whose store, poller and sandbox share one fake clock (the undo window is counted
    on it; the contact index compares its moments with the sandbox's), activities of 20 s."""
    with SandboxServer(
        activity_seconds=20.0, rate_per_second=1000.0, contacts=contacts, clock=clock
    ) as sandbox:
        store = Store(database_url, clock)
        store.upgrade()
        with bot_over(sandbox, store, 1000.0, permissions=permissions, slack_clock=clock) as served:
            yield served
        store.close()


def active_emails(bot: Bot, count: int, skip: int = 0) -> list[str]:
    """Emails of active demo contacts, in the demo's order."""
    account = bot.sandbox.state.account()
    found = sorted(
        (c for c in account.contacts.values() if c.is_active),
        key=lambda c: int(c.email.removeprefix("contact").split("@")[0]),
    )
    return [c.email for c in found[skip : skip + count]]


def ids_of(bot: Bot, emails: list[str]) -> set[str]:
    account = bot.sandbox.state.account()
    return {account.by_email[email] for email in emails}


def tag_directly(bot: Bot, tag_name: str, contact_ids: set[str]) -> None:
    """Someone else tags contacts in Constant Contact (not through cctag)."""
    _retag(bot, tag_name, contact_ids, carried=True)


def untag_directly(bot: Bot, tag_name: str, contact_ids: set[str]) -> None:
    """Someone else takes the tag off contacts in Constant Contact."""
    _retag(bot, tag_name, contact_ids, carried=False)


def _retag(bot: Bot, tag_name: str, contact_ids: set[str], *, carried: bool) -> None:
    state = bot.sandbox.state
    account = state.account()
    tag = account.tag_by_name(tag_name)
    assert tag is not None
    with state.lock:
        tagged = account.tag_members.setdefault(tag.tag_id, set())
        for cid in contact_ids:
            contact = account.contacts[cid]
            if carried:
                contact.tags.add(tag.tag_id)
                tagged.add(cid)
            else:
                contact.tags.discard(tag.tag_id)
                tagged.discard(cid)
            contact.updated_at = state.now()


def members(bot: Bot, tag_name: str) -> set[str]:
    account = bot.sandbox.state.account()
    tag = account.tag_by_name(tag_name)
    assert tag is not None, f"no tag {tag_name}"
    return set(account.tag_members.get(tag.tag_id, set()))


def undo_button(message: SlackMessage) -> dict[str, Any] | None:
    for block in message.blocks:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("action_id") == UNDO_BUTTON:
                return element
    return None


def end_with_undo(bot: Bot, parent_ts: str, nth: int = 1) -> tuple[SlackMessage, dict[str, Any]]:
    """The `nth` reply of the thread that carries an Undo button."""
    ends = [(m, undo_button(m)) for m in bot.fake.thread("C0001", parent_ts)]
    found = [(m, b) for m, b in ends if b is not None]
    assert len(found) >= nth, [m.text for m in bot.fake.thread("C0001", parent_ts)]
    return found[nth - 1]


def confirm_button(payload: dict[str, Any]) -> dict[str, Any]:
    for block in payload.get("blocks", []):
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("action_id") == "confirm_command":
                return element
    raise AssertionError(f"no confirm button in {text_of(payload)}")


def click_undo_and_confirm(
    bot: Bot, button: dict[str, Any], key: str, clock: FakeClock, user: str = "U0001"
) -> str:
    """Click Undo, read the preview, say yes, and follow the undo to its end: the preview."""
    assert bot.local.click(button, key=key, user=user).status_code == 200
    asked = bot.wait_response(key)
    preview = text_of(asked)
    yes = confirm_button(asked)
    assert bot.local.click(yes, key=f"{key}-yes", user=user).status_code == 200
    wait_for(
        lambda: any("Started" in text_of(r) for r in bot.responses(f"{key}-yes")),
        what=f"the undo started: {[text_of(r) for r in bot.responses(key + '-yes')]}",
    )
    run_poller(bot, clock)
    return preview
