"""The five bulk activities, with their effects in the sandbox once done; reading activities."""

from __future__ import annotations

import uuid

import pytest

from bot.cc.client import AccountClient
from bot.cc.errors import BadRequest, NotFound
from bot.cc.models import (
    ActivityState,
    ListMembershipRequest,
    TaggingRequest,
    build,
)
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.cc import Traffic, list_id, tag_id, wait_done


def test_the_five_bulk_activities_and_their_effects(cc: AccountClient, demo: Account) -> None:
    contacts = sorted(demo.contacts)
    first_five = contacts[:5]
    alpha = cc.create_tag("Alpha")
    beta = cc.create_tag("Beta")
    volunteer = tag_id(demo, "Volunteer")
    untag = sorted(demo.tag_members[volunteer])[:3]
    newsletter, donors, prospects = (
        list_id(demo, n) for n in ("Newsletter", "Donors", "Prospects")
    )
    newsletter_members = set(demo.list_members[newsletter])
    excluded = sorted(newsletter_members)[0]
    leaving = sorted(demo.list_members[prospects])[:2]
    assert len(untag) == 3 and len(leaving) == 2 and len(newsletter_members) > 2

    started = {
        "add_tags": cc.add_tags(
            build(
                TaggingRequest, {"source": {"contact_ids": first_five}, "tag_ids": [alpha.tag_id]}
            )
        ),
        "remove_tags": cc.remove_tags(
            build(TaggingRequest, {"source": {"contact_ids": untag}, "tag_ids": [volunteer]})
        ),
        "delete_tags": cc.delete_tags([beta.tag_id]),
        "add_to_lists": cc.add_to_lists(
            build(
                ListMembershipRequest,
                {
                    "source": {"list_ids": [newsletter]},
                    "exclude": {"contact_ids": [excluded]},
                    "list_ids": [donors],
                },
            )
        ),
        "remove_from_lists": cc.remove_from_lists(
            build(
                ListMembershipRequest,
                {"source": {"contact_ids": leaving}, "list_ids": [prospects]},
            )
        ),
    }
    assert len({a.activity_id for a in started.values()}) == 5
    assert all(a.state == "initialized" for a in started.values())
    # Nothing happens before completion.
    assert alpha.tag_id in demo.tags and not demo.tag_members[alpha.tag_id]

    done = {kind: wait_done(cc, a.activity_id) for kind, a in started.items()}
    assert all(a.known_state == ActivityState.COMPLETED for a in done.values()), done
    assert all(a.percent_done == 100 and not a.activity_errors for a in done.values())

    assert demo.tag_members[alpha.tag_id] == set(first_five)
    assert all(alpha.tag_id in demo.contacts[c].tags for c in first_five)
    assert done["add_tags"].status is not None
    assert done["add_tags"].status.items_total_count == 5
    assert done["add_tags"].status.items_completed_count == 5

    assert not set(untag) & demo.tag_members[volunteer]
    assert all(volunteer not in demo.contacts[c].tags for c in untag)

    assert beta.tag_id not in demo.tags

    assert demo.list_members[donors] >= newsletter_members - {excluded}
    assert done["add_to_lists"].status is not None
    assert done["add_to_lists"].status.list_count == 1
    assert done["add_to_lists"].status.items_total_count == len(newsletter_members) - 1

    assert not set(leaving) & demo.list_members[prospects]
    assert all(prospects not in demo.contacts[c].lists for c in leaving)


def test_all_active_contacts_with_exclude_and_segment_sources(
    cc: AccountClient, demo: Account
) -> None:
    gamma = cc.create_tag("Gamma")
    keep_out = sorted(demo.active)[0]
    webinar = list_id(demo, "Webinar 2026")
    tagged = cc.add_tags(
        build(
            TaggingRequest,
            {
                "source": {"all_active_contacts": True},
                "exclude": {"contact_ids": [keep_out]},
                "tag_ids": [gamma.tag_id],
            },
        )
    )
    listed = cc.add_to_lists(
        build(ListMembershipRequest, {"source": {"segment_id": 2}, "list_ids": [webinar]})
    )
    assert wait_done(cc, tagged.activity_id).known_state == ActivityState.COMPLETED
    assert wait_done(cc, listed.activity_id).known_state == ActivityState.COMPLETED
    assert demo.tag_members[gamma.tag_id] == demo.active - {keep_out}
    assert demo.list_members[webinar] >= demo.segments[2]


def test_tagging_a_list_source_then_removing_the_tag_again(
    cc: AccountClient, demo: Account
) -> None:
    tag = cc.create_tag("Gala guests")
    vip_customers = list_id(demo, "VIP Customers")
    add = build(TaggingRequest, {"source": {"list_ids": [vip_customers]}, "tag_ids": [tag.tag_id]})
    started = cc.add_tags(add)
    assert started.state == "initialized" and started.percent_done == 1
    done = wait_done(cc, started.activity_id)
    assert done.known_state == ActivityState.COMPLETED and done.percent_done == 100
    assert cc.count_contacts(tag_ids=[tag.tag_id]) == cc.count_contacts(list_ids=[vip_customers])
    removed = cc.remove_tags(add)
    assert wait_done(cc, removed.activity_id).is_terminal
    assert cc.count_contacts(tag_ids=[tag.tag_id]) == 0


def test_get_activity_and_list_activities_with_limit_and_state(
    cc: AccountClient, sb: SandboxServer, demo: Account
) -> None:
    tags = [cc.create_tag(f"Short-lived {n}") for n in range(3)]
    first = cc.delete_tags([tags[0].tag_id])
    sb.faults.end_next_activity("failed", ["Something went wrong"])
    second = cc.delete_tags([tags[1].tag_id])
    third = cc.delete_tags([tags[2].tag_id])

    fresh = cc.get_activity(third.activity_id)
    assert fresh.activity_id == third.activity_id and fresh.created_at is not None
    for activity in (first, second, third):
        wait_done(cc, activity.activity_id)

    newest = cc.list_activities(limit=2)
    assert [a.activity_id for a in newest] == [third.activity_id, second.activity_id]
    failed = cc.list_activities(state="failed")
    assert [a.activity_id for a in failed] == [second.activity_id]
    assert failed[0].activity_errors == ["Something went wrong"]
    completed = cc.list_activities(limit=500, state="completed")
    assert [a.activity_id for a in completed] == [third.activity_id, first.activity_id]
    assert cc.list_activities(state="processing") == []
    assert tags[1].tag_id in demo.tags and tags[0].tag_id not in demo.tags


def test_unknown_activity_is_404(cc: AccountClient) -> None:
    with pytest.raises(NotFound) as caught:
        cc.get_activity(str(uuid.uuid4()))
    assert caught.value.message == "Activity not found" and caught.value.status == 404


def test_an_unknown_tag_is_a_400_with_the_api_message_and_no_activity(
    cc: AccountClient, traffic: Traffic, demo: Account
) -> None:
    request = build(
        TaggingRequest, {"source": {"all_active_contacts": True}, "tag_ids": ["no-such-tag"]}
    )
    with pytest.raises(BadRequest) as caught:
        cc.add_tags(request)
    assert caught.value.status == 400
    assert caught.value.message == "Unknown tags: no-such-tag"
    assert caught.value.error_key == "contacts.api.validation.error"
    assert demo.activities == {}
    # Refused outright: neither sent again nor reconciled.
    assert traffic.count("/v3/activities/contacts_taggings_add", "POST") == 1
    assert traffic.count("/v3/activities", "GET") == 0
