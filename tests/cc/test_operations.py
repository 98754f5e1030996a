"""Every AccountClient operation over real HTTP against the sandbox, with paging past one page."""

from __future__ import annotations

from bot.cc.models import (
    ActivityState,
    ListMembershipRequest,
    TaggingRequest,
    build,
)
from tests.cc.conftest import World


def finish_activities(world: World) -> None:
    world.clock.advance(world.server.state.activity_seconds + 1)


def test_tags_create_get_rename_list_and_delete(world: World) -> None:
    account = world.account
    created = account.create_tag("  Spring Gala  ", tag_source="cctag")
    assert created.name == "Spring Gala"
    assert account.get_tag(created.tag_id, include_count=True).contacts_count == 0
    renamed = account.rename_tag(created.tag_id, "Spring Gala 2026")
    assert renamed.name == "Spring Gala 2026"
    assert account.find_tag_by_name("spring gala 2026") == account.get_tag(created.tag_id)
    names = {tag.name for tag in account.list_tags(include_count=True)}
    assert names == {"VIP", "Donor 2025", "Volunteer", "Board Member", "Spring Gala 2026"}
    activity = account.delete_tag(created.tag_id)
    assert activity.state == "initialized"
    finish_activities(world)
    assert account.get_activity(activity.activity_id).known_state == ActivityState.COMPLETED
    assert account.find_tag_by_name("Spring Gala 2026") is None


def test_tag_paging_follows_next_links(world: World) -> None:
    for number in range(3):
        world.account.create_tag(f"Page tag {number}")
    before = world.requests("/v3/contact_tags", "GET")
    tags = list(world.account.iter_tags(include_count=True, page_size=2))
    assert len(tags) == 7 and len({t.tag_id for t in tags}) == 7
    assert all(t.contacts_count is not None for t in tags)
    assert world.requests("/v3/contact_tags", "GET") - before == 4


def test_lists_paging_exact_name_and_membership_counts(world: World) -> None:
    account = world.account
    before = world.requests("/v3/contact_lists", "GET")
    lists = list(account.iter_lists(include_membership_count=True, page_size=4))
    assert world.requests("/v3/contact_lists", "GET") - before == 2
    assert len(lists) == 6 and all(item.membership_count is not None for item in lists)
    vip = account.find_list_by_name("VIP Customers")
    assert vip is not None and vip.membership_count == next(
        item.membership_count for item in lists if item.name == "VIP Customers"
    )
    assert account.find_list_by_name("VIP") is None  # the name filter is exact
    assert [item.name for item in account.list_lists()] == [item.name for item in lists]


def test_contacts_by_email_and_counts_for_previews(world: World) -> None:
    account = world.account
    contact = account.find_contact_by_email(" contact3@example.com ")
    assert contact is not None and contact.email_address is not None
    assert contact.email_address.address == "contact3@example.com"
    assert account.find_contact_by_email("nobody@example.com") is None
    everyone = account.count_contacts()
    active = account.count_contacts(status="active")
    assert everyone == 40 and 0 < active < everyone
    lists = account.list_lists(include_membership_count=True)
    members = account.count_contacts(list_ids=[lists[0].list_id])
    assert members == lists[0].membership_count


def test_bulk_tagging_activities_run_and_take_effect(world: World) -> None:
    account = world.account
    tag = account.create_tag("Gala guests")
    vip = account.find_list_by_name("VIP Customers")
    assert vip is not None
    add = build(TaggingRequest, {"source": {"list_ids": [vip.list_id]}, "tag_ids": [tag.tag_id]})
    started = account.add_tags(add)
    assert started.state == "initialized" and started.percent_done == 0
    finish_activities(world)
    done = account.get_activity(started.activity_id)
    assert done.known_state == ActivityState.COMPLETED and done.percent_done == 100
    assert account.count_contacts(tag_ids=[tag.tag_id]) == account.count_contacts(
        list_ids=[vip.list_id]
    )
    removed = account.remove_tags(add)
    finish_activities(world)
    assert account.get_activity(removed.activity_id).is_terminal
    assert account.count_contacts(tag_ids=[tag.tag_id]) == 0
    deleted = account.delete_tags([tag.tag_id])
    finish_activities(world)
    assert account.get_activity(deleted.activity_id).known_state == ActivityState.COMPLETED
    assert account.find_tag_by_name("Gala guests") is None


def test_list_membership_activities_and_activity_listing(world: World) -> None:
    account = world.account
    donors = account.find_list_by_name("Donors")
    assert donors is not None
    contact = account.find_contact_by_email("contact1@example.com")
    assert contact is not None
    body = {"source": {"contact_ids": [contact.contact_id]}, "list_ids": [donors.list_id]}
    added = account.add_to_lists(build(ListMembershipRequest, body))
    finish_activities(world)
    assert account.count_contacts(list_ids=[donors.list_id]) >= 1
    removed = account.remove_from_lists(build(ListMembershipRequest, body))
    recent = account.list_activities(limit=10)
    assert [a.activity_id for a in recent] == [removed.activity_id, added.activity_id]
    completed = account.list_activities(limit=10, state="completed")
    assert [a.activity_id for a in completed] == [added.activity_id]
    finish_activities(world)
    assert account.get_activity(removed.activity_id).status is not None
