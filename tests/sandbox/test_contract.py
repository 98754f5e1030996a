"""The published contract (the vendored cut) decides what the sandbox accepts and answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.clock import FakeClock
from bot.devkit.sandbox.app import v3_routes
from bot.devkit.sandbox.schema import ANSWER_PROBLEMS, contract, published
from bot.devkit.sandbox.schema.overrides import OVERRIDES, StaleOverride, apply, lookup
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.sandbox import list_id, tag_id

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "bot" / "devkit" / "sandbox" / "schema"


def _refused(response: httpx.Response, *fragments: str) -> list[str]:
    """The API's error body: an array of {error_key, error_message}; returns the messages."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert isinstance(body, list) and body
    assert all(set(item) == {"error_key", "error_message"} for item in body)
    messages = [item["error_message"] for item in body]
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)
    return messages


# ---------------------------------------------------------------- the vendored cut


def test_every_sandbox_endpoint_is_an_operation_of_the_cut() -> None:
    cut = contract()
    for method, template, _ in v3_routes():
        assert (method, template) in cut.operations


def test_every_ref_of_the_cut_resolves_inside_it() -> None:
    text = json.dumps(published())
    names = {part.split('"')[0] for part in text.split('"$ref": "#/definitions/')[1:]}
    assert names and names <= set(published()["definitions"])


def test_the_cut_is_the_published_version_its_provenance_names() -> None:
    provenance = yaml.safe_load(
        (SCHEMA_DIR / "constant-contact-v3-swagger.provenance.yml").read_text()
    )
    assert published()["info"]["version"] == provenance["harvest"]["info_version"] == "3.0.178"
    assert published()["host"] == provenance["harvest"]["host"]


def test_the_cut_holds_what_the_campaign_and_segment_sources_need() -> None:
    paths = published()["paths"]
    for needed in (
        "/emails",
        "/emails/{campaign_id}",
        "/segments",
        "/segments/{segment_id}",
        "/reports/email_reports/{campaign_activity_id}/links",
        "/reports/email_reports/{campaign_activity_id}/tracking/clicks",
        "/reports/email_reports/{campaign_activity_id}/tracking/didnotopens",
        "/reports/email_reports/{campaign_activity_id}/tracking/bounces",
    ):
        assert "get" in paths[needed]


# ---------------------------------------------------------------- overrides


@pytest.mark.parametrize("override", OVERRIDES, ids=lambda o: o.name)
def test_each_override_corrects_what_the_contract_really_publishes(override: Any) -> None:
    assert lookup(published(), override.pointer) == override.published
    assert lookup(contract().document, override.pointer) == override.corrected
    assert override.why


def test_an_override_whose_fault_is_gone_stops_the_load() -> None:
    fixed = apply(published())  # as if Constant Contact had corrected every fault
    with pytest.raises(StaleOverride, match="remove_list_memberships"):
        apply(fixed)


