"""Every documented limit raises LimitError with a readable message, and sends nothing.

The requests are built past their own validation (`model_construct`, as a caller holding an
old or hand-made request could): the client validates again before any call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.cc.client import AccountClient
from bot.cc.errors import BadRequest
from bot.cc.models import (
    ContactIdsExclude,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    ListRemoveSource,
    TaggingRequest,
    TaggingSource,
    build,
)
from bot.devkit.sandbox.server import SandboxServer
from tests.support.cc import Rig, no_http


def ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


def tagging(
    tag_ids: list[str] | None = None,
    exclude: list[str] | None = None,
    **source: Any,
) -> TaggingRequest:
    return TaggingRequest.model_construct(
        source=TaggingSource.model_construct(**source),
        exclude=None if exclude is None else ContactIdsExclude.model_construct(contact_ids=exclude),
        tag_ids=["t1"] if tag_ids is None else tag_ids,
    )


def listing(
    list_ids: list[str] | None = None,
    exclude: list[str] | None = None,
    remove: bool = False,
    **source: Any,
) -> ListMembershipRequest:
    model = ListRemoveSource if remove else ListAddSource
    return ListMembershipRequest.model_construct(
        source=model.model_construct(**source),
        exclude=None if exclude is None else ContactIdsExclude.model_construct(contact_ids=exclude),
        list_ids=["l1"] if list_ids is None else list_ids,
    )


Call = Callable[[AccountClient], object]

CASES: list[tuple[str, Call, str]] = [
    ("empty tag name", lambda cc: cc.create_tag("   "), "at least one character"),
    (
        "tag name too long",
        lambda cc: cc.create_tag("x" * 256),
        "The tag name is 256 characters, 1 over the limit of 255",
    ),
    ("tag name with <", lambda cc: cc.create_tag("a<b"), "A tag name cannot contain <"),
    ("rename with >", lambda cc: cc.rename_tag("t1", "a>b"), "A tag name cannot contain >"),
    ("rename to nothing", lambda cc: cc.rename_tag("t1", ""), "at least one character"),
    (
        "rename too long",
        lambda cc: cc.rename_tag("t1", "y" * 300),
        "The tag name is 300 characters, 45 over the limit of 255",
    ),
    (
        "501 contacts to tag",
        lambda cc: cc.add_tags(tagging(contact_ids=ids("c", 501))),
        "501 contacts is 1 over the limit of 500",
    ),
    (
        "51 tags at once",
        lambda cc: cc.add_tags(tagging(tag_ids=ids("t", 51), all_active_contacts=True)),
        "51 tags is 1 over the limit of 50",
    ),
    (
        "no tag",
        lambda cc: cc.remove_tags(tagging(tag_ids=[], all_active_contacts=True)),
        "Name at least one tag",
    ),
    (
        "51 source lists",
        lambda cc: cc.remove_tags(tagging(list_ids=ids("l", 51))),
        "51 source lists is 1 over the limit of 50",
    ),
    (
        "51 source tags",
        lambda cc: cc.add_tags(
            TaggingRequest.model_construct(
                source=TaggingSource.model_construct(tag_ids=ids("s", 51)), tag_ids=["t1"]
            )
        ),
        "51 source tags is 1 over the limit of 50",
    ),
    (
        "two sources",
        lambda cc: cc.add_tags(tagging(contact_ids=["c1"], all_active_contacts=True)),
        "Choose exactly one source of contacts .*got contact_ids, all_active_contacts",
    ),
    ("no source", lambda cc: cc.add_tags(tagging()), "Choose exactly one source .*got none"),
    (
        "exclude with contact ids",
        lambda cc: cc.add_tags(tagging(exclude=["c2"], contact_ids=["c1"])),
        "Excluding contacts only works with all active contacts or lists as the source",
    ),
    (
        "exclude with tags",
        lambda cc: cc.add_to_lists(listing(exclude=["c2"], tag_ids=["t1"])),
        "Excluding contacts only works with all active contacts or lists",
    ),
    (
        "exclude with a segment",
        lambda cc: cc.add_to_lists(listing(exclude=["c2"], segment_id=1)),
        "Excluding contacts only works with all active contacts or lists",
    ),
    (
        "501 contacts to exclude",
        lambda cc: cc.add_tags(tagging(exclude=ids("c", 501), all_active_contacts=True)),
        "501 contacts to exclude is 1 over the limit of 500",
    ),
    (
        "51 target lists",
        lambda cc: cc.add_to_lists(listing(list_ids=ids("l", 51), contact_ids=["c1"])),
        "51 lists is 1 over the limit of 50",
    ),
    (
        "no target list",
        lambda cc: cc.remove_from_lists(listing(list_ids=[], remove=True, contact_ids=["c1"])),
        "Name at least one list",
    ),
    (
        "501 contacts to remove from lists",
        lambda cc: cc.remove_from_lists(listing(remove=True, contact_ids=ids("c", 501))),
        "501 contacts is 1 over the limit of 500",
    ),
    (
        "51 source tags to remove from lists",
        lambda cc: cc.remove_from_lists(listing(remove=True, tag_ids=ids("t", 51))),
        "51 source tags is 1 over the limit of 50",
    ),
    (
        "segment as removal source",
        lambda cc: cc.remove_from_lists(listing(segment_id=1)),
        "A segment cannot be the source for removing contacts from lists",
    ),
    (
        "segment as removal source, validated",
        lambda cc: cc.remove_from_lists(
            build(ListMembershipRequest, {"source": {"segment_id": 1}, "list_ids": ["l1"]})
        ),
        "A segment cannot be the source for removing contacts from lists",
    ),
    (
        "501 tags to delete",
        lambda cc: cc.delete_tags(ids("t", 501)),
        "501 tags to delete is 1 over the limit of 500",
    ),
    ("no tag to delete", lambda cc: cc.delete_tags([]), "Name at least one tag to delete"),
    (
        "26 lists to count",
        lambda cc: cc.count_contacts(list_ids=ids("l", 26)),
        "Asking for contacts takes at most 25 lists at once; 26 is 1 over",
    ),
    (
        "51 tags to count",
        lambda cc: cc.count_contacts(tag_ids=ids("t", 51)),
        "Asking for contacts takes at most 50 tags at once; 51 is 1 over",
    ),
    ("no activities", lambda cc: cc.list_activities(limit=0), "A page holds 1 to 500 items, not 0"),
    (
        "501 activities",
        lambda cc: cc.list_activities(limit=501),
        "A page holds 1 to 500 items, not 501",
    ),
    (
        "tag page of 501",
        lambda cc: list(cc.iter_tags(page_size=501)),
        "A page holds 1 to 500 items, not 501",
    ),
    ("list page of 0", lambda cc: list(cc.iter_lists(page_size=0)), "not 0"),
    (
        "list page of 1001",
        lambda cc: list(cc.iter_lists(page_size=1001)),
        "A page holds 1 to 1000 items, not 1001",
    ),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_limit_is_refused_before_any_call(
    rig: Rig, sb: SandboxServer, call: Call, message: str
) -> None:
    with no_http(sb), pytest.raises(LimitError, match=message) as caught:
        call(rig.cc)
    assert rig.limiter.calls_today == 0  # not even a slot of the rate limit was taken
    text = str(caught.value)
    assert text[0].isupper() or text[0].isdigit(), text
    assert "validation error" not in text.lower() and "pydantic" not in text.lower(), text


def test_the_edges_themselves_are_allowed(cc: AccountClient) -> None:
    """Exactly at the limits the client sends (the sandbox then judges the unknown ids)."""
    for call in (
        lambda: cc.add_tags(tagging(contact_ids=ids("c", 500))),
        lambda: cc.add_tags(tagging(tag_ids=ids("t", 50), all_active_contacts=True)),
        lambda: cc.add_to_lists(listing(list_ids=ids("l", 50), contact_ids=["c1"])),
        lambda: cc.delete_tags(ids("t", 500)),
    ):
        with pytest.raises(BadRequest, match=r"^Unknown "):
            call()
    assert cc.count_contacts(list_ids=ids("l", 25), tag_ids=ids("t", 50)) == 0
    assert cc.create_tag("y" * 255).name == "y" * 255
