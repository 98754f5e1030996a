"""A 50,000-contact account: tagging every active contact stays fast (indexes, set operations)."""

from __future__ import annotations

import time

import httpx

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer


def test_tag_all_active_contacts_of_50k_account() -> None:
    clock = FakeClock()
    started = time.perf_counter()
    with SandboxServer(
        contacts=50_000, clock=clock, activity_seconds=5.0, rate_per_second=100
    ) as sb:
        seeded = time.perf_counter() - started
        cc = httpx.Client(base_url=sb.base_url, headers={"Authorization": "Bearer sandbox-token"})
        account = sb.state.account()
        tag = cc.post("/contact_tags", json={"name": "Everyone"}).json()["tag_id"]
        body = {"source": {"all_active_contacts": True}, "tag_ids": [tag]}
        before = time.perf_counter()
        activity = cc.post("/activities/contacts_taggings_add", json=body).json()
        posted = time.perf_counter() - before
        clock.advance(5.1)
        before = time.perf_counter()
        done = cc.get(f"/activities/{activity['activity_id']}").json()
        applied = time.perf_counter() - before
        assert done["state"] == "completed"
        assert done["status"]["items_completed_count"] == len(account.active) > 40_000
        assert account.tag_members[tag] == account.active
        count = cc.get(f"/contact_tags/{tag}", params={"include_count": "true"}).json()
        assert count["contacts_count"] == len(account.active)
        page = cc.get("/contacts", params={"tags": tag, "limit": 500, "include_count": "true"})
        assert page.json()["contacts_count"] == len(account.active)
        cc.close()
    print(
        f"\n50k: seeded {seeded:.2f}s, POST {posted * 1000:.0f} ms, "
        f"completion (apply) {applied * 1000:.0f} ms"
    )
