"""Tokens stay secret: encrypted at rest, never logged, never in a message, page or error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.support.harness import Harness, harness
from tests.support.slack_harness import SlackHarness, slack_harness

DAY = 86_400


def every_secret(h: Harness) -> set[str]:
    """Every token either side issued in this test, read from the sandbox and the grants."""
    sandbox_tokens = {*h.sandbox.state.refresh_tokens} | {
        token for token in h.sandbox.state.tokens if token != h.sandbox.access_token
    }
    return sandbox_tokens | {"xoxb-secret-bot-token", "xoxp-secret-user-token"}


def run_everything(h: Harness, sh: SlackHarness) -> tuple[list[str], str]:
    """Install, connect, use, refresh, reconnect, disconnect: everything that touches tokens."""
    texts: list[str] = []
    texts.append(sh.install("T0A", "xoxb-secret-bot-token", "xoxp-secret-user-token").text)
    link = h.flow.start_connect("T0A", "U0A")
    query = h.authorize(link)
    texts.append(h.callback(query).text)
    texts.append(h.callback(query).text)  # replayed
    client = h.accounts.client_for("T0A")
    assert client is not None
    client.list_tags()
    h.clock.advance(DAY)
    client.list_tags()  # refreshed
    texts.append(sh.command("T0A").text)
    return texts, query["state"]


def test_no_token_is_stored_logged_or_shown_in_clear(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_file = tmp_path / "cctag.db"
    url = f"sqlite:///{db_file}"
    clock = FakeClock()
    # Our code at DEBUG, libraries at INFO: slack_sdk logs whole API answers (oauth.v2.access
    # included, tokens and all) at DEBUG, so production must not run slack_sdk at DEBUG.
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)
    with (
        SandboxServer(activity_seconds=0.3, rate_per_second=50.0, clock=clock) as sandbox,
        harness(sandbox, url, clock) as h,
        slack_harness(url) as sh,
    ):
        texts, state = run_everything(h, sh)
        secrets = every_secret(h)
        stored = h.connections.get("T0A")
        assert stored is not None
        with h.store.engine.connect() as db:
            states = db.execute(sa.text("select state_hash from cc_oauth_state")).scalars().all()

    assert len(secrets) >= 5
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("cctag.db*"))
    for secret in secrets:
        assert secret.encode() not in raw, "a token is stored in clear"
        assert secret not in caplog.text, "a token was logged"
        assert all(secret not in text for text in texts), "a token was shown"
    # The state is kept as its SHA-256 only. (It does appear in URLs, hence in proxies' logs:
    # it is spent on first use, so a logged one is worth nothing.)
    assert state.encode() not in raw
    assert all(len(digest) == 64 for digest in states)
