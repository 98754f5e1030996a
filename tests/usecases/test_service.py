"""The use cases on their own: plain inputs, the sandbox's account, a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import ListMembershipRequest, TaggingRequest
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.devkit.sandbox.server import SandboxServer
from bot.store import Store
from bot.usecases import (
    Actor,
    Catalog,
    DeleteInput,
    ListsInput,
    Operations,
    Refused,
    Source,
    SourceKind,
    TaggingInput,
    check_limits,
)

ACTOR = Actor("T1", "U1")


@pytest.fixture
def parts(sandbox: SandboxServer, tmp_path: Path) -> Iterator[tuple[Operations, AccountClient]]:
    store = Store(f"sqlite:///{tmp_path}/ops.db")
    store.upgrade()
    api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=40.0))
    yield Operations(store, Catalog()), api.for_account(StaticTokens(sandbox.access_token))
    api.close()
    store.close()


def test_limits_by_field_without_any_call() -> None:
    many = tuple(f"t{i}" for i in range(52))
    # What one activity cannot hold is a job of several, not a refusal.
    assert not check_limits(
        TaggingInput("add", many, Source(SourceKind.LISTS, tuple(f"l{i}" for i in range(51))))
    )
    too_many_excluded = tuple(f"c{i}@example.com" for i in range(501))
    excluded = check_limits(
        TaggingInput("add", ("a",), Source(SourceKind.ALL_ACTIVE), exclude=too_many_excluded)
    )
    assert excluded["exclude"] == "501 contacts to exclude is 1 over the limit of 500"
    gap = check_limits(ListsInput("remove", ("a",), Source(SourceKind.SEGMENT, ("1",))))
    assert "remove_list_memberships has no segment source" in gap["source"]
    exclude = check_limits(
        TaggingInput("add", ("a",), Source(SourceKind.TAGS, ("b",)), exclude=("x@y.z",))
    )
    assert "only works with all active contacts or lists" in exclude["exclude"]
    assert check_limits(DeleteInput(tuple(f"t{i}" for i in range(501))))["targets"].startswith(
        "501 tags to delete is 1 over"
    )


def test_plan_resolves_names_and_counts(parts: tuple[Operations, AccountClient]) -> None:
    ops, client = parts
    plan = ops.plan(
        ACTOR, client, TaggingInput("add", ("vip",), Source(SourceKind.LISTS, ("Newsletter",)))
    )
    assert isinstance(plan.request, TaggingRequest)
    newsletter = client.find_list_by_name("Newsletter")
    assert newsletter is not None
    assert plan.request.source.list_ids == [newsletter.list_id]
    assert plan.contacts == client.count_contacts(list_ids=[newsletter.list_id])
    assert not plan.needs_confirmation


def test_every_unknown_name_is_listed(parts: tuple[Operations, AccountClient]) -> None:
    ops, client = parts
    inp = ListsInput(
        "add",
        ("Newsletter", "Nope"),
        Source(SourceKind.TAGS, ("Ghost",)),
    )
    with pytest.raises(Refused) as refused:
        ops.plan(ACTOR, client, inp)
    assert refused.value.message == "Unknown list: “Nope”; Unknown tag: “Ghost”"
    [entry] = ops.store.audit_log("T1")
    assert entry.outcome.startswith("refused: Unknown list")


def test_all_active_and_delete_need_confirmation(parts: tuple[Operations, AccountClient]) -> None:
    ops, client = parts
    broad = ops.plan(
        ACTOR, client, ListsInput("add", ("Newsletter",), Source(SourceKind.ALL_ACTIVE))
    )
    assert isinstance(broad.request, ListMembershipRequest) and broad.needs_confirmation
    assert broad.contacts == client.count_contacts(status="active")
    delete = ops.plan(ACTOR, client, DeleteInput(("Volunteer", "volunteer")))
    assert delete.needs_confirmation and [n for n, _ in delete.tag_counts] == ["Volunteer"]


def test_start_audits_and_create_explains_conflict(parts: tuple[Operations, AccountClient]) -> None:
    ops, client = parts
    plan = ops.plan(
        ACTOR,
        client,
        TaggingInput("remove", ("VIP",), Source(SourceKind.CONTACTS, ("contact1@example.com",))),
    )
    activity = ops.start_step(ACTOR, client, plan.steps[0], plan.summary)
    assert plan.summary == ("remove tag “VIP” from the contacts “contact1@example.com”")
    assert ops.store.audit_log("T1")[0].outcome == f"started {activity.activity_id}"
    with pytest.raises(Refused, match="“VIP” exists already"):
        ops.create_tag(ACTOR, client, "VIP")
