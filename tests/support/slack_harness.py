"""A bolt App installed over OAuth on our database, served over HTTP, against the fake Slack.

Shared by tests/connect and tests/security: `/cctag` answers which workspace asked, so a test
can tell which installation authorized a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.fernet import Fernet
from slack_bolt import Ack, App, BoltContext
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.clock import FakeClock
from bot.connect import InstalledSlackClients, oauth_settings, slack_install_routes
from bot.crypto import TokenCipher
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.devkit.threaded_server import ThreadedServer, free_port
from bot.settings import load_settings
from bot.store import Store

SIGNING_SECRET = "test-signing-secret-0123456789"
CLIENT_ID = "111.222"


@dataclass
class SlackHarness:
    slack: FakeSlackServer
    store: Store
    app: App
    server: ThreadedServer
    clients: InstalledSlackClients
    seen_teams: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def install(
        self, team_id: str, bot_token: str, user_token: str | None = None
    ) -> httpx.Response:
        """The whole browser round trip: /slack/install, Slack's consent, /slack/oauth_redirect."""
        started = httpx.get(self.url + "/slack/install", follow_redirects=False)
        assert started.status_code == 302, started.text
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        code = f"code-{team_id}"
        self.slack.fake.oauth_grants[code] = oauth_grant(team_id, bot_token, user_token)
        cookie = started.headers["set-cookie"].split(";")[0]
        return self.redirect(code, state, cookie)

    def redirect(self, code: str, state: str, cookie: str) -> httpx.Response:
        return httpx.get(
            self.url + "/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": cookie},
        )

    def command(
        self,
        team_id: str,
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        body = urlencode(
            {
                "command": "/cctag",
                "text": "help",
                "team_id": team_id,
                "user_id": "U0A",
                "channel_id": "C0A",
                "response_url": self.slack.response_url("r"),
                "trigger_id": "t",
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers |= signature_headers(body, secret, timestamp or int(time.time()))
        return httpx.post(self.url + "/slack/events", content=body, headers=headers)


def signature_headers(body: str, secret: str, timestamp: int) -> dict[str, str]:
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def oauth_grant(team_id: str, bot_token: str, user_token: str | None) -> dict[str, Any]:
    authed_user: dict[str, Any] = {"id": f"U{team_id}"}
    if user_token:
        authed_user |= {"access_token": user_token, "scope": "users:read", "token_type": "user"}
    return {
        "app_id": "A0CCTAG",
        "authed_user": authed_user,
        "scope": "commands,chat:write",
        "token_type": "bot",
        "access_token": bot_token,
        "bot_user_id": f"UB{team_id}",
        "team": {"id": team_id, "name": f"Team {team_id}"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def build_app(slack: FakeSlackServer, store: Store, cipher: TokenCipher, public_url: str) -> App:
    settings = load_settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret="client-secret",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        cctag_public_url=public_url,
    )
    return App(
        signing_secret=SIGNING_SECRET,
        oauth_settings=oauth_settings(settings, store.engine, cipher, store.clock),
        client=WebClient(base_url=slack.api_url),
    )


@contextmanager
def slack_harness(database_url: str) -> Iterator[SlackHarness]:
    store = Store(database_url, clock=FakeClock())
    store.upgrade()
    cipher = TokenCipher(Fernet.generate_key().decode())
    port = free_port()
    slack = FakeSlackServer()
    with slack:
        app = build_app(slack, store, cipher, f"http://127.0.0.1:{port}")
        seen: list[str] = []

        @app.command("/cctag")
        def cctag(ack: Ack, context: BoltContext) -> None:
            seen.append(str(context.team_id))
            ack(json.dumps({"team": context.team_id}))

        handler = SlackRequestHandler(app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

        routes = [*slack_install_routes(app), Route("/slack/events", events, methods=["POST"])]
        server = ThreadedServer(Starlette(routes=routes), port=port)
        store_ = app.oauth_flow.settings.installation_store if app.oauth_flow else None
        assert store_ is not None
        clients = InstalledSlackClients(store_, slack.api_url)
        with server:
            try:
                yield SlackHarness(slack, store, app, server, clients, seen)
            finally:
                store.close()
