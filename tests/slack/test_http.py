"""The web app: signatures, health, and acks that never wait for Constant Contact."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from slack_bolt import App

from bot.devkit.local_slack import signed_headers
from bot.devkit.threaded_server import ThreadedServer
from bot.store import Store
from bot.web import create_web_app
from tests.support.slack import SECRET, Bot, text_of, wait_for


def test_unsigned_forged_and_stale_requests_are_refused(bot: Bot) -> None:
    body = bot.local.command_body("help", user="U0001", channel="C0001", key="sig")
    url = bot.local.url
    unsigned = httpx.post(
        url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    forged_headers = signed_headers("not-the-secret", body)
    forged = httpx.post(url, content=body, headers=forged_headers)
    stale = bot.local.post(body, timestamp=int(time.time()) - 10 * 60)
    tampered_headers = signed_headers(SECRET, body)
    tampered = httpx.post(url, content=body.replace("help", "tags"), headers=tampered_headers)
    assert [r.status_code for r in (unsigned, forged, stale, tampered)] == [401] * 4
    assert bot.responses("sig") == []
    assert bot.local.post(body).status_code == 200


def test_healthz(bot: Bot, tmp_path: Path) -> None:
    assert httpx.get(f"{bot.web.url}/healthz").status_code == 200
    broken = Store(f"sqlite:///{tmp_path}/missing/dir/x.db")
    with ThreadedServer(create_web_app(bot_app_of(bot), broken)) as web:
        assert httpx.get(f"{web.url}/healthz").status_code == 503


def bot_app_of(bot: Bot) -> App:
    return App(signing_secret=SECRET, token="xoxb-x", token_verification_enabled=False)


def test_command_is_acked_before_slow_constant_contact(bot: Bot) -> None:
    bot.sandbox.faults.delay(2.0, path="/contact_tags", method="GET")
    started = time.monotonic()
    answer = bot.local.command("tags", key="slow")
    assert answer.status_code == 200
    assert time.monotonic() - started < 1.0
    assert "VIP" in text_of(bot.wait_response("slow"))


def test_view_submission_is_acked_before_slow_look_ups(bot: Bot) -> None:
    view_answer = bot.local.command("add", key="slow-open")
    assert view_answer.status_code == 200
    view = wait_for(lambda: list(bot.fake.views.values()), what="modal")[-1]
    tag = bot.account.find_tag_by_name("VIP")
    listed = bot.account.find_list_by_name("Newsletter")
    assert tag and listed
    bot.sandbox.faults.delay(2.0, path="/contacts", method="GET")
    started = time.monotonic()
    answer = bot.local.submit(
        view, {"targets": [(tag.tag_id, "VIP")], "source_lists": [(listed.list_id, "Newsletter")]}
    )
    assert time.monotonic() - started < 1.0
    assert answer.json()["response_action"] == "update"
    wait_for(lambda: "Started" in text_of(bot.view(view["id"])), timeout=15, what="started")


def test_home_tab_shows_help(bot: Bot) -> None:
    payload = {
        "type": "event_callback",
        "team_id": "T0001",
        "api_app_id": "A0001",
        "event": {"type": "app_home_opened", "user": "U0001", "tab": "home", "channel": "D1"},
        "event_id": "Ev1",
        "event_time": int(time.time()),
    }
    import json

    body = json.dumps(payload)
    headers = {**signed_headers(SECRET, body), "Content-Type": "application/json"}
    assert httpx.post(bot.local.url, content=body, headers=headers).status_code == 200
    home = wait_for(lambda: bot.fake.views.get("HOME-U0001"), what="home")
    assert home is not None and "/cctag add" in text_of(home)


def test_socket_mode_serves_the_web_routes_but_no_http_door_to_the_listeners(
    tmp_path: Path,
) -> None:
    from bot import wiring
    from bot.settings import Settings

    settings = Settings(
        slack_app_token="xapp-1-test",
        slack_bot_token="xoxb-test",
        cc_client_id="client",
        cc_client_secret="secret",
        cctag_encryption_key="a passphrase of sixteen or more",
        database_url=f"sqlite:///{tmp_path}/socket.db",
    )
    parts = wiring.build_parts(settings)
    web = wiring.build_web_app(parts, wiring.build_bolt_app(parts), slack_events=False)
    with ThreadedServer(web) as served:
        assert httpx.get(f"{served.url}/healthz").status_code == 200
        callback = httpx.get(f"{served.url}/cc/oauth/callback", params={"state": "x"})
        assert callback.status_code != 404  # the connect page answers, in words
        events = httpx.post(f"{served.url}/slack/events", content=b"token=x")
        assert events.status_code == 404
