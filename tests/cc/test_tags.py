"""Tags: create, get, page through, find, rename, delete one (202 activity), errors kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cc.client import AccountClient
from bot.cc.errors import BadRequest, Conflict, NotFound
from bot.cc.models import MAX_TAGS_IN_ACCOUNT, ActivityState
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account, TagRecord
from tests.support.cc import Traffic, tag_id, wait_done


def test_create_then_get_with_count(cc: AccountClient, demo: Account) -> None:
    created = cc.create_tag("  Spring Gala  ", tag_source="cctag")
    assert created.name == "Spring Gala"  # trimmed before sending
    assert created.tag_source == "cctag" and created.created_at is not None
    assert demo.tags[created.tag_id].name == "Spring Gala"

    vip = cc.get_tag(tag_id(demo, "VIP"), include_count=True)
    assert vip.name == "VIP"
    assert vip.contacts_count == len(demo.tag_members[vip.tag_id]) > 0
    assert cc.get_tag(vip.tag_id).contacts_count is None  # only when asked


def test_iter_tags_follows_next_links_past_one_page(
    cc: AccountClient, sb: SandboxServer, demo: Account
) -> None:
    cc.create_tag("Fifth")
    before = sb.state.request_count("/v3/contact_tags", "GET")
    tags = list(cc.iter_tags(include_count=True, page_size=2))
    assert [t.name for t in tags] == [t.name for t in demo.tags.values()]
    assert len(tags) == 5
    assert sb.state.request_count("/v3/contact_tags", "GET") - before == 3  # 2 + 2 + 1
    # include_count survives the cursor: every page carries the counts.
    assert all(t.contacts_count == len(demo.tag_members[t.tag_id]) for t in tags)


def test_list_tags_and_find_by_name_ignoring_case_and_spaces(
    cc: AccountClient, demo: Account
) -> None:
    assert {t.tag_id for t in cc.list_tags()} == set(demo.tags)
    found = cc.find_tag_by_name("  vip ")
    assert found is not None and found.tag_id == tag_id(demo, "VIP")
    assert cc.find_tag_by_name("No such tag") is None


def test_rename(cc: AccountClient, demo: Account) -> None:
    tag = cc.create_tag("Old name")
    renamed = cc.rename_tag(tag.tag_id, " New name ")
    assert renamed.tag_id == tag.tag_id and renamed.name == "New name"
    assert demo.tags[tag.tag_id].name == "New name"


def test_duplicates_are_409_with_the_api_message(
    cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    with pytest.raises(Conflict) as created:
        cc.create_tag("vip")
    assert traffic.count("/v3/contact_tags", "POST") == 1  # a 409 is not retried
    assert created.value.status == 409
    assert created.value.message == "A tag named 'vip' already exists"
    assert created.value.error_key == "contacts.api.conflict"

    other = cc.create_tag("Other")
    with pytest.raises(Conflict, match="A tag named 'Volunteer' already exists"):
        cc.rename_tag(other.tag_id, "Volunteer")
    assert demo.tags[other.tag_id].name == "Other"


def test_unknown_tag_is_404_with_the_api_message(cc: AccountClient) -> None:
    for call in (
        lambda: cc.get_tag("no-such-tag"),
        lambda: cc.rename_tag("no-such-tag", "Whatever"),
        lambda: cc.delete_tag("no-such-tag"),
    ):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.status == 404
        assert caught.value.message == "Tag not found"
        assert caught.value.error_key == "contacts.api.not.found"


def test_the_500th_tag_is_refused_with_the_api_400(
    cc: AccountClient, sb: SandboxServer, demo: Account
) -> None:
    now = datetime.now(UTC)
    with sb.state.lock:
        while len(demo.tags) < MAX_TAGS_IN_ACCOUNT:
            record = TagRecord(sb.state.new_id(), f"Filler {len(demo.tags)}", None, now, now)
            demo.tags[record.tag_id] = record
    with pytest.raises(BadRequest) as caught:
        cc.create_tag("One too many")
    assert caught.value.status == 400
    assert caught.value.message == "An account holds at most 500 tags; delete one first"
    assert caught.value.error_key == "contacts.api.validation.error"


def test_delete_one_tag_is_an_activity(cc: AccountClient, demo: Account) -> None:
    volunteer = tag_id(demo, "Volunteer")
    tagged = set(demo.tag_members[volunteer])
    assert tagged
    started = cc.delete_tag(volunteer)
    assert started.state in ("initialized", "processing")
    assert volunteer in demo.tags  # asynchronous: nothing happened yet

    done = wait_done(cc, started.activity_id)
    assert done.known_state == ActivityState.COMPLETED
    assert done.percent_done == 100 and done.activity_errors == []
    assert volunteer not in demo.tags
    assert all(volunteer not in demo.contacts[cid].tags for cid in tagged)
    assert cc.find_tag_by_name("Volunteer") is None


def test_delete_one_tag_failing_reports_errors_as_strings(
    cc: AccountClient, sb: SandboxServer, demo: Account
) -> None:
    """The generic activity of DELETE /contact_tags/{id} has `{"message": ...}` errors."""
    sb.faults.end_next_activity("failed", ["Tag is locked", "Try later"])
    started = cc.delete_tag(tag_id(demo, "VIP"))
    done = wait_done(cc, started.activity_id)
    assert done.known_state == ActivityState.FAILED
    assert done.activity_errors == ["Tag is locked", "Try later"]
    assert demo.tag_by_name("VIP") is not None  # a failed activity has no effect
