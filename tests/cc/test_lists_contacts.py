"""Contact lists with membership counts, contacts by email, counting contacts: one call each."""

from __future__ import annotations

from bot.cc.client import AccountClient
from bot.devkit.sandbox.state import DEMO_LISTS, Account
from tests.cc.conftest import Traffic, list_id, tag_id


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
