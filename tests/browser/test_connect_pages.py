"""The connect pages in headless Chromium (Debian's package), following real redirects.

Skips with a reason when chromium is absent, except under CI (which installs it): there it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.support.harness import Harness, harness

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@dataclass
class Dom(HTMLParser):
    """What the tests look at in Chromium's rendered DOM."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    _open: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.texts.setdefault(self._open[-1], []).append(data.strip())

    def first(self, tag: str) -> dict[str, str]:
        return next(attrs for name, attrs in self.tags if name == tag)

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.tags if name == tag)

    def text(self, tag: str) -> str:
        return " ".join(self.texts.get(tag, []))


def render(url: str, profile: Path) -> Dom:
    completed = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    dom = Dom()
    dom.feed(completed.stdout)
    return dom


def assert_accessible(dom: Dom) -> None:
    assert dom.first("html").get("lang") == "en"
    assert dom.text("title").endswith("- cctag")
    assert dom.count("h1") == 1 and dom.count("main") == 1
    assert dom.count("header") == 1 and dom.count("footer") == 1
    assert dom.count("script") == 0


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    chromium()
    clock = FakeClock()
    with (
        SandboxServer(activity_seconds=0.3, rate_per_second=50.0, clock=clock) as sandbox,
        harness(sandbox, f"sqlite:///{tmp_path}/cctag.db", clock) as running,
    ):
        yield running


def callback_url(h: Harness, query: dict[str, str]) -> str:
    return f"{h.callback_url}/cc/oauth/callback?{urlencode(query)}"


def test_following_the_link_connects_and_says_so(h: Harness, tmp_path: Path) -> None:
    dom = render(h.flow.start_connect("T0A", "U0A"), tmp_path / "profile")

    assert_accessible(dom)
    assert dom.first("main")["data-outcome"] == "connected"
    assert dom.text("h1") == "Constant Contact is connected"
    assert "“Sandbox Demo Account” is now connected to the Slack workspace T0A" in dom.text("p")
    assert h.accounts.client_for("T0A") is not None


def test_opening_the_callback_again_says_it_was_used(h: Harness, tmp_path: Path) -> None:
    url = callback_url(h, h.authorize(h.flow.start_connect("T0A", "U0A")))
    assert render(url, tmp_path / "first").first("main")["data-outcome"] == "connected"

    dom = render(url, tmp_path / "again")

    assert_accessible(dom)
    assert dom.first("main")["data-outcome"] == "replayed"
    assert dom.text("h1") == "This connection link was already used"


def test_declining_says_nothing_was_connected(h: Harness, tmp_path: Path) -> None:
    state = h.authorize(h.flow.start_connect("T0A", "U0A"))["state"]
    url = callback_url(h, {"error": "access_denied", "state": state})

    dom = render(url, tmp_path / "profile")

    assert_accessible(dom)
    assert dom.first("main")["data-outcome"] == "denied"
    assert "You declined access" in dom.text("p")
    assert h.accounts.client_for("T0A") is None


def test_a_forged_or_expired_link_says_so(h: Harness, tmp_path: Path) -> None:
    query = h.authorize(h.flow.start_connect("T0A", "U0A"))
    forged = render(callback_url(h, {**query, "state": "forged"}), tmp_path / "forged")
    h.clock.advance(11 * 60)
    expired = render(callback_url(h, query), tmp_path / "expired")

    for dom in (forged, expired):
        assert_accessible(dom)
        assert dom.first("main")["data-outcome"] == "invalid_state"
        assert "expired or was not issued by cctag" in dom.text("p")
    assert h.accounts.client_for("T0A") is None
