"""The sandbox's campaigns, links, tracking reports and segments, over HTTP, per the schema."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.devkit.sandbox.campaigns import REPORT_TYPES, CampaignActivityRecord
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import SandboxState
from tests.campaigns.schema import check_answer
from tests.support.campaigns import Tenant, new_tenant

REPORTS = "/reports/email_reports/{campaign_activity_id}"


def _activity(
    tenant: Tenant, name: str, role: str = "primary_email", status: str = "Done"
) -> CampaignActivityRecord:
    return next(a for a in tenant.campaign(name, status).activities if a.role == role)


def _all_pages(sb: SandboxServer, cc: httpx.Client, path: str, **params: Any) -> list[Any]:
    """Every page's JSON, following `_links.next` as given."""
    pages = [cc.get(path, params=params).json()]
    while (href := pages[-1].get("_links", {}).get("next", {}).get("href")) is not None:
        pages.append(httpx.get(sb.url + href, headers=cc.headers).json())
    return pages


def test_every_answer_is_shaped_by_the_schema(sb: SandboxServer) -> None:
    # Enough contacts that the rarest report (opt-outs, 4% of openers) is never empty: each
    # tenant's account id, and so its draw, differs from run to run.
    tenant = new_tenant(sb, contacts=1000)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    with httpx.Client(base_url=sb.base_url, headers=headers, timeout=10) as cc:
        _shaped_by_the_schema(tenant, cc)


def _shaped_by_the_schema(tenant: Tenant, cc: httpx.Client) -> None:
    listed = cc.get("/emails").json()
    check_answer("/emails", listed)
    spring = tenant.campaign("Spring Newsletter 2026")
    check_answer("/emails/{campaign_id}", cc.get(f"/emails/{spring.campaign_id}").json())
    primary = _activity(tenant, "Spring Newsletter 2026").campaign_activity_id
    links = cc.get(f"/reports/email_reports/{primary}/links", params={"no_clicks": "true"})
    check_answer(f"{REPORTS}/links", links.json())
    for report in REPORT_TYPES:
        answer = cc.get(f"/reports/email_reports/{primary}/tracking/{report}", params={"limit": 5})
        assert answer.status_code == 200 and answer.json()["tracking_activities"], report
        check_answer(f"{REPORTS}/tracking/{report}", answer.json())
    check_answer("/segments", cc.get("/segments").json())
    check_answer("/segments/{segment_id}", cc.get("/segments/1").json())


