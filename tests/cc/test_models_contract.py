"""The client's models against the same published contract the sandbox is held to.

What the client sends validates against each operation's body schema; its limits are the
contract's (after the named overrides); and its response models read answers made from the
contract's own definitions and examples.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from bot.cc import models
from bot.cc.models import (
    Activity,
    ActivityPage,
    Contact,
    ContactList,
    ContactListPage,
    ContactPage,
    ListMembershipRequest,
    Tag,
    TagCreate,
    TagDeleteRequest,
    TaggingRequest,
    TagPage,
    TagRename,
    build,
)
from bot.devkit.sandbox.schema import contract
from bot.devkit.sandbox.schema.overrides import lookup

IDS = ["04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", "5bbf758c-d8ce-11e9-8d3a-fa163e56c9b0"]
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def _sent(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """The JSON the client sends for `data`, made the way CCApi.request makes it."""
    return build(model, data).model_dump(mode="json", exclude_none=True, by_alias=True)


def _body_problems(method: str, template: str, body: Any) -> list[str]:
    path = {part[1:-1]: IDS[0] for part in template.split("/") if part.startswith("{")}
    return contract().operation(method, template).request_problems(path, {}, body)


SENT = [
    ("POST", "/contact_tags", TagCreate, {"name": "VIP", "tag_source": "cctag"}),
    ("PUT", "/contact_tags/{tag_id}", TagRename, {"name": "Very important"}),
    ("POST", "/activities/contacts_tags_delete", TagDeleteRequest, {"tag_ids": IDS}),
    *(
        ("POST", f"/activities/contacts_taggings_{verb}", TaggingRequest, body)
        for verb in ("add", "remove")
        for body in (
            {"source": {"contact_ids": IDS}, "tag_ids": IDS},
            {"source": {"list_ids": IDS}, "exclude": {"contact_ids": IDS[:1]}, "tag_ids": IDS},
            {"source": {"tag_ids": IDS}, "tag_ids": IDS[:1]},
            {"source": {"all_active_contacts": True}, "tag_ids": IDS},
            {"source": {"new_subscriber": True}, "tag_ids": IDS},
        )
    ),
    *(
        (
            "POST",
            "/activities/add_list_memberships",
            ListMembershipRequest,
            {**body, "list_ids": IDS},
        )
        for body in (
            {"source": {"segment_id": 14}},
            {"source": {"engagement_level": "high"}},
            {"source": {"tag_ids": IDS}},
            {"source": {"all_active_contacts": True}, "exclude": {"contact_ids": IDS}},
        )
    ),
    *(
        (
            "POST",
            "/activities/remove_list_memberships",
            ListMembershipRequest,
            {**body, "list_ids": IDS},
        )
        for body in (
            {"source": {"contact_ids": IDS}},
            {"source": {"list_ids": IDS}},
            {"source": {"tag_ids": IDS}},
            {"source": {"engagement_level": "low"}},
        )
    ),
]


@pytest.mark.parametrize(("method", "template", "model", "data"), SENT)
def test_what_the_client_sends_keeps_to_the_contract(
    method: str, template: str, model: type[BaseModel], data: dict[str, Any]
) -> None:
    assert _body_problems(method, template, _sent(model, data)) == []


def test_segment_ids_go_out_as_integers() -> None:
    body = _sent(ListMembershipRequest, {"source": {"segment_id": "14"}, "list_ids": IDS})
    assert body["source"]["segment_id"] == 14


DEFINITIONS = "/definitions"
LIMITS = [
    (models.MAX_TAG_NAME, "TagPost/properties/name/maxLength"),
    (models.MAX_TAG_NAME, "TagPut/properties/name/maxLength"),
    (models.MAX_TAGS_PER_TAGGING, "TagAddRemoveContacts/properties/tag_ids/maxItems"),
    (
        models.MAX_CONTACT_IDS,
        "TagAddRemoveContacts/properties/source/properties/contact_ids/maxItems",
    ),
    (
        models.MAX_SOURCE_LIST_IDS,
        "TagAddRemoveContacts/properties/source/properties/list_ids/maxItems",
    ),
    (
        models.MAX_SOURCE_TAG_IDS,
        "TagAddRemoveContacts/properties/source/properties/tag_ids/maxItems",
    ),
    (models.MAX_TAGS_TO_DELETE, "TagIdList500Limit/properties/tag_ids/maxItems"),
    (
        models.MAX_SOURCE_TAG_IDS,
        "ListActivityAddContacts/properties/source/properties/tag_ids/maxItems",
    ),
    (models.MAX_TARGET_LIST_IDS, "ListActivityRemoveContacts/properties/list_ids/maxItems"),
    (
        models.MAX_CONTACT_IDS,
        "ListActivityRemoveContacts/properties/source/properties/contact_ids/maxItems",
    ),
]


@pytest.mark.parametrize(("limit", "where"), LIMITS, ids=[w for _, w in LIMITS])
def test_the_client_limits_are_the_contract_limits(limit: int, where: str) -> None:
    assert lookup(contract().document, f"{DEFINITIONS}/{where}") == limit


# ---------------------------------------------------------------- answers made from the contract


def _example(schema: dict[str, Any]) -> Any:
    """A value of `schema` made from the contract: its examples where they fit their type."""
    if "$ref" in schema:
        return _example(contract().document["definitions"][schema["$ref"].rsplit("/", 1)[1]])
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: _example(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}))]
    given = schema.get("example")
    if isinstance(given, PYTHON_TYPES[kind]) and not (
        kind != "boolean" and isinstance(given, bool)
    ):
        return given
    if schema.get("format") == "date-time":
        return "2016-01-23T13:48:44.108Z"
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True}[kind]


READ = [
    ("Tag", Tag),
    ("Tags", TagPage),
    ("ActivityTagging", Activity),
    ("ActivityListsMembership", Activity),
    ("ActivityGeneric", Activity),
    ("Activity", Activity),
    ("Activities", ActivityPage),
    ("ContactList", ContactList),
    ("ContactListArray", ContactListPage),
    ("ContactResource", Contact),
    ("Contacts", ContactPage),
]


@pytest.mark.parametrize(("definition", "model"), READ, ids=[d for d, _ in READ])
def test_the_client_reads_answers_made_from_the_contract(
    definition: str, model: type[BaseModel]
) -> None:
    answer = _example({"$ref": f"#/definitions/{definition}"})
    assert list(contract().definition(definition).iter_errors(answer)) == []
    parsed = model.model_validate(answer)
    dumped = parsed.model_dump(by_alias=True)
    for key in set(dumped) & set(answer):
        if isinstance(answer[key], str | int) and not isinstance(answer[key], bool):
            assert str(dumped[key]) == str(answer[key]) or key.endswith("_at"), key


def test_generic_activity_errors_as_objects_become_strings() -> None:
    answer = _example({"$ref": "#/definitions/ActivityGeneric"})
    answer["activity_errors"] = [{"message": "Tag is in use"}]
    assert list(contract().definition("ActivityGeneric").iter_errors(answer)) == []
    assert Activity.model_validate(answer).activity_errors == ["Tag is in use"]
