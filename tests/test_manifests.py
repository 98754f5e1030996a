"""The manifests can be pasted into Slack as they are: same command, scopes and URLs everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.connect import BOT_SCOPES
from bot.devkit.fakeslack.server import METHOD_SCOPES
from bot.slack.listeners.shortcuts import CALLBACK_ID, SHORTCUT_NAME
from tests.support.slack import Bot, text_of, wait_for

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"


def load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((MANIFESTS / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_http_manifest_points_every_url_at_slack_events() -> None:
    manifest = load("http.yaml")
    (command,) = manifest["features"]["slash_commands"]
    settings = manifest["settings"]
    assert command["command"] == "/cctag"
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        settings["interactivity"]["message_menu_options_url"],
    }
    assert urls == {"https://cctag.example.com/slack/events"}
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://cctag.example.com/slack/oauth_redirect"
    ]
    assert settings["socket_mode_enabled"] is False


def test_socket_mode_manifest_has_no_urls_and_the_same_scopes() -> None:
    http, socket = load("http.yaml"), load("socket-mode.yaml")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
    assert socket["oauth_config"]["scopes"] == http["oauth_config"]["scopes"]
    assert sorted(http["oauth_config"]["scopes"]["bot"]) == [
        "channels:history",
        "chat:write",
        "commands",
        "files:read",
        "groups:history",
        "usergroups:read",
        "users:read",
    ]


def test_the_scopes_are_those_the_install_asks_for_and_the_calls_need() -> None:
    for name in ("http.yaml", "socket-mode.yaml"):
        scopes = load(name)["oauth_config"]["scopes"]["bot"]
        assert sorted(scopes) == sorted(BOT_SCOPES)
        assert set(METHOD_SCOPES.values()) <= set(scopes)  # files.info: files:read


def test_the_message_shortcut_is_declared_once_as_the_code_names_it() -> None:
    for name in ("http.yaml", "socket-mode.yaml"):
        (shortcut,) = load(name)["features"]["shortcuts"]
        assert shortcut["type"] == "message"
        assert shortcut["callback_id"] == CALLBACK_ID and shortcut["name"] == SHORTCUT_NAME


def test_the_app_answers_every_shortcut_the_manifests_declare(bot: Bot) -> None:
    for shortcut in load("http.yaml")["features"]["shortcuts"]:
        message = {"text": "hello ann@example.com"}
        answer = bot.local.message_action(shortcut["callback_id"], message)
        assert answer.status_code == 200
        opened = wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]
        assert "Tags to add" in text_of(opened)
