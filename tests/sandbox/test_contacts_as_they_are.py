"""Contacts, segments and activities as Constant Contact has them (the contract, the guide)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DELETED_EVERY, Account, iso
from tests.support.sandbox import ACTIVITY_SECONDS, tag_id

ALL: dict[str, str | int] = {"status": "all", "limit": 500}


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {c["contact_id"] for c in response.json()["contacts"]}


def _deleted(demo: Account) -> set[str]:
    return {cid for cid, c in demo.contacts.items() if c.deleted_at is not None}


def test_the_demo_data_has_deleted_and_unsubscribed_contacts(demo: Account) -> None:
    assert len(_deleted(demo)) == 200 // DELETED_EVERY
    statuses = {c.status for c in demo.contacts.values()}
    assert {"active", "unsubscribed", "deleted"} <= statuses


def test_the_default_listing_leaves_deleted_contacts_out(cc: httpx.Client, demo: Account) -> None:
    listed = _ids(cc.get("/contacts", params={"limit": 500}))
    assert listed == set(demo.contacts) - _deleted(demo)
    everyone = cc.get("/contacts", params=ALL)
    assert _ids(everyone) == set(demo.contacts)
    gone = [c for c in everyone.json()["contacts"] if c["contact_id"] in _deleted(demo)]
    assert gone and all("deleted_at" in c for c in gone)


def test_status_takes_a_comma_separated_list(cc: httpx.Client, demo: Account) -> None:
    both = _ids(cc.get("/contacts", params={"status": "unsubscribed,deleted", "limit": 500}))
    wanted = {cid for cid, c in demo.contacts.items() if c.status in ("unsubscribed", "deleted")}
    assert both == wanted and _deleted(demo) < both
    assert _ids(cc.get("/contacts", params={"status": "active", "limit": 500})) == demo.active


def test_email_matches_case_insensitively_and_deleted_only_with_status_all(
    cc: httpx.Client, demo: Account
) -> None:
    assert len(_ids(cc.get("/contacts", params={"email": "CONTACT7@Example.COM"}))) == 1
    deleted = f"contact{DELETED_EVERY}@example.com"
    assert _ids(cc.get("/contacts", params={"email": deleted})) == set()
    assert _ids(cc.get("/contacts", params={"email": deleted, "status": "all"})) == {
        demo.by_email[deleted]
    }


def test_date_filters(sb: SandboxServer, cc: httpx.Client, demo: Account) -> None:
    cutoff = sb.state.now() - timedelta(days=30)
    newer = _ids(cc.get("/contacts", params={**ALL, "created_after": iso(cutoff)}))
    assert newer and newer == {c for c, r in demo.contacts.items() if r.created_at > cutoff}
    older = _ids(cc.get("/contacts", params={**ALL, "created_before": iso(cutoff)}))
    assert older == set(demo.contacts) - newer
    changed = _ids(cc.get("/contacts", params={**ALL, "updated_after": iso(cutoff)}))
    assert changed == {c for c, r in demo.contacts.items() if r.updated_at > cutoff}
    assert changed > newer  # deleted contacts changed when they were deleted
    bad = cc.get("/contacts", params={"updated_after": "last tuesday"})
    assert bad.status_code == 400 and "ISO-8601" in bad.json()[0]["error_message"]


def test_segment_members_take_only_limit(cc: httpx.Client) -> None:
    response = cc.get("/contacts", params={"segment_id": 1, "status": "all"})
    assert response.status_code == 400 and "status" in response.json()[0]["error_message"]


def test_segments_answer_202_as_many_times_as_armed(sb: SandboxServer, cc: httpx.Client) -> None:
    sb.faults.segment_computing(times=3, segment_id=2)
    query = {"segment_id": 2, "limit": 500}
    codes = [cc.get("/contacts", params=query).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 200]
    assert cc.get("/contacts", params=query).status_code == 200


def test_segments_list_and_detail_over_demo_contacts(cc: httpx.Client, demo: Account) -> None:
    listed = cc.get("/segments").json()
    assert [s["segment_id"] for s in listed["segments"]] == [1, 2]
    assert "_links" not in listed  # no next page
    detail = cc.get("/segments/2").json()
    assert detail["name"] == "Active donors" and detail["segment_criteria"]
    assert demo.segments[2] and demo.segments[2] <= set(demo.contacts)
    paged = cc.get("/segments", params={"limit": "1"}).json()
    assert len(paged["segments"]) == 1 and paged["_links"]["next"]["href"].startswith("/v3/")


def test_percent_done_as_the_guide_shows_it(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    body = {"source": {"all_active_contacts": True}, "tag_ids": [tag_id(demo, "VIP")]}
    created: dict[str, Any] = cc.post("/activities/contacts_taggings_add", json=body).json()
    assert (created["state"], created["percent_done"]) == ("initialized", 1)
    seen = []
    for _ in range(10):
        clock.advance(ACTIVITY_SECONDS / 10)
        read = cc.get(f"/activities/{created['activity_id']}").json()
        seen.append((read["state"], read["percent_done"]))
    assert seen[-1] == ("completed", 100)
    percents = [p for _, p in seen]
    assert percents == sorted(percents) and all(p >= 1 for p in percents)


def test_ids_are_unique_across_runs(clock: FakeClock) -> None:
    handed_out: list[str] = []
    for _ in range(2):
        with SandboxServer(clock=clock, contacts=5, rate_per_second=1000.0) as sb:
            cc = httpx.Client(
                base_url=sb.base_url, headers={"Authorization": "Bearer sandbox-token"}
            )
            tag = cc.post("/contact_tags", json={"name": "Run"}).json()["tag_id"]
            body = {"source": {"all_active_contacts": True}, "tag_ids": [tag]}
            activity = cc.post("/activities/contacts_taggings_add", json=body).json()
            handed_out += [tag, activity["activity_id"]]
            cc.close()
    assert len(set(handed_out)) == 4
