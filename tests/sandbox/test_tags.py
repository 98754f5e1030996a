"""Tags: create, read, page, rename, delete, with the real API's validation and bodies."""

from __future__ import annotations

import httpx

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.sandbox import finish, tag_id


def _error(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"error_key", "error_message"}
    return dict(body[0])


def test_create_answers_201_with_the_tag(cc: httpx.Client) -> None:
    response = cc.post("/contact_tags", json={"name": "Gala 2026", "tag_source": "Slack"})
    assert response.status_code == 201
    tag = response.json()
    assert tag["name"] == "Gala 2026" and tag["tag_source"] == "Slack"
    assert {"tag_id", "created_at", "updated_at"} <= set(tag)
    assert cc.get(f"/contact_tags/{tag['tag_id']}").json()["name"] == "Gala 2026"


def test_duplicate_names_conflict_whatever_their_case(cc: httpx.Client) -> None:
    response = cc.post("/contact_tags", json={"name": "vip"})
    assert response.status_code == 409
    assert _error(response)["error_key"] == "contacts.api.conflict"


def test_invalid_names_are_refused(cc: httpx.Client) -> None:
    for name in ["", "   ", "x" * 256, "a<b", "a>b"]:
        response = cc.post("/contact_tags", json={"name": name})
        assert response.status_code == 400, name
        assert _error(response)["error_key"] == "contacts.api.validation.error"
    assert cc.post("/contact_tags", json={"name": "x" * 255}).status_code == 201


def test_body_must_be_json(cc: httpx.Client) -> None:
    plain = cc.post("/contact_tags", content="name=x", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert _error(plain)["error_key"] == "unsupported_media_type"
    broken = cc.post(
        "/contact_tags", content="{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


def test_an_account_holds_at_most_500_tags(cc: httpx.Client, demo: Account) -> None:
    for number in range(500 - len(demo.tags)):
        assert cc.post("/contact_tags", json={"name": f"t{number}"}).status_code == 201
    refused = cc.post("/contact_tags", json={"name": "one too many"})
    assert refused.status_code == 400
    assert "500" in _error(refused)["error_message"]


def test_paging_follows_next_links_to_the_end(sb: SandboxServer, cc: httpx.Client) -> None:
    for number in range(7):
        cc.post("/contact_tags", json={"name": f"paged {number}"})
    names: list[str] = []
    response = cc.get("/contact_tags", params={"limit": 3, "include_count": "true"})
    while True:
        body = response.json()
        assert all("contacts_count" in t for t in body["tags"])
        names += [t["name"] for t in body["tags"]]
        next_link = body["_links"].get("next")
        if next_link is None:
            break
        assert next_link["href"].startswith("/v3/contact_tags?limit=3&cursor=")
        response = httpx.get(sb.url + next_link["href"], headers=cc.headers)
    assert len(names) == len(set(names)) == 11  # four demo tags and seven new ones


def test_page_limits_and_cursors_are_checked(cc: httpx.Client) -> None:
    assert cc.get("/contact_tags", params={"limit": 0}).status_code == 400
    assert cc.get("/contact_tags", params={"limit": 501}).status_code == 400
    assert cc.get("/contact_tags", params={"limit": 500}).status_code == 200
    assert cc.get("/contact_tags", params={"cursor": "%%%"}).status_code == 400
    assert cc.get("/contact_tags", params={"include_count": "maybe"}).status_code == 400


def test_counts_say_how_many_contacts_carry_a_tag(cc: httpx.Client, demo: Account) -> None:
    vip = tag_id(demo, "VIP")
    tag = cc.get(f"/contact_tags/{vip}", params={"include_count": "true"}).json()
    assert tag["contacts_count"] == len(demo.tag_members[vip]) > 0
    assert "contacts_count" not in cc.get(f"/contact_tags/{vip}").json()


def test_unknown_tag_is_404(cc: httpx.Client) -> None:
    for method in ("GET", "DELETE"):
        response = cc.request(method, "/contact_tags/no-such-tag")
        assert response.status_code == 404
        assert _error(response)["error_key"] == "contacts.api.not.found"


def test_rename(cc: httpx.Client, demo: Account) -> None:
    vip = tag_id(demo, "VIP")
    renamed = cc.put(f"/contact_tags/{vip}", json={"name": "Very Important"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Very Important"
    assert cc.put(f"/contact_tags/{vip}", json={"name": "VERY important"}).status_code == 200
    assert cc.put(f"/contact_tags/{vip}", json={"name": "volunteer"}).status_code == 409
    changed_source = cc.put(f"/contact_tags/{vip}", json={"name": "X", "tag_source": "other"})
    assert changed_source.status_code == 400
    assert cc.put(f"/contact_tags/{vip}", json={"name": "a<b"}).status_code == 400


def test_delete_is_a_generic_activity_that_removes_the_tag(
    clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    vip = tag_id(demo, "VIP")
    tagged = set(demo.tag_members[vip])
    response = cc.delete(f"/contact_tags/{vip}")
    assert response.status_code == 202
    activity = response.json()
    assert activity["state"] == "initialized"
    assert activity["_links"]["self"]["href"] == f"/v3/activities/{activity['activity_id']}"
    assert cc.get(f"/contact_tags/{vip}").status_code == 200  # not before it completes
    done = finish(clock, cc, activity["activity_id"])
    assert done["state"] == "completed" and done["activity_errors"] == []
    assert cc.get(f"/contact_tags/{vip}").status_code == 404
    assert tagged and all(vip not in demo.contacts[c].tags for c in tagged)


def test_failed_tag_delete_reports_errors_as_the_contract_says(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    """DELETE's answer is an ActivityGeneric (errors as objects); GET /activities/{id} answers
    an Activity, whose errors the contract makes strings."""
    sb.faults.end_next_activity("failed", ["Tag is in use by an automation"])
    vip = tag_id(demo, "VIP")
    activity = cc.delete(f"/contact_tags/{vip}").json()
    assert activity["activity_errors"] == []
    done = finish(clock, cc, activity["activity_id"])
    assert done["state"] == "failed"
    assert done["activity_errors"] == ["Tag is in use by an automation"]
    assert cc.get(f"/contact_tags/{vip}").status_code == 200
