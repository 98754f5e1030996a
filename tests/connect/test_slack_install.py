"""Installing the Slack app over OAuth in several workspaces, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.connect import BOT_SCOPES, NotInstalled
from tests.support.slack_harness import CLIENT_ID, SlackHarness, oauth_grant, slack_harness


@pytest.fixture
def sh(database_url: str) -> Iterator[SlackHarness]:
    with slack_harness(database_url) as running:
        yield running


def test_install_starts_at_slack_with_the_fewest_scopes(sh: SlackHarness) -> None:
    started = httpx.get(sh.url + "/slack/install", follow_redirects=False)

    assert started.status_code == 302
    location = urlsplit(started.headers["location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://slack.com/oauth/v2/authorize"
    )
    assert query["client_id"] == CLIENT_ID
    assert set(query["scope"].split(",")) == set(BOT_SCOPES)
    assert query["redirect_uri"] == sh.url + "/slack/oauth_redirect"
    assert query["state"] in started.headers["set-cookie"]


def test_several_workspaces_install_and_each_gets_its_own_client(sh: SlackHarness) -> None:
    first = sh.install("T0A", "xoxb-team-a")
    second = sh.install("T0B", "xoxb-team-b")

    assert first.status_code == 200 and "installed in the Slack workspace Team T0A" in first.text
    assert second.status_code == 200
    client_a, client_b = sh.clients.client_for("T0A"), sh.clients.client_for("T0B")
    assert (client_a.token, client_b.token) == ("xoxb-team-a", "xoxb-team-b")
    assert client_a.base_url == sh.slack.api_url
    client_b.chat_postMessage(channel="C1", text="hello")
    assert sh.slack.fake.calls_to("chat.postMessage")[-1].token == "xoxb-team-b"


def test_a_reinstall_answers_the_newest_token(sh: SlackHarness) -> None:
    sh.install("T0A", "xoxb-old")
    sh.store.clock.advance(60)  # type: ignore[attr-defined]
    sh.install("T0A", "xoxb-new")
    assert sh.clients.client_for("T0A").token == "xoxb-new"


def test_requests_of_installed_workspaces_are_authorized_by_their_installation(
    sh: SlackHarness,
) -> None:
    sh.install("T0A", "xoxb-team-a")

    assert sh.command("T0A").json() == {"team": "T0A"}
    assert sh.seen_teams == ["T0A"]


def test_a_workspace_that_never_installed_has_no_client(sh: SlackHarness) -> None:
    sh.install("T0A", "xoxb-team-a")
    with pytest.raises(NotInstalled):
        sh.clients.client_for("T0Z")
    answer = sh.command("T0Z")
    # bolt tells the user the app is not installed there; the listener never runs.
    assert "T0Z" not in answer.text
    assert sh.seen_teams == []


def test_an_install_state_works_once(sh: SlackHarness) -> None:
    started = httpx.get(sh.url + "/slack/install", follow_redirects=False)
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    cookie = started.headers["set-cookie"].split(";")[0]
    sh.slack.fake.oauth_grants["c1"] = oauth_grant("T0A", "xoxb-a", None)
    assert sh.redirect("c1", state, cookie).status_code == 200
    sh.slack.fake.oauth_grants["c2"] = oauth_grant("T0A", "xoxb-evil", None)
    replay = sh.redirect("c2", state, cookie)

    assert replay.status_code == 401  # bolt's answer to a state it does not hold
    assert "cctag was not installed" in replay.text
    assert sh.clients.client_for("T0A").token == "xoxb-a"


def test_a_forged_install_state_is_refused(sh: SlackHarness) -> None:
    sh.slack.fake.oauth_grants["c1"] = {}
    response = sh.redirect("c1", "forged", "slack-app-oauth-state=forged")
    assert response.status_code == 401
    assert "cctag was not installed" in response.text
    with pytest.raises(NotInstalled):
        sh.clients.client_for("T0A")


def test_uninstalling_forgets_the_workspace(sh: SlackHarness) -> None:
    sh.install("T0A", "xoxb-team-a")
    sh.install("T0B", "xoxb-team-b")
    store = sh.app.oauth_flow.settings.installation_store  # type: ignore[union-attr]

    store.delete_all(enterprise_id=None, team_id="T0A")

    with pytest.raises(NotInstalled):
        sh.clients.client_for("T0A")
    assert sh.clients.client_for("T0B").token == "xoxb-team-b"
