"""Contact lists, contacts and the account summary: filters, counts and paging."""

from __future__ import annotations

import httpx

from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DELETED_EVERY, Account
from tests.support.sandbox import list_id, tag_id


def test_lists_with_counts(cc: httpx.Client, demo: Account) -> None:
    body = cc.get("/contact_lists", params={"include_count": "true"}).json()
    assert body["lists_count"] == 6 == len(body["lists"])
    assert {"Newsletter", "VIP Customers", "Donors"} <= {i["name"] for i in body["lists"]}
    assert all("membership_count" not in i for i in body["lists"])
    donors = list_id(demo, "Donors")
    counted = cc.get("/contact_lists", params={"include_membership_count": "all"}).json()
    by_id = {i["list_id"]: i for i in counted["lists"]}
    assert by_id[donors]["membership_count"] == len(demo.list_members[donors])
    active = cc.get("/contact_lists", params={"include_membership_count": "active"}).json()
    active_by_id = {i["list_id"]: i for i in active["lists"]}
    assert active_by_id[donors]["membership_count"] == len(demo.list_members[donors] & demo.active)
    assert active_by_id[donors]["membership_count"] < by_id[donors]["membership_count"]


def test_lists_by_exact_name_and_paged(sb: SandboxServer, cc: httpx.Client) -> None:
    found = cc.get("/contact_lists", params={"name": "Donors"}).json()["lists"]
    assert [i["name"] for i in found] == ["Donors"]
    assert cc.get("/contact_lists", params={"name": "donors"}).json()["lists"] == []
    assert cc.get("/contact_lists", params={"name": "Don"}).json()["lists"] == []
    first = cc.get("/contact_lists", params={"limit": 4}).json()
    rest = httpx.get(sb.url + first["_links"]["next"]["href"], headers=cc.headers).json()
    assert len(first["lists"]) == 4 and len(rest["lists"]) == 2 and rest["_links"] == {}


def test_list_options_are_checked(cc: httpx.Client, demo: Account) -> None:
    assert cc.get("/contact_lists", params={"include_membership_count": "x"}).status_code == 400
    assert cc.get("/contact_lists", params={"status": "gone"}).status_code == 400
    assert cc.get("/contact_lists", params={"limit": 0}).status_code == 400
    assert cc.get("/contact_lists/nope").status_code == 404
    donors = list_id(demo, "Donors")
    assert cc.get(f"/contact_lists/{donors}").json()["name"] == "Donors"


def test_contacts_page_past_the_first(sb: SandboxServer, cc: httpx.Client) -> None:
    query: dict[str, str | int] = {"limit": 60, "include_count": "true", "status": "all"}
    response = cc.get("/contacts", params=query)
    assert response.json()["contacts_count"] == 200
    emails: list[str] = []
    while True:
        body = response.json()
        emails += [c["email_address"]["address"] for c in body["contacts"]]
        if "next" not in body["_links"]:
            break
        response = httpx.get(sb.url + body["_links"]["next"]["href"], headers=cc.headers)
    assert len(emails) == len(set(emails)) == 200
    assert "contact1@example.com" in emails and "contact200@example.com" in emails


def test_contact_filters(cc: httpx.Client, demo: Account) -> None:
    one = cc.get("/contacts", params={"email": "contact7@example.com"}).json()["contacts"]
    assert [c["email_address"]["address"] for c in one] == ["contact7@example.com"]
    assert cc.get("/contacts", params={"email": "nobody@example.com"}).json()["contacts"] == []
    vip, donors = tag_id(demo, "VIP"), list_id(demo, "Donors")
    tagged = cc.get("/contacts", params={"tags": vip, "limit": 500}).json()["contacts"]
    assert {c["contact_id"] for c in tagged} == demo.tag_members[vip]
    both = cc.get("/contacts", params={"tags": vip, "lists": donors, "limit": 500}).json()
    assert {c["contact_id"] for c in both["contacts"]} == (
        demo.tag_members[vip] & demo.list_members[donors]
    )
    active = cc.get("/contacts", params={"status": "active", "include_count": "true"}).json()
    assert active["contacts_count"] == len(demo.active)
    gone = cc.get("/contacts", params={"status": "unsubscribed", "limit": 500}).json()["contacts"]
    assert gone and all(c["email_address"]["permission_to_send"] == "unsubscribed" for c in gone)
    deleted = 200 // DELETED_EVERY
    assert len(gone) + len(demo.active) == 200 - deleted


def test_contact_includes(cc: httpx.Client, demo: Account) -> None:
    plain = cc.get("/contacts", params={"limit": 1}).json()["contacts"][0]
    assert "taggings" not in plain and "list_memberships" not in plain
    included = cc.get("/contacts", params={"limit": 500, "include": "taggings,list_memberships"})
    for contact in included.json()["contacts"]:
        record = demo.contacts[contact["contact_id"]]
        assert set(contact["taggings"]) == record.tags
        assert set(contact["list_memberships"]) == record.lists
    single = cc.get(f"/contacts/{plain['contact_id']}", params={"include": "taggings"})
    assert single.status_code == 200 and "taggings" in single.json()
    assert cc.get("/contacts/nobody").status_code == 404


def test_contact_query_limits(cc: httpx.Client) -> None:
    assert (
        cc.get("/contacts", params={"tags": ",".join(f"t{n}" for n in range(51))}).status_code
        == 400
    )
    assert (
        cc.get("/contacts", params={"lists": ",".join(f"l{n}" for n in range(26))}).status_code
        == 400
    )
    assert cc.get("/contacts", params={"limit": 501}).status_code == 400
    assert cc.get("/contacts", params={"include": "secrets"}).status_code == 400
    assert cc.get("/contacts", params={"status": "weird"}).status_code == 400


def test_segment_query_answers_202_then_200(cc: httpx.Client, demo: Account) -> None:
    query = {"segment_id": 1, "limit": 500}
    computing = cc.get("/contacts", params=query)
    assert computing.status_code == 202 and computing.json()["contacts"] == []
    response = cc.get("/contacts", params=query)
    assert response.status_code == 200
    assert {c["contact_id"] for c in response.json()["contacts"]} == demo.segments[1]
    assert cc.get("/contacts", params={"segment_id": 42}).status_code == 404


def test_account_summary(cc: httpx.Client) -> None:
    body = cc.get("/account/summary").json()
    assert body["encoded_account_id"] == "demo" and body["organization_name"]


def test_unknown_endpoint_is_404_json(cc: httpx.Client) -> None:
    response = cc.get("/no_such_thing")
    assert response.status_code == 404 and response.json()[0]["error_key"]
