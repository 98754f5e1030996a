"""Contact lists with membership counts, contacts by email, counting contacts: one call each."""

from __future__ import annotations

import httpx
import pytest

from bot.cc.client import AccountClient
from bot.cc.errors import UnexpectedResponse
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DELETED_EVERY, DEMO_LISTS, Account
from tests.support.cc import Rig, Tenant, Traffic, list_id, make_rig, tag_id


def test_iter_lists_pages_with_membership_counts(
    cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    lists = list(cc.iter_lists(include_membership_count=True, page_size=2))
    assert [item.name for item in lists] == list(DEMO_LISTS)
    assert traffic.count("/v3/contact_lists", "GET") == 3  # 6 lists, 2 a page
    for item in lists:
        assert item.membership_count == len(demo.list_members[item.list_id])
    assert sum(item.membership_count or 0 for item in lists) > 0


def test_list_lists_counts_only_when_asked(cc: AccountClient, demo: Account) -> None:
    plain = cc.list_lists()
    assert {item.list_id for item in plain} == set(demo.lists)
    assert all(item.membership_count is None for item in plain)
    counted = {item.list_id: item.membership_count for item in cc.list_lists(True)}
    assert counted == {lid: len(members) for lid, members in demo.list_members.items()}


def test_find_list_by_name_is_exact_and_counts(
    cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    donors = cc.find_list_by_name("Donors")
    assert donors is not None
    assert donors.list_id == list_id(demo, "Donors")
    assert donors.membership_count == len(demo.list_members[donors.list_id])
    assert cc.find_list_by_name("donors") is None
    assert cc.find_list_by_name("No such list") is None
    assert traffic.count("/v3/contact_lists", "GET") == 3


def test_find_contact_by_email(cc: AccountClient, demo: Account) -> None:
    found = cc.find_contact_by_email("  contact7@example.com ")
    assert found is not None
    assert found.contact_id == demo.by_email["contact7@example.com"]
    assert found.email_address is not None
    assert found.email_address.address == "contact7@example.com"
    assert cc.find_contact_by_email("nobody@example.com") is None

    unsubscribed = next(c for c in demo.contacts.values() if c.status == "unsubscribed")
    again = cc.find_contact_by_email(unsubscribed.email)
    assert again is not None and again.contact_id == unsubscribed.contact_id


def test_count_contacts_by_lists_tags_and_status(
    cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    newsletter, donors = list_id(demo, "Newsletter"), list_id(demo, "Donors")
    vip, donor_tag = tag_id(demo, "VIP"), tag_id(demo, "Donor 2025")
    in_lists = demo.list_members[newsletter] | demo.list_members[donors]
    tagged = demo.tag_members[vip] | demo.tag_members[donor_tag]
    assert in_lists and tagged and demo.active

    live = {cid for cid, c in demo.contacts.items() if c.deleted_at is None}
    assert cc.count_contacts() == len(live) < len(demo.contacts)  # deleted ones are left out
    assert cc.count_contacts(list_ids=[newsletter, donors]) == len(in_lists)
    assert cc.count_contacts(tag_ids=[vip, donor_tag]) == len(tagged)
    assert cc.count_contacts(status="active") == len(demo.active)
    assert cc.count_contacts(list_ids=[newsletter, donors], status="active") == len(
        in_lists & demo.active
    )
    assert cc.count_contacts(list_ids=[newsletter], tag_ids=[vip]) == len(
        demo.list_members[newsletter] & demo.tag_members[vip]
    )
    assert traffic.count("/v3/contacts", "GET") == 6  # one call each


def test_an_email_is_looked_up_lower_cased_and_never_matches_a_deleted_contact(
    tenant: Tenant, demo: Account
) -> None:
    sent: list[httpx.URL] = []
    with httpx.Client(timeout=10, event_hooks={"request": [lambda r: sent.append(r.url)]}) as http:
        cc = make_rig(tenant, http=http).cc
        found = cc.find_contact_by_email(" Contact7@EXAMPLE.com")
        assert found is not None and found.contact_id == demo.by_email["contact7@example.com"]
        deleted = f"contact{DELETED_EVERY}@example.com"
        assert demo.contacts[demo.by_email[deleted]].deleted_at is not None
        assert cc.find_contact_by_email(deleted) is None
    assert [url.params["email"] for url in sent] == ["contact7@example.com", deleted]


def test_paging_links_are_resolved_against_the_api_host(
    sb: SandboxServer, cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    sb.faults.contacts_service_links()
    try:
        lists = list(cc.iter_lists(page_size=2))
    finally:
        sb.faults.contacts_service_links(on=False)
    assert [item.name for item in lists] == list(DEMO_LISTS)
    assert traffic.count(f"/contacts-service/v3/accounts/{demo.account_id}/contact_lists") == 2


def test_a_link_to_another_host_is_refused(rig: Rig) -> None:
    assert rig.api.resolve_href("/v3/contacts?cursor=x") == f"{rig.sb.url}/v3/contacts?cursor=x"
    with pytest.raises(UnexpectedResponse, match="another host"):
        rig.api.resolve_href("https://elsewhere.example/v3/contacts?cursor=x")
