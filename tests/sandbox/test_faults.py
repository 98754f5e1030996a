"""Fault injection, in-process and over HTTP: 5xx, 429, slow answers, lost answers, outcomes."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.sandbox import finish, tag_id


def test_fail_answers_5xx_and_does_nothing(
    sb: SandboxServer, cc: httpx.Client, demo: Account
) -> None:
    sb.faults.fail(path="/contact_tags", method="POST", times=2, status=503)
    for _ in range(2):
        response = cc.post("/contact_tags", json={"name": "Never"})
        assert response.status_code == 503
        assert response.json()[0]["error_key"] == "server.error"
    assert demo.tag_by_name("Never") is None
    assert cc.get("/contact_tags").status_code == 200  # GET does not match the rule
    assert cc.post("/contact_tags", json={"name": "Never"}).status_code == 201


def test_throttle_answers_429(sb: SandboxServer, cc: httpx.Client) -> None:
    sb.faults.throttle(path="/activities/")
    throttled = cc.get("/activities/anything")
    assert throttled.status_code == 429 and throttled.json()["error_key"] == "throttled"
    assert cc.get("/activities/anything").status_code == 404


def test_delay_answers_late(sb: SandboxServer, cc: httpx.Client) -> None:
    sb.faults.delay(0.3, path="/contact_lists")
    started = time.monotonic()
    assert cc.get("/contact_lists").status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        sb.faults.delay(0.5, path="/contact_lists")
        cc.get("/contact_lists", timeout=0.1)


def test_commit_then_answer_late_loses_the_answer_but_not_the_effect(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    sb.faults.commit_then_delay(0.5, path="/activities/contacts_taggings_add")
    body = {"source": {"all_active_contacts": True}, "tag_ids": [tag_id(demo, "VIP")]}
    with pytest.raises(httpx.ReadTimeout):
        cc.post("/activities/contacts_taggings_add", json=body, timeout=0.1)
    activities = cc.get("/activities").json()["activities"]
    assert len(activities) == 1  # the client can find what it started
    done = finish(clock, cc, activities[0]["activity_id"])
    assert done["state"] == "completed"
    assert demo.tag_members[tag_id(demo, "VIP")] >= demo.active


def test_expire_token(sb: SandboxServer, cc: httpx.Client) -> None:
    sb.state.add_access_token("doomed")
    headers = {"Authorization": "Bearer doomed"}
    assert cc.get("/contact_tags", headers=headers).status_code == 200
    sb.faults.expire_token("doomed")
    assert cc.get("/contact_tags", headers=headers).status_code == 401


def test_faults_over_http(
    sb: SandboxServer, clock: FakeClock, cc: httpx.Client, demo: Account
) -> None:
    control = f"{sb.url}/_sandbox/faults"
    armed = httpx.post(control, json={"kind": "fail", "path": "/contact_tags", "method": "GET"})
    assert armed.status_code == 200 and armed.json()["armed"][0]["kind"] == "fail"
    assert cc.get("/contact_tags").status_code == 500
    httpx.post(
        control,
        json={"kind": "end_next_activity", "state": "timed_out", "errors": ["took too long"]},
    )
    body = {"source": {"all_active_contacts": True}, "tag_ids": [tag_id(demo, "VIP")]}
    done = finish(
        clock, cc, cc.post("/activities/contacts_taggings_add", json=body).json()["activity_id"]
    )
    assert done["state"] == "timed_out" and done["activity_errors"] == ["took too long"]
    httpx.post(control, json={"kind": "throttle", "times": 3})
    assert httpx.delete(control).json() == {"armed": []}
    assert cc.get("/contact_tags").status_code == 200
    httpx.post(control, json={"kind": "expire_token", "token": "sandbox-token"})
    assert cc.get("/contact_tags").status_code == 401
    assert httpx.post(control, json={"kind": "nonsense"}).status_code == 400
    assert (
        httpx.post(control, json={"kind": "end_next_activity", "state": "processing"}).status_code
        == 400
    )


def test_faults_apply_to_the_token_endpoint(sb: SandboxServer) -> None:
    sb.faults.fail(path="/token", status=502)
    response = httpx.post(f"{sb.auth_url}/token", data={"grant_type": "refresh_token"})
    assert response.status_code == 502