def test_campaigns_list_newest_first_filtered_by_date_and_paged(
    tenant: Tenant, sb: SandboxServer, cc: httpx.Client
) -> None:
    pages = _all_pages(sb, cc, "/emails", limit=3)
    listed = [c for page in pages for c in page["campaigns"]]
    assert len(pages) == 3 and len(listed) == len(tenant.book.campaigns) == 8
    stamps = [c["updated_at"] for c in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert "campaign_activities" not in listed[0]  # the list has no activities; the detail does
    pricing = tenant.campaign("Pricing Launch")
    after = (pricing.updated_at).isoformat()
    newer = cc.get("/emails", params={"after_date": after}).json()["campaigns"]
    assert newer and all(
        c["updated_at"] > listed[stamps.index(max(stamps))]["created_at"] for c in newer
    )
    assert "Pricing Launch" not in {c["name"] for c in newer}
    older = cc.get("/emails", params={"before_date": after}).json()["campaigns"]
    assert {c["name"] for c in older} >= {"Spring Newsletter 2026", "Autumn Event Invitation"}
    assert len(newer) + len(older) == len(listed) - 1
    for bad in ({"limit": 0}, {"limit": 501}, {"after_date": "last week"}):
        assert cc.get("/emails", params=bad).status_code == 400, bad


def test_campaign_detail_has_its_activities(tenant: Tenant, cc: httpx.Client) -> None:
    spring = tenant.campaign("Spring Newsletter 2026")
    body = cc.get(f"/emails/{spring.campaign_id}").json()
    assert [a["role"] for a in body["campaign_activities"]] == [
        "primary_email",
        "permalink",
        "resend",
    ]
    assert cc.get("/emails/5b0c0bd5-0000-4000-8000-000000000000").status_code == 404


def test_clicks_page_past_500_rows_and_filter_by_link(
    tenant: Tenant, sb: SandboxServer, cc: httpx.Client
) -> None:
    activity = _activity(tenant, "Pricing Launch")
    url_id = next(u for u, url in activity.links.items() if url.endswith("/pricing"))
    path = f"/reports/email_reports/{activity.campaign_activity_id}/tracking/clicks"
    pages = _all_pages(sb, cc, path, url_id=url_id)
    rows = [row for page in pages for row in page["tracking_activities"]]
    assert len(pages) >= 2 and len(pages[0]["tracking_activities"]) == 500
    assert len(rows) > 500 and {r["url_id"] for r in rows} == {url_id}
    assert "url_id" in parse_qs(
        base64.urlsafe_b64decode(
            parse_qs(urlsplit(pages[0]["_links"]["next"]["href"]).query)["cursor"][0] + "=="
        ).decode()
    )
    clickers = {r["contact_id"] for r in rows}
    counts = cc.get(f"/reports/email_reports/{activity.campaign_activity_id}/links").json()
    pricing = next(c for c in counts["link_click_counts"] if c["url_id"] == url_id)
    assert pricing["unique_clicks"] == len(clickers) < len(rows)
    assert cc.get(path, params={"url_id": "pricing"}).status_code == 400
    assert cc.get(path, params={"limit": 501}).status_code == 400


def test_more_than_500_clickers_of_one_link_in_a_larger_account(sb: SandboxServer) -> None:
    from tests.support.campaigns import new_tenant

    big = new_tenant(sb, contacts=800)
    activity = _activity(big, "Pricing Launch")
    url_id = next(u for u, url in activity.links.items() if url.endswith("/pricing"))
    headers = {"Authorization": f"Bearer {big.token}"}
    with httpx.Client(base_url=sb.base_url, headers=headers) as cc:
        counts = cc.get(f"/reports/email_reports/{activity.campaign_activity_id}/links").json()
    pricing = next(c for c in counts["link_click_counts"] if c["url_id"] == url_id)
    assert pricing["unique_clicks"] > 500


def test_a_sent_campaign_accounts_for_every_recipient(tenant: Tenant) -> None:
    primary = _activity(tenant, "Spring Newsletter 2026")
    resend = _activity(tenant, "Spring Newsletter 2026", "resend")
    tenant.book.activity(primary.campaign_activity_id)  # fills the reports

    def ids(activity: CampaignActivityRecord, report: str) -> set[str]:
        return {row.contact.contact_id for row in activity.reports[report]}

    sent = ids(primary, "sends")
    assert sent == {c.contact_id for c in tenant.account.contacts.values() if c.is_active}
    opened, not_opened, bounced = (
        ids(primary, r) for r in ("unique_opens", "didnotopens", "bounces")
    )
    assert opened | not_opened | bounced == sent
    assert not (opened & not_opened) and not (opened & bounced) and not (not_opened & bounced)
    assert ids(resend, "sends") == not_opened  # resent to who did not open
    assert ids(primary, "clicks") <= opened


def test_reports_are_refused_for_permalinks_and_unknown_activities(
    tenant: Tenant, cc: httpx.Client
) -> None:
    permalink = _activity(tenant, "Spring Newsletter 2026", "permalink").campaign_activity_id
    refused = cc.get(f"/reports/email_reports/{permalink}/tracking/opens")
    assert refused.status_code == 404 and "primary_email" in refused.json()[0]["error_message"]
    assert cc.get(f"/reports/email_reports/{permalink}/links").status_code == 404
    unknown = "0b7c3c7e-0000-4000-8000-000000000000"
    assert cc.get(f"/reports/email_reports/{unknown}/tracking/clicks").status_code == 404
    assert cc.get("/reports/email_reports/not-a-uuid/tracking/clicks").status_code == 400


def test_a_draft_has_empty_reports(tenant: Tenant, cc: httpx.Client) -> None:
    draft = _activity(tenant, "Holiday Draft", "primary_email", status="Draft")
    path = f"/reports/email_reports/{draft.campaign_activity_id}/tracking/sends"
    assert cc.get(path).json() == {"tracking_activities": [], "_links": {}}


def test_bounces_filter_by_code(tenant: Tenant, cc: httpx.Client) -> None:
    activity = _activity(tenant, "Autumn Event Invitation")
    path = f"/reports/email_reports/{activity.campaign_activity_id}/tracking/bounces"
    every = cc.get(path).json()["tracking_activities"]
    code = every[0]["bounce_code"]
    only = cc.get(path, params={"bounce_code": code}).json()["tracking_activities"]
    assert only == [row for row in every if row["bounce_code"] == code]
    assert cc.get(path, params={"bounce_code": "Q"}).status_code == 400


def test_segments_listed_and_by_id(tenant: Tenant, cc: httpx.Client) -> None:
    by_name = cc.get("/segments", params={"sort_by": "name"}).json()["segments"]
    assert {s["name"] for s in by_name} == {"Active donors", "Engaged readers"}
    assert cc.get("/segments/2").json()["name"] == "Active donors"
    assert cc.get("/segments/99").status_code == 404


def test_segment_computing_answers_202_as_often_as_armed_over_http(
    tenant: Tenant, sb: SandboxServer, cc: httpx.Client
) -> None:
    armed = httpx.post(f"{sb.url}/_sandbox/faults", json={"kind": "segment_computing", "times": 2})
    assert armed.status_code == 200
    assert cc.get("/contacts", params={"email": "contact1@example.com"}).status_code == 200
    answers = [cc.get("/contacts", params={"segment_id": 1, "limit": 500}) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 200]
    check_answer("/contacts", answers[0].json(), status=202)
    members = {c["contact_id"] for c in answers[2].json()["contacts"]}
    assert members == tenant.account.segments[1]


def _oauth_token(sb: SandboxServer, scope: str) -> str:
    """A token granted `scope` through the sandbox's OAuth2, for an application of its own (the
    token endpoint takes one request a second per application)."""
    client_id, secret = f"app-{secrets.token_hex(6)}", secrets.token_hex(12)
    sb.state.register_client(client_id, secret)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect = "http://127.0.0.1:9/cc/oauth/callback"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": scope,
        "state": "s",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    location = httpx.get(f"{sb.auth_url}/authorize", params=query).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    answer = httpx.post(f"{sb.auth_url}/token", data=form, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == scope
    token: str = answer.json()["access_token"]
    return token


@pytest.mark.parametrize("path", ["/emails", "/reports/email_reports/{primary}/tracking/clicks"])
def test_campaigns_and_reports_need_the_campaign_data_scope(sb: SandboxServer, path: str) -> None:
    demo = sb.state.account()
    assert demo.campaigns is not None
    primary = next(
        a.campaign_activity_id
        for c in demo.campaigns.campaigns.values()
        for a in c.activities
        if a.role == "primary_email"
    )
    url = sb.base_url + path.format(primary=primary)
    without = _oauth_token(sb, "contact_data offline_access")
    refused = httpx.get(url, headers={"Authorization": f"Bearer {without}"})
    assert refused.status_code == 403 and "campaign_data" in refused.json()[0]["error_message"]
    with_scope = _oauth_token(sb, "contact_data campaign_data offline_access")
    assert httpx.get(url, headers={"Authorization": f"Bearer {with_scope}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": "Bearer sandbox-token"}).status_code == 200


def test_who_did_what_is_the_same_every_run_but_ids_are_not() -> None:
    def behaviour(state: SandboxState) -> tuple[dict[str, set[str]], set[str]]:
        book = state.account().campaigns
        assert book is not None
        who: dict[str, set[str]] = {}
        for campaign in book.campaigns.values():
            for activity in campaign.activities:
                filled = book.activity(activity.campaign_activity_id)
                assert filled is not None
                for report, rows in filled.reports.items():
                    key = f"{campaign.name}/{campaign.current_status}/{activity.role}/{report}"
                    who[key] = {row.contact.email for row in rows}
        return who, set(book.activities)

    first, first_ids = behaviour(SandboxState(contacts=200))
    second, second_ids = behaviour(SandboxState(contacts=200))
    assert first == second and any(first.values())
    assert not first_ids & second_ids
