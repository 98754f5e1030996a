"""Workspace A never reaches B's account, connection, tokens, audit log or activities."""

from __future__ import annotations

from bot.cc.client import AccountClient
from bot.store import NewActivity
from tests.support.harness import Harness


def client(h: Harness, workspace_id: str) -> AccountClient:
    found = h.accounts.client_for(workspace_id)
    assert found is not None
    return found


def connect_two_accounts(h: Harness) -> None:
    h.sandbox.state.add_account("acme", "Acme Corp", contacts=3)
    h.connect("T0A", "UA")
    h.clock.advance(2)
    h.connect("T0B", "UB", account="acme")


def test_each_workspace_acts_on_its_own_account_only(h: Harness) -> None:
    connect_two_accounts(h)

    client(h, "T0A").create_tag("Only in A")

    names_a = {t.name for t in client(h, "T0A").list_tags()}
    names_b = {t.name for t in client(h, "T0B").list_tags()}
    assert "Only in A" in names_a and "Only in A" not in names_b
    assert "Only in A" in {t.name for t in h.sandbox.state.account("demo").tags.values()}
    assert "Only in A" not in {t.name for t in h.sandbox.state.account("acme").tags.values()}


def test_connections_and_tokens_are_kept_per_workspace(h: Harness) -> None:
    connect_two_accounts(h)
    a, b = h.connections.get("T0A"), h.connections.get("T0B")
    assert a is not None and b is not None
    assert (a.account_name, b.account_name) == ("Sandbox Demo Account", "Acme Corp")
    assert h.cipher.decrypt(a.access_token_enc) != h.cipher.decrypt(b.access_token_enc)

    h.flow.disconnect("T0A", "UA")

    assert h.accounts.client_for("T0A") is None
    assert client(h, "T0B").list_tags()


def test_a_link_issued_in_one_workspace_connects_only_that_workspace(h: Harness) -> None:
    link_for_a = h.flow.start_connect("T0A", "UA")
    h.callback(h.authorize(link_for_a, account="demo"))

    assert h.accounts.client_for("T0A") is not None
    assert h.accounts.client_for("T0B") is None


def test_audit_logs_and_activities_are_per_workspace(h: Harness) -> None:
    connect_two_accounts(h)
    for workspace in ("T0A", "T0B"):
        h.store.track_activity(
            NewActivity(
                workspace_id=workspace,
                channel_id="C1",
                parent_ts="1.1",
                requester_id="U1",
                kind="add_tags",
                summary=f"activity of {workspace}",
                activity_id=f"act-{workspace}",
                state="initialized",
            )
        )

    assert {e.workspace_id for e in h.store.audit_log("T0A")} == {"T0A"}
    assert {e.user_id for e in h.store.audit_log("T0B")} == {"UB"}
    assert [a.activity_id for a in h.store.recent_activities("T0A")] == ["act-T0A"]
