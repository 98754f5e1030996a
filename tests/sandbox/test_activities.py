"""Bulk activities: validation, progression on the clock, effects applied once at completion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.cc.models import Activity, EngagementLevel
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.sandbox import ACTIVITY_SECONDS, finish, list_id, tag_id

TAGGINGS = ("/activities/contacts_taggings_add", "/activities/contacts_taggings_remove")
LISTS = ("/activities/add_list_memberships", "/activities/remove_list_memberships")


def _new_tag(cc: httpx.Client, name: str) -> str:
    return str(cc.post("/contact_tags", json={"name": name}).json()["tag_id"])


def _message(response: httpx.Response) -> str:
    return str(response.json()[0]["error_message"])


def test_progression_initialized_processing_completed(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    new = _new_tag(cc, "Gala")
    body = {"source": {"all_active_contacts": True}, "tag_ids": [new]}
    created = cc.post("/activities/contacts_taggings_add", json=body)
    assert created.status_code == 201
    first = created.json()
    assert first["state"] == "initialized" and first["percent_done"] == 1
    assert first["status"] == {} and first["activity_errors"] == []
    Activity.model_validate(first)
    seen: list[tuple[str, int, int]] = []
    for _ in range(12):
        clock.advance(ACTIVITY_SECONDS / 10)
        read = cc.get(f"/activities/{first['activity_id']}").json()
        seen.append(
            (read["state"], read["percent_done"], read["status"].get("items_completed_count", 0))
        )
    states = [s for s, _, _ in seen]
    assert states[0] == "initialized" and "processing" in states and states[-1] == "completed"
    processing = [(p, i) for s, p, i in seen if s == "processing"]
    assert processing == sorted(processing) and len({p for p, _ in processing}) > 1
    final = cc.get(f"/activities/{first['activity_id']}").json()
    assert final["percent_done"] == 100
    assert final["status"]["items_total_count"] == final["status"]["items_completed_count"]
    assert final["status"]["items_total_count"] == len(demo.active)
    assert demo.tag_members[new] == demo.active


def test_effect_only_when_completed(clock: FakeClock, cc: httpx.Client, demo: Account) -> None:
    new = _new_tag(cc, "Later")
    some = list(demo.active)[:3]
    body = {"source": {"contact_ids": some}, "tag_ids": [new]}
    activity = cc.post("/activities/contacts_taggings_add", json=body).json()
    clock.advance(ACTIVITY_SECONDS * 0.6)
    assert cc.get(f"/activities/{activity['activity_id']}").json()["state"] == "processing"
    assert demo.tag_members[new] == set()
    finish(clock, cc, activity["activity_id"])
    tagged = cc.get("/contacts", params={"tags": new, "include": "taggings"}).json()["contacts"]
    assert {c["contact_id"] for c in tagged} == set(some)
    assert all(new in c["taggings"] for c in tagged)


def test_remove_tags_by_list_with_exclude(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    everyone = list(demo.contacts)
    add = {"source": {"contact_ids": everyone[:300]}, "tag_ids": [vip]}
    finish(clock, cc, cc.post(TAGGINGS[0], json=add).json()["activity_id"])
    newsletter = list_id(demo, "Newsletter")
    members = demo.list_members[newsletter] & demo.tag_members[vip]
    keep = sorted(members)[0]
    body = {
        "source": {"list_ids": [newsletter]},
        "exclude": {"contact_ids": [keep]},
        "tag_ids": [vip],
    }
    finish(clock, cc, cc.post(TAGGINGS[1], json=body).json()["activity_id"])
    assert demo.tag_members[vip] & demo.list_members[newsletter] == {keep}
    assert vip in demo.contacts[keep].tags


def test_sources_new_subscribers_and_tags(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    fresh = _new_tag(cc, "Fresh")
    body = {"source": {"new_subscriber": True}, "tag_ids": [fresh]}
    finish(clock, cc, cc.post(TAGGINGS[0], json=body).json()["activity_id"])
    new_ones = demo.new_subscribers(clock.now())
    assert new_ones and demo.tag_members[fresh] == new_ones
    copy = _new_tag(cc, "Copy")
    by_tag = {"source": {"tag_ids": [fresh]}, "tag_ids": [copy]}
    finish(clock, cc, cc.post(TAGGINGS[0], json=by_tag).json()["activity_id"])
    assert demo.tag_members[copy] == new_ones


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"source": {"all_active_contacts": True, "list_ids": ["x"]}, "tag_ids": ["t"]},
            "exactly one",
        ),
        ({"source": {}, "tag_ids": ["t"]}, "exactly one"),
        (
            {"source": {"contact_ids": ["c"]}, "exclude": {"contact_ids": ["c"]}, "tag_ids": ["t"]},
            "Excluding",
        ),
        ({"source": {"contact_ids": [f"c{n}" for n in range(501)]}, "tag_ids": ["t"]}, "500"),
        ({"source": {"list_ids": [f"l{n}" for n in range(51)]}, "tag_ids": ["t"]}, "50"),
        ({"source": {"all_active_contacts": True}, "tag_ids": [f"t{n}" for n in range(51)]}, "50"),
        ({"source": {"all_active_contacts": True}, "tag_ids": []}, "at least one tag"),
        ({"source": {"segment_id": 1}, "tag_ids": ["t"]}, "segment_id"),
        ({"tag_ids": ["t"]}, "source"),
    ],
)
def test_tagging_bodies_are_validated(cc: httpx.Client, body: dict[str, Any], words: str) -> None:
    for path in TAGGINGS:
        response = cc.post(path, json=body)
        assert response.status_code == 400
        assert response.json()[0]["error_key"] == "contacts.api.validation.error"
        assert words in _message(response)


def test_unknown_ids_in_a_body_are_400(cc: httpx.Client, demo: Account) -> None:
    vip = tag_id(demo, "VIP")
    unknown_tag = {"source": {"all_active_contacts": True}, "tag_ids": ["nope"]}
    unknown_contact = {"source": {"contact_ids": ["nobody"]}, "tag_ids": [vip]}
    unknown_list = {"source": {"list_ids": ["nolist"]}, "tag_ids": [vip]}
    for body in (unknown_tag, unknown_contact, unknown_list):
        response = cc.post(TAGGINGS[0], json=body)
        assert response.status_code == 400 and "Unknown" in _message(response)
    assert (
        cc.post("/activities/contacts_tags_delete", json={"tag_ids": ["nope"]}).status_code == 400
    )


def test_activity_posts_need_json(cc: httpx.Client) -> None:
    for path in (*TAGGINGS, *LISTS, "/activities/contacts_tags_delete"):
        response = cc.post(path, content="x", headers={"Content-Type": "text/plain"})
        assert response.status_code == 415


def test_contacts_tags_delete(clock: FakeClock, cc: httpx.Client, demo: Account) -> None:
    doomed = [tag_id(demo, "VIP"), tag_id(demo, "Volunteer")]
    tagged = demo.tag_members[doomed[0]] | demo.tag_members[doomed[1]]
    response = cc.post("/activities/contacts_tags_delete", json={"tag_ids": doomed})
    assert response.status_code == 201
    done = finish(clock, cc, response.json()["activity_id"])
    assert done["state"] == "completed"
    assert done["status"] == {"items_total_count": 2, "items_completed_count": 2}
    names = {t["name"] for t in cc.get("/contact_tags").json()["tags"]}
    assert names.isdisjoint({"VIP", "Volunteer"})
    assert all(demo.contacts[c].tags.isdisjoint(doomed) for c in tagged)
    too_many = {"tag_ids": [f"t{n}" for n in range(501)]}
    assert cc.post("/activities/contacts_tags_delete", json=too_many).status_code == 400
    assert cc.post("/activities/contacts_tags_delete", json={"tag_ids": []}).status_code == 400


def test_add_and_remove_list_memberships(clock: FakeClock, cc: httpx.Client, demo: Account) -> None:
    vip_list = list_id(demo, "VIP Customers")
    donors = list_id(demo, "Donors")
    body = {"source": {"engagement_level": "high"}, "list_ids": [vip_list, donors]}
    created = cc.post(LISTS[0], json=body)
    assert created.status_code == 201
    done = finish(clock, cc, created.json()["activity_id"])
    high = demo.engaged(EngagementLevel.HIGH)
    assert done["status"]["list_count"] == 2 and done["status"]["items_total_count"] == len(high)
    assert high <= demo.list_members[vip_list] and high <= demo.list_members[donors]
    segment = {"source": {"segment_id": 2}, "list_ids": [vip_list]}
    assert cc.post(LISTS[0], json=segment).status_code == 201
    assert (
        cc.post(LISTS[0], json={"source": {"segment_id": 99}, "list_ids": [vip_list]}).status_code
        == 400
    )
    refused = cc.post(LISTS[1], json=segment)
    assert refused.status_code == 400 and "segment_id" in _message(refused)
    remove = {"source": {"all_active_contacts": True}, "list_ids": [vip_list]}
    finish(clock, cc, cc.post(LISTS[1], json=remove).json()["activity_id"])
    assert not demo.list_members[vip_list] & demo.active
    unknown = {"source": {"all_active_contacts": True}, "list_ids": ["nolist"]}
    assert cc.post(LISTS[0], json=unknown).status_code == 400
    too_many = {"source": {"all_active_contacts": True}, "list_ids": [f"l{n}" for n in range(51)]}
    assert cc.post(LISTS[0], json=too_many).status_code == 400
    assert (
        cc.post(
            LISTS[0], json={"source": {"engagement_level": "huge"}, "list_ids": [vip_list]}
        ).status_code
        == 400
    )


def test_a_contact_carries_at_most_50_tags(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    contact = next(iter(demo.active))
    have = len(demo.contacts[contact].tags)
    filling = [_new_tag(cc, f"cap {n}") for n in range(50 - have)]
    fill = {"source": {"contact_ids": [contact]}, "tag_ids": filling}
    finish(clock, cc, cc.post(TAGGINGS[0], json=fill).json()["activity_id"])
    assert len(demo.contacts[contact].tags) == 50
    one_more = {"source": {"contact_ids": [contact]}, "tag_ids": [_new_tag(cc, "cap 51")]}
    done = finish(clock, cc, cc.post(TAGGINGS[0], json=one_more).json()["activity_id"])
    assert len(demo.contacts[contact].tags) == 50
    assert done["state"] == "completed" and "limit of 50 tags" in str(done["activity_errors"])


def test_list_activities_newest_first_filtered_and_paged(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    body = {"source": {"all_active_contacts": True}, "tag_ids": [vip]}
    ids = []
    for _ in range(3):
        ids.append(cc.post(TAGGINGS[0], json=body).json()["activity_id"])
        clock.advance(1)
    listed = cc.get("/activities").json()
    assert [a["activity_id"] for a in listed["activities"]] == ids[::-1]
    clock.advance(ACTIVITY_SECONDS)
    assert len(cc.get("/activities", params={"state": "completed"}).json()["activities"]) == 3
    assert cc.get("/activities", params={"state": "failed"}).json()["activities"] == []
    assert cc.get("/activities", params={"state": "bogus"}).status_code == 400
    assert cc.get("/activities", params={"limit": 501}).status_code == 400
    first = cc.get("/activities", params={"limit": 2}).json()
    second = httpx.get(sb.url + first["_links"]["next"]["href"], headers=cc.headers).json()
    assert [a["activity_id"] for a in first["activities"] + second["activities"]] == ids[::-1]
    assert "next" not in second["_links"]


def test_activities_are_kept_ten_days(clock: FakeClock, cc: httpx.Client, demo: Account) -> None:
    body = {"source": {"all_active_contacts": True}, "tag_ids": [tag_id(demo, "VIP")]}
    activity_id = cc.post(TAGGINGS[0], json=body).json()["activity_id"]
    clock.advance(10 * 86_400 + 1)
    assert cc.get(f"/activities/{activity_id}").status_code == 404
    assert cc.get("/activities").json()["activities"] == []
    assert cc.get("/activities/no-such-activity").status_code == 404


def test_queued_activities_are_limited_to_1000(
    sb: SandboxServer, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    for _ in range(1000):
        sb.state.start_activity(demo, "contacts_taggings_add", contact_ids=[], tag_ids=[vip])
    body = {"source": {"all_active_contacts": True}, "tag_ids": [vip]}
    refused = cc.post(TAGGINGS[0], json=body)
    assert refused.status_code == 429
    assert "1,000 queued activities" in _message(refused)


@pytest.mark.parametrize("outcome", ["failed", "cancelled", "timed_out"])
def test_planned_outcomes_end_without_effect(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client, demo: Account, outcome: str
) -> None:
    new = _new_tag(cc, "Doomed")
    sb.faults.end_next_activity(outcome, ["Something went wrong"])
    body = {"source": {"all_active_contacts": True}, "tag_ids": [new]}
    done = finish(clock, cc, cc.post(TAGGINGS[0], json=body).json()["activity_id"])
    assert done["state"] == outcome and done["activity_errors"] == ["Something went wrong"]
    assert demo.tag_members[new] == set()
    again = finish(clock, cc, cc.post(TAGGINGS[0], json=body).json()["activity_id"])
    assert again["state"] == "completed" and demo.tag_members[new] == demo.active


def test_effect_is_applied_exactly_once(sb: SandboxServer, clock: FakeClock, demo: Account) -> None:
    vip = tag_id(demo, "VIP")
    contact = next(iter(demo.active))
    demo.contacts[contact].tags.discard(vip)
    demo.tag_members[vip].discard(contact)
    activity = sb.state.start_activity(
        demo, "contacts_taggings_add", contact_ids=[contact], tag_ids=[vip]
    )
    clock.advance(ACTIVITY_SECONDS + 1)
    sb.state.advance()
    assert activity.state == "completed" and vip in demo.contacts[contact].tags
    demo.contacts[contact].tags.discard(vip)  # if applied again, the tag would come back
    clock.advance(1)
    sb.state.advance()
    assert vip not in demo.contacts[contact].tags
