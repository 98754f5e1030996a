"""The App Home view, published to the fake Slack (which validates Block Kit like Slack)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.cc.budget import BudgetView
from bot.connect import ConnectionInfo
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.home import home_view

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Activity:
    activity_id: str
    summary: str
    state: str
    percent_done: int | None
    created_at: datetime


def publish(view: dict[str, object]) -> str:
    slack = FakeSlackServer()
    with slack:
        WebClient(token="xoxb", base_url=slack.api_url).views_publish(user_id="U1", view=view)
        return json.dumps(slack.fake.views["HOME-U1"])


def action_ids(view: dict[str, object]) -> set[str]:
    text = json.dumps(view)
    return {
        a
        for a in (
            "home_create",
            "home_add",
            "home_remove",
            "home_delete",
            "home_lists",
            "home_connect",
        )
        if f'"{a}"' in text
    }


def test_a_connected_workspace_sees_its_account_budget_activities_and_actions() -> None:
    info = ConnectionInfo("Acme <Corp>", "U42", WHEN)
    activities = [
        Activity("a1", "Add VIP to 12 contacts", "processing", 40, WHEN),
        Activity("a2", "Delete tag Old", "completed", 100, WHEN),
    ]

    view = home_view(info, 2_500, 10_000, activities)
    published = publish(view)

    assert "Acme &lt;Corp&gt;" in published and "<@U42>" in published
    assert "2,500 of 10,000 (25%)" in published
    assert "*processing* 40%" in published and "Add VIP to 12 contacts" in published
    assert "*completed*" in published and "`a2`" in published
    assert action_ids(view) == {
        "home_create",
        "home_add",
        "home_remove",
        "home_delete",
        "home_lists",
        "home_connect",
    }


def test_a_workspace_not_connected_is_offered_to_connect_only() -> None:
    view = home_view(None, 0, 10_000, [])
    published = publish(view)

    assert "not connected" in published
    assert "No activities yet." in published
    assert action_ids(view) == {"home_connect"}


def test_the_home_shows_the_workspaces_share_of_the_budget() -> None:
    budget = BudgetView(
        workspace_calls=120,
        workspace_background=100,
        workspace_share=4_000,
        workspaces_wanting=2,
        key_calls=2_500,
        key_left=7_500,
        people_kept=1_900,
        reset_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    view = home_view(None, 2_500, 10_000, [], budget=budget, now=WHEN)
    published = publish(view)
    assert "This workspace: *120 calls* today (100 of them background work)" in published
    assert "*4,000* (shared with 1 other workspace wanting calls); *3,900* left" in published
    assert "*7,500* of its 10,000 calls left, 1,900 of them kept for people" in published
    assert "resets at *00:00 UTC*, in 12 h 00 min" in published
