"""The documented limits are enforced by the request models, before any call."""

from __future__ import annotations

import pytest

from bot.cc.models import (
    Activity,
    LimitError,
    ListMembershipRequest,
    TagCreate,
    TagDeleteRequest,
    TaggingRequest,
    build,
)


def tagging(source: dict[str, object], **extra: object) -> dict[str, object]:
    return {"source": source, "tag_ids": ["t1"], **extra}


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "a<b", "a>b"])
def test_bad_tag_names_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(LimitError) as caught:
        build(TagCreate, {"name": name})
    assert str(caught.value)


def test_tag_name_over_the_limit_says_by_how_much() -> None:
    with pytest.raises(LimitError, match="257 characters, 2 over the limit of 255"):
        build(TagCreate, {"name": "y" * 257})


def test_tag_name_of_255_characters_is_fine_and_trimmed() -> None:
    assert build(TagCreate, {"name": " " + "z" * 255 + " "}).name == "z" * 255


def test_one_source_at_a_time() -> None:
    with pytest.raises(LimitError, match=r"exactly one source.*got list_ids, tag_ids"):
        build(TaggingRequest, tagging({"list_ids": ["l"], "tag_ids": ["t"]}))
    with pytest.raises(LimitError, match="got none"):
        build(TaggingRequest, tagging({}))


def test_false_flags_do_not_count_as_a_source() -> None:
    request = build(TaggingRequest, tagging({"all_active_contacts": False, "list_ids": ["l"]}))
    assert request.source.chosen() == ["list_ids"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"contact_ids": [f"c{i}" for i in range(501)]}, "501 contacts is 1 over the limit of 500"),
        ({"list_ids": [f"l{i}" for i in range(52)]}, "52 source lists is 2 over the limit of 50"),
        ({"tag_ids": [f"t{i}" for i in range(51)]}, "51 source tags is 1 over the limit of 50"),
    ],
)
def test_source_limits(source: dict[str, object], message: str) -> None:
    with pytest.raises(LimitError, match=message):
        build(TaggingRequest, tagging(source))


def test_exclude_only_with_all_active_contacts_or_lists() -> None:
    exclude = {"contact_ids": ["c1"]}
    build(TaggingRequest, tagging({"all_active_contacts": True}, exclude=exclude))
    build(TaggingRequest, tagging({"list_ids": ["l"]}, exclude=exclude))
    refused: list[dict[str, object]] = [
        {"tag_ids": ["t"]},
        {"contact_ids": ["c"]},
        {"new_subscriber": True},
    ]
    for source in refused:
        with pytest.raises(LimitError, match="Excluding contacts only works"):
            build(TaggingRequest, tagging(source, exclude=exclude))


def test_tags_to_delete_limit() -> None:
    build(TagDeleteRequest, {"tag_ids": [str(i) for i in range(500)]})
    with pytest.raises(LimitError, match="501 tags to delete is 1 over the limit of 500"):
        build(TagDeleteRequest, {"tag_ids": [str(i) for i in range(501)]})


def test_list_membership_limits_and_sources() -> None:
    ok = build(
        ListMembershipRequest,
        {"source": {"engagement_level": "high"}, "list_ids": ["l1"]},
    )
    assert ok.model_dump(mode="json", exclude_none=True) == {
        "source": {"engagement_level": "high"},
        "list_ids": ["l1"],
    }
    with pytest.raises(LimitError, match="51 lists is 1 over the limit of 50"):
        build(
            ListMembershipRequest,
            {"source": {"segment_id": 3}, "list_ids": [f"l{i}" for i in range(51)]},
        )


def test_booleans_are_sent_as_json_booleans_not_strings() -> None:
    # The seed documents show "all_active_contacts": "true"; the schema says boolean.
    body = build(TaggingRequest, tagging({"all_active_contacts": True})).model_dump(
        mode="json", exclude_none=True
    )
    assert body["source"] == {"all_active_contacts": True}


def test_activity_errors_become_strings_for_both_shapes() -> None:
    tagging_activity = Activity.model_validate(
        {"activity_id": "a", "state": "failed", "activity_errors": ["bad tag"]}
    )
    generic = Activity.model_validate(
        {"activity_id": "b", "state": "failed", "activity_errors": [{"message": "gone"}]}
    )
    assert tagging_activity.activity_errors == ["bad tag"]
    assert generic.activity_errors == ["gone"]
    assert generic.is_terminal and not Activity(activity_id="c", state="processing").is_terminal
