"""A connect harness over real HTTP: the sandbox's OAuth2 server, our callback, a real database.

Shared by tests/connect, tests/security, tests/poller, tests/slack and tests/browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from bot.cc.client import CCApi
from bot.cc.oauth import OAuthClient
from bot.clock import FakeClock
from bot.connect import ConnectedAccounts, ConnectFlow, connect_routes
from bot.crypto import TokenCipher
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from bot.devkit.threaded_server import ThreadedServer, free_port
from bot.store import Store
from bot.store.connections import ConnectionRepository


class Unlimited:
    """A RateLimiter that never waits: these tests are not about the request budget."""

    def acquire(self) -> None:
        return None

    def hold_off(self, seconds: float) -> None:
        return None

    def spent_today(self) -> None:
        return None


@dataclass
class Harness:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    cipher: TokenCipher
    connections: ConnectionRepository
    oauth: OAuthClient
    api: CCApi
    flow: ConnectFlow
    accounts: ConnectedAccounts
    callback_server: ThreadedServer

    @property
    def callback_url(self) -> str:
        return self.callback_server.url

    def authorize(self, link: str, **extra: str) -> dict[str, str]:
        """Follow the link to the sandbox's authorize endpoint: the callback's query it answers."""
        url = link + "".join(f"&{k}={v}" for k, v in extra.items())
        response = httpx.get(url, follow_redirects=False)
        assert response.status_code in (302, 303, 307), response.text
        location = response.headers["location"]
        assert location.startswith(self.flow.redirect_uri)
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def callback(self, query: dict[str, str]) -> httpx.Response:
        return httpx.get(self.callback_url + "/cc/oauth/callback", params=query)

    def connect(self, workspace_id: str, user_id: str, account: str | None = None) -> None:
        link = self.flow.start_connect(workspace_id, user_id)
        extra = {"account": account} if account else {}
        response = self.callback(self.authorize(link, **extra))
        assert response.status_code == 200, response.text


@contextmanager
def harness(sandbox: SandboxServer, database_url: str, clock: FakeClock) -> Iterator[Harness]:
    store = Store(database_url, clock=clock)
    store.upgrade()
    cipher = TokenCipher(Fernet.generate_key().decode())
    connections = ConnectionRepository(store.engine, clock)
    # The client's own limiter gets its own clock, so `clock.sleeps` shows the shared gate's waits.
    oauth = OAuthClient(
        sandbox.auth_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, clock=FakeClock()
    )
    api = CCApi(sandbox.base_url, Unlimited(), clock=clock)
    port = free_port()
    flow = ConnectFlow(
        connections, oauth, api, cipher, clock, f"http://127.0.0.1:{port}", auditor=store
    )
    accounts = ConnectedAccounts(api, connections, oauth, cipher, clock)
    server = ThreadedServer(Starlette(routes=connect_routes(flow)), port=port)
    with server:
        try:
            yield Harness(
                sandbox, store, clock, cipher, connections, oauth, api, flow, accounts, server
            )
        finally:
            api.close()
            store.close()
