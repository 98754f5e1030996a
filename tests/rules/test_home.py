"""The App Home lists the workspace's rules with the same actions as `/cctag rule`: Pause or
Resume, and Delete (asking first), over signed HTTP; each click publishes the Home anew."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.home import RULE_DELETE, RULE_PAUSE, RULE_RESUME
from bot.slack.workspaces import HomeData
from bot.store import Store
from bot.store.rules import RuleStore
from bot.wiring import rules_shown
from tests.support.slack import Bot, bot_over, text_of, wait_for

USER = "U0001"
HOME = f"HOME-{USER}"


@pytest.fixture
def home_bot(tmp_path: object, clock: FakeClock) -> Iterator[Bot]:
    with SandboxServer(activity_seconds=20.0, rate_per_second=1000.0, clock=clock) as sandbox:
        store = Store(f"sqlite:///{tmp_path}/cctag.db", clock)
        store.upgrade()
        home = HomeData(
            connection_info=lambda workspace_id: None,
            calls_today=lambda: 0,
            daily_quota=10_000,
            recent_activities=store.recent_activities,
            rules=lambda workspace_id: rules_shown(store, workspace_id),
        )
        with bot_over(sandbox, store, rate_per_second=1000.0, home=home) as served:
            yield served
        store.close()


def buttons(bot: Bot) -> dict[str, dict[str, object]]:
    found = {}
    for block in bot.fake.views[HOME]["blocks"]:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found[str(element["action_id"])] = element
    return found


def home_after(bot: Bot, calls: int, shows: str) -> str:
    """The Home as published after `calls` publishes, once it shows `shows`."""
    wait_for(lambda: len(bot.fake.calls_to("views.publish")) >= calls, what="the Home published")
    text = json.dumps(bot.fake.views[HOME])
    assert shows in text, text
    return text


def test_the_home_lists_rules_with_pause_resume_and_delete(home_bot: Bot) -> None:
    bot = home_bot
    bot.fake.add_user(USER, tz="America/New_York")
    assert "Rule `1`* made" in text_of(
        bot.command("every weekday at 08:30 add VIP --tags Board Member", "make")
    )
    assert bot.local.home_opened(user=USER).status_code == 200
    home_after(bot, 1, "every weekday at 08:30")
    pause = buttons(bot)[RULE_PAUSE]
    assert pause["value"] == "1" and RULE_RESUME not in buttons(bot)
    assert buttons(bot)[RULE_DELETE]["confirm"]  # Slack asks before a delete

    bot.local.home_click(RULE_PAUSE, user=USER, value="1", block_id="home_rule_1")
    home_after(bot, 2, "paused by")
    assert RuleStore(bot.store).of_workspace("T0001")[0].paused
    assert RULE_RESUME in buttons(bot) and RULE_PAUSE not in buttons(bot)
    said = wait_for(lambda: [v for v in bot.fake.views.values() if "Paused rule" in text_of(v)])
    assert said

    bot.local.home_click(RULE_RESUME, user=USER, value="1", block_id="home_rule_1")
    home_after(bot, 3, "next run")
    assert not RuleStore(bot.store).of_workspace("T0001")[0].paused

    bot.local.home_click(RULE_DELETE, user=USER, value="1", block_id="home_rule_1")
    text = home_after(bot, 4, "Recent activities")
    assert "every weekday" not in text and RuleStore(bot.store).of_workspace("T0001") == []
