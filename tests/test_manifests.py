"""The manifests can be pasted into Slack as they are: same command, scopes and URLs everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
        "groups:history",
        "usergroups:read",
        "users:read",
    ]
