"""Every documented limit is refused by the client with a readable LimitError, and no request
reaches the API. Requests built with model_construct skip validation, as a careless caller's
would: the client validates them again before sending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.cc.client import AccountClient
from bot.cc.models import (
    ContactIdsExclude,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    TaggingRequest,
    TaggingSource,
)
from tests.cc.conftest import World

ids = [f"id-{n}" for n in range(501)]


def tagging(source: dict[str, Any], tag_ids: list[str], exclude: list[str] | None = None) -> Any:
    return TaggingRequest.model_construct(
        source=TaggingSource.model_construct(**source),
        tag_ids=tag_ids,
        exclude=ContactIdsExclude.model_construct(contact_ids=exclude) if exclude else None,
    )


def membership(source: dict[str, Any], list_ids: list[str]) -> Any:
    return ListMembershipRequest.model_construct(
        source=ListAddSource.model_construct(**source), list_ids=list_ids, exclude=None
    )


Call = Callable[[AccountClient], object]
CASES: list[tuple[str, Call, str]] = [
    ("empty tag name", lambda a: a.create_tag("   "), "at least one character"),
    ("long tag name", lambda a: a.create_tag("x" * 256), "1 over the limit of 255"),
    ("angle brackets", lambda a: a.create_tag("<b>"), "cannot contain < or >"),
    ("rename too long", lambda a: a.rename_tag("t", "y" * 300), "45 over the limit of 255"),
    ("51 tags", lambda a: a.add_tags(tagging({"contact_ids": ["c"]}, ids[:51])), "51 tags"),
    ("no tags", lambda a: a.remove_tags(tagging({"contact_ids": ["c"]}, [])), "at least one tag"),
    (
        "501 contacts",
        lambda a: a.add_tags(tagging({"contact_ids": ids}, ["t"])),
        "501 contacts is 1 over the limit of 500",
    ),
    (
        "51 source lists",
        lambda a: a.add_tags(tagging({"list_ids": ids[:51]}, ["t"])),
        "51 source lists",
    ),
    (
        "51 source tags",
        lambda a: a.add_tags(tagging({"tag_ids": ids[:51]}, ["t"])),
        "51 source tags",
    ),
    (
        "two sources",
        lambda a: a.add_tags(tagging({"contact_ids": ["c"], "list_ids": ["l"]}, ["t"])),
        "exactly one source",
    ),
    ("no source", lambda a: a.add_tags(tagging({}, ["t"])), "exactly one source"),
    (
        "exclude with contacts source",
        lambda a: a.add_tags(tagging({"contact_ids": ["c"]}, ["t"], ["x"])),
        "Excluding contacts only works",
    ),
    (
        "501 excluded",
        lambda a: a.add_tags(tagging({"all_active_contacts": True}, ["t"], ids)),
        "501 contacts to exclude",
    ),
    ("501 tags to delete", lambda a: a.delete_tags(ids), "501 tags to delete"),
    ("no tag to delete", lambda a: a.delete_tags([]), "at least one tag to delete"),
    (
        "51 target lists",
        lambda a: a.add_to_lists(membership({"contact_ids": ["c"]}, ids[:51])),
        "51 lists",
    ),
    (
        "segment to remove",
        lambda a: a.remove_from_lists(membership({"segment_id": 1}, ["l"])),
        "segment cannot be the source",
    ),
    ("activities limit 0", lambda a: a.list_activities(limit=0), "1 to 500"),
    ("activities limit 501", lambda a: a.list_activities(limit=501), "1 to 500"),
    ("tag page 501", lambda a: a.iter_tags(page_size=501), "1 to 500"),
    ("list page 1001", lambda a: a.iter_lists(page_size=1001), "1 to 1000"),
    ("26 lists to count", lambda a: a.count_contacts(list_ids=ids[:26]), "at most 25 lists"),
    ("51 tags to count", lambda a: a.count_contacts(tag_ids=ids[:51]), "at most 50 tags"),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_limits_are_refused_before_any_call(world: World, call: Call, message: str) -> None:
    before = world.requests()
    with pytest.raises(LimitError, match=message):
        call(world.account)
    assert world.requests() == before
    assert world.limiter.calls_today == 0