def test_remove_from_lists_takes_50_source_tags_despite_max_items_0(
    cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    body = {"source": {"tag_ids": [vip] * 50}, "list_ids": [list_id(demo, "Donors")]}
    assert cc.post("/activities/remove_list_memberships", json=body).status_code == 201
    body["source"] = {"tag_ids": [vip] * 51}
    _refused(cc.post("/activities/remove_list_memberships", json=body), "source.tag_ids")


def test_remove_from_lists_takes_50_target_lists_and_500_contacts(
    cc: httpx.Client, demo: Account
) -> None:
    donors = list_id(demo, "Donors")
    contacts = sorted(demo.active)[:2]
    body = {"source": {"contact_ids": contacts * 250}, "list_ids": [donors] * 50}
    assert cc.post("/activities/remove_list_memberships", json=body).status_code == 201
    body["list_ids"] = [donors] * 51
    _refused(cc.post("/activities/remove_list_memberships", json=body), "list_ids")
    body = {"source": {"contact_ids": contacts * 250 + contacts[:1]}, "list_ids": [donors]}
    _refused(cc.post("/activities/remove_list_memberships", json=body), "source.contact_ids")


# ---------------------------------------------------------------- requests the contract refuses


def test_a_string_is_not_a_boolean(cc: httpx.Client, demo: Account) -> None:
    body = {"source": {"all_active_contacts": "true"}, "tag_ids": [tag_id(demo, "VIP")]}
    _refused(
        cc.post("/activities/contacts_taggings_add", json=body),
        "source.all_active_contacts: 'true' is not of type 'boolean'",
    )


def test_every_problem_of_a_body_is_one_error_item(cc: httpx.Client) -> None:
    body = {"source": {"list_ids": "Donors", "new_subscriber": 1}, "tag_ids": "VIP"}
    messages = _refused(cc.post("/activities/contacts_taggings_add", json=body))
    assert len(messages) == 3
    assert _refused(cc.post("/activities/contacts_taggings_add", json={}), "'source'")


def test_tag_names_within_the_contract_lengths(cc: httpx.Client) -> None:
    _refused(cc.post("/contact_tags", json={"name": ""}), "name")
    _refused(cc.post("/contact_tags", json={"name": "x" * 256}), "is too long")
    assert cc.post("/contact_tags", json={"name": "x" * 255}).status_code == 201
    _refused(cc.post("/contact_tags", json={"tag_source": "ESTY"}), "'name' is a required")


def test_query_parameters_by_type_enum_minimum_maximum(cc: httpx.Client) -> None:
    _refused(cc.get("/contacts", params={"limit": 0}), "limit: 0 is less than the minimum of 1")
    _refused(cc.get("/contacts", params={"limit": "ten"}), "limit: 'ten' is not of type")
    _refused(cc.get("/contacts", params={"include_count": "yes"}), "include_count")
    _refused(cc.get("/contacts", params={"status": "active,implicit"}), "'implicit' is not one")
    _refused(cc.get("/contacts", params={"include": "taggings,secrets"}), "'secrets'")
    _refused(cc.get("/activities", params={"state": "initialized"}), "state")
    _refused(cc.get("/contact_lists", params={"limit": 1001}), "maximum of 1000")
    _refused(cc.get("/segments/fourteen"), "segment_id")


def test_a_refused_request_changes_nothing(cc: httpx.Client, demo: Account) -> None:
    before = len(demo.activities)
    body = {"source": {"all_active_contacts": "true"}, "tag_ids": [tag_id(demo, "VIP")]}
    cc.post("/activities/contacts_taggings_add", json=body)
    assert len(demo.activities) == before


# ---------------------------------------------------------------- answers the contract checks


def test_an_answer_against_the_contract_is_caught_and_recorded(
    cc: httpx.Client, demo: Account
) -> None:
    demo.segment_names[1] = 1234  # type: ignore[assignment]  # a name that is no string
    response = cc.get("/segments/1")
    assert response.status_code == 500
    problems = ANSWER_PROBLEMS.drain()
    assert problems == [
        "GET /segments/{segment_id} answered 200: name: 1234 is not of type 'string'"
    ]


def test_an_undeclared_status_is_against_the_contract() -> None:
    problems = contract().operation("GET", "/contact_tags").answer_problems(202, {"tags": []})
    assert problems == ["GET /contact_tags declares 200, not 202"]


# ---------------------------------------------------------------- the reference's own examples


def test_requests_written_from_the_reference_examples(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client
) -> None:
    """The x-example values and example properties of the contract, sent as they are."""
    assert cc.get("/activities", params={"limit": 25, "state": "processing"}).status_code == 200
    contacts: dict[str, str | int] = {
        "email": "xyz@example.com",
        "include": "custom_fields,list_memberships",
        "include_count": "true",
        "limit": 25,
        "updated_after": "2022-01-01T16:37:59.091Z",
        "created_after": "2021-01-01T16:37:59.091Z",
    }
    assert cc.get("/contacts", params=contacts).json()["contacts"] == []
    lists: dict[str, str | bool] = {
        "include_count": True,
        "include_membership_count": "all",
        "status": "all",
    }
    assert cc.get("/contact_lists", params={**lists, "name": "TopTier"}).json()["lists"] == []
    # The contract's own example channel_type=all is outside its enum (email, sms).
    _refused(cc.get("/contact_lists", params={"channel_type": "all"}), "channel_type")
    assert cc.get("/contact_tags", params={"limit": 25, "include_count": True}).status_code == 200
    tag = cc.post("/contact_tags", json={"name": "Silver card member", "tag_source": "ESTY"})
    assert tag.status_code == 201 and tag.json()["tag_source"] == "ESTY"
    tagging = {"source": {"all_active_contacts": True}, "tag_ids": [tag.json()["tag_id"]]}
    assert cc.post("/activities/contacts_taggings_add", json=tagging).status_code == 201
    assert cc.get("/segments", params={"limit": "1000"}).status_code == 200
    assert cc.get("/segments/14").status_code == 404
    assert cc.get("/account/summary", params={"extra_fields": "company_logo"}).status_code == 200
