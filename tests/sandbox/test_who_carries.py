"""Who carries a tag or is on a list, as the published contract serves it: `GET /contacts`
with `tags`, `lists`, `include=taggings,list_memberships` and `include_count`, paged by
`_links.next`; `GET /contact_tags?include_count=true`; and a contact whose tags or lists an
activity changed is found by `updated_after` (what keeps the contact index's taggings fresh).
"""

from __future__ import annotations

import httpx

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account, iso
from tests.support.sandbox import finish, list_id, tag_id


def _all_pages(sb: SandboxServer, cc: httpx.Client, params: dict[str, str | int]) -> list[dict]:
    response = cc.get("/contacts", params=params)
    found: list[dict] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["contacts"]
        if "next" not in body["_links"]:
            return found
        response = httpx.get(sb.url + body["_links"]["next"]["href"], headers=cc.headers)


def test_a_tags_members_page_by_page_with_their_taggings(
    sb: SandboxServer, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    query: dict[str, str | int] = {
        "tags": vip,
        "status": "all",
        "limit": 7,
        "include": "taggings,list_memberships",
        "include_count": "true",
    }
    first = cc.get("/contacts", params=query).json()
    assert first["contacts_count"] == len(demo.tag_members[vip]) > 7
    found = _all_pages(sb, cc, query)
    assert {c["contact_id"] for c in found} == demo.tag_members[vip]
    assert all(vip in c["taggings"] for c in found)
    assert all(set(c["list_memberships"]) == demo.contacts[c["contact_id"]].lists for c in found)


def test_a_lists_members_and_every_tags_count(
    sb: SandboxServer, cc: httpx.Client, demo: Account
) -> None:
    donors = list_id(demo, "Donors")
    query: dict[str, str | int] = {"lists": donors, "limit": 500, "include": "list_memberships"}
    found = _all_pages(sb, cc, {**query, "status": "all"})
    assert {c["contact_id"] for c in found} == demo.list_members[donors]
    tags = cc.get("/contact_tags", params={"include_count": "true", "limit": 500}).json()["tags"]
    assert {t["tag_id"]: t["contacts_count"] for t in tags} == {
        t: len(demo.tag_members.get(t, ())) for t in demo.tags
    }
    plain = cc.get("/contact_tags", params={"limit": 500}).json()["tags"]
    assert all("contacts_count" not in t for t in plain)


def test_a_tagging_updates_the_contacts_it_changed(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    untagged = sorted(c for c in demo.active if c not in demo.tag_members[vip])[:5]
    tagged = sorted(demo.tag_members[vip] & demo.active)[:3]
    clock.advance(60)
    since = iso(clock.now())
    clock.advance(1)
    body = {"source": {"contact_ids": untagged + tagged}, "tag_ids": [vip]}
    started = cc.post("/activities/contacts_taggings_add", json=body).json()
    assert finish(clock, cc, started["activity_id"])["state"] == "completed"
    query: dict[str, str | int] = {
        "updated_after": since,
        "status": "all",
        "limit": 500,
        "include": "taggings",
    }
    changed = cc.get("/contacts", params=query).json()["contacts"]
    # Only those whose tags changed: the three that carried it already were not updated.
    assert {c["contact_id"] for c in changed} == set(untagged)
    assert all(vip in c["taggings"] for c in changed)


def test_the_client_pages_a_tags_members_500_a_call(sb: SandboxServer, demo: Account) -> None:
    vip = tag_id(demo, "VIP")
    api = CCApi(sb.base_url, SpacingLimiter(1000.0))
    client = api.for_account(StaticTokens(sb.access_token))
    before = sb.state.request_count("/contacts")
    pages = list(client.iter_members(tag_id=vip))
    assert sb.state.request_count("/contacts") - before == len(pages) == 1
    assert {c.contact_id for page in pages for c in page.contacts} == demo.tag_members[vip]
    assert all(vip in (c.taggings or []) for page in pages for c in page.contacts)
    api.close()
