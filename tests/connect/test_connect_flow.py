"""Connecting Constant Contact: the PKCE code flow end to end over HTTP, on both databases."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from bot.connect import ConnectOutcome
from tests.support.harness import Harness

WS, USER = "T0A", "U0A"


def test_the_link_starts_a_pkce_code_flow_with_the_four_scopes(h: Harness) -> None:
    link = h.flow.start_connect(WS, USER)

    assert link.startswith(h.sandbox.auth_url + "/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["scope"].split() == [
        "contact_data",
        "campaign_data",
        "offline_access",
        "account_read",
    ]
    assert query["redirect_uri"] == h.callback_url + "/cc/oauth/callback"
    assert len(query["state"]) >= 40


def test_each_link_has_its_own_state(h: Harness) -> None:
    first = parse_qs(urlsplit(h.flow.start_connect(WS, USER)).query)["state"]
    second = parse_qs(urlsplit(h.flow.start_connect(WS, USER)).query)["state"]
    assert first != second


def test_connecting_stores_the_account_and_answers_its_client(h: Harness) -> None:
    assert h.accounts.client_for(WS) is None

    response = h.callback(h.authorize(h.flow.start_connect(WS, USER)))

    assert response.status_code == 200
    assert "Sandbox Demo Account" in response.text
    assert "is now connected" in response.text
    client = h.accounts.client_for(WS)
    assert client is not None
    assert {tag.name for tag in client.list_tags()} >= {"VIP", "Volunteer"}
    info = h.flow.connection_info(WS)
    assert info is not None
    assert (info.account_name, info.connected_by, info.connected_at) == (
        "Sandbox Demo Account",
        USER,
        h.clock.now(),
    )
    actions = [(e.action, e.outcome, e.user_id) for e in h.store.audit_log(WS)]
    assert ("connect", "connected", USER) in actions
    assert ("connect_started", "link issued", USER) in actions


def test_a_workspace_that_is_not_connected_has_no_account(h: Harness) -> None:
    h.connect(WS, USER)
    assert h.accounts.client_for("T0OTHER") is None
    assert h.flow.connection_info("T0OTHER") is None


def test_declining_on_constant_contacts_page_connects_nothing(h: Harness) -> None:
    query = h.authorize(h.flow.start_connect(WS, USER))
    denied = {"state": query["state"], "error": "access_denied", "error_description": "no"}

    response = h.callback(denied)

    assert response.status_code == 200
    assert "You declined access" in response.text
    assert h.accounts.client_for(WS) is None
    assert ("connect", "refused") in [(e.action, e.outcome) for e in h.store.audit_log(WS)]


def test_an_expired_link_connects_nothing(h: Harness) -> None:
    query = h.authorize(h.flow.start_connect(WS, USER))
    h.clock.advance(11 * 60)

    response = h.callback(query)

    assert response.status_code == 400
    assert "expired or was not issued by cctag" in response.text
    assert h.accounts.client_for(WS) is None


def test_a_state_we_never_issued_connects_nothing(h: Harness) -> None:
    h.flow.start_connect(WS, USER)
    query = h.authorize(h.flow.start_connect(WS, USER))

    response = h.callback({"code": query["code"], "state": "forged-" + query["state"]})

    assert response.status_code == 400
    assert h.accounts.client_for(WS) is None
    assert h.flow.finish_connect("code", None).outcome is ConnectOutcome.INVALID_STATE


def test_a_replayed_callback_changes_nothing(h: Harness) -> None:
    query = h.authorize(h.flow.start_connect(WS, USER))
    assert h.callback(query).status_code == 200
    before = h.connections.get(WS)

    replay = h.callback(query)

    assert replay.status_code == 409
    assert "already used" in replay.text
    assert h.connections.get(WS) == before


def test_a_code_with_another_links_verifier_is_refused(h: Harness) -> None:
    """A code injected into another link's callback fails PKCE: its verifier does not match."""
    victim_query = h.authorize(h.flow.start_connect(WS, USER))
    attacker_link_state = h.authorize(h.flow.start_connect(WS, "UATTACKER"))["state"]

    response = h.callback({"code": victim_query["code"], "state": attacker_link_state})

    assert response.status_code == 502
    assert "refused or had expired" in response.text
    assert h.accounts.client_for(WS) is None


def test_disconnecting_forgets_the_tokens(h: Harness) -> None:
    h.connect(WS, USER)

    assert h.flow.disconnect(WS, USER) is True

    assert h.accounts.client_for(WS) is None
    assert h.connections.get(WS) is None
    assert h.flow.disconnect(WS, USER) is False
    outcomes = [(e.action, e.outcome) for e in h.store.audit_log(WS)]
    assert ("disconnect", "disconnected") in outcomes


def test_reconnecting_replaces_the_account(h: Harness) -> None:
    h.sandbox.state.add_account("acme", "Acme Corp", contacts=3)
    h.connect(WS, USER)
    h.connect(WS, "U0B", account="acme")

    info = h.flow.connection_info(WS)
    assert info is not None
    assert (info.account_name, info.connected_by) == ("Acme Corp", "U0B")


def test_the_callback_page_is_never_cached_nor_referred(h: Harness) -> None:
    response = httpx.get(h.callback_url + "/cc/oauth/callback", params={"state": "x"})
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-type"].startswith("text/html")
