"""Who may undo: the person who asked for the change, or an admin; nobody else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.permissions import Permissions, Policy
from bot.ports import SingleSlack
from bot.store import Store
from bot.store.connections import ConnectionRepository
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import active_emails, bot_on, end_with_undo, members


@pytest.fixture
def guarded_bot(tmp_path: Path, clock: FakeClock) -> Iterator[Bot]:
    """UADMIN is the one admin; U0001 asks for the changes."""
    url = f"sqlite:///{tmp_path}/cctag.db"
    policies = Store(url, clock)

    def permissions(client: WebClient) -> Permissions:
        return Permissions(
            ConnectionRepository(policies.engine, clock),
            SingleSlack(client),
            Policy(admin_users=frozenset({"UADMIN"})),
            policies,
            clock,
        )

    yield from bot_on(url, clock, permissions=permissions)
    policies.close()


def test_only_the_requester_or_an_admin_may_undo(guarded_bot: Bot, clock: FakeClock) -> None:
    bot = guarded_bot
    bot.command("create Alumni", "c")
    emails = active_emails(bot, 20)
    bot.command("add Alumni --contacts " + ", ".join(emails), "add")
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("add")), what="start")
    run_poller(bot, clock)
    [parent] = bot.parents()
    _, button = end_with_undo(bot, parent.ts)

    assert bot.local.click(button, key="other", user="UOTHER").status_code == 200
    refused = text_of(bot.wait_response("other"))
    assert "undo a change someone else asked for" in refused, refused
    assert "Confirm" not in refused
    for user in ("UADMIN", "U0001"):
        assert bot.local.click(button, key=user, user=user).status_code == 200
        assert "Confirm to start" in text_of(bot.wait_response(user)), user
    assert len(members(bot, "Alumni")) == 20
