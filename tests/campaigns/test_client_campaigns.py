"""bot.cc.campaigns over real HTTP against the sandbox: finding campaigns, reading reports
through their pages, and segments that take a while to compute."""

from __future__ import annotations

import pytest

from bot.cc.campaigns import (
    AmbiguousCampaign,
    SegmentStillComputing,
    UnknownCampaign,
    UnknownSegment,
    url_key,
)
from bot.cc.client import CCApi
from bot.cc.errors import UnexpectedResponse
from bot.cc.ratelimit import SpacingLimiter
from tests.support.campaigns import Reader, Tenant, client_for, new_tenant


def _sandbox_clickers(tenant: Tenant, name: str, url_end: str) -> tuple[set[str], int]:
    """Distinct clickers of a link in a campaign's primary email, and their click rows."""
    activity = next(a for a in tenant.campaign(name).activities if a.role == "primary_email")
    filled = tenant.book.activity(activity.campaign_activity_id)
    assert filled is not None
    rows = [r for r in filled.reports["clicks"] if (r.link_url or "").endswith(url_end)]
    return {r.contact.contact_id for r in rows}, len(rows)


def test_campaigns_listed_newest_first_through_pages(reader: Reader) -> None:
    campaigns = reader.campaigns()
    listed = campaigns.list_campaigns(page_size=3)
    assert campaigns.calls == 3 == reader.tenant.requests("/v3/emails")
    assert [c.name for c in listed[:3]] == ["Holiday Draft", "Weekly Digest", "Pricing Launch"]
    stamps = [c.updated_at for c in listed if c.updated_at is not None]
    assert len(stamps) == 8 and stamps == sorted(stamps, reverse=True)


def test_a_campaign_is_found_by_name_ignoring_case_with_its_activities(reader: Reader) -> None:
    campaigns = reader.campaigns()
    spring = campaigns.find_campaign("  spring   NEWSLETTER 2026 ")
    record = reader.tenant.campaign("Spring Newsletter 2026")
    by_role = {a.role: a.campaign_activity_id for a in record.activities}
    assert spring.campaign_id == record.campaign_id
    assert spring.primary_email_id == by_role["primary_email"]
    assert spring.resend_ids == [by_role["resend"]]
    assert [a.role for a in spring.reported_activities] == ["primary_email", "resend"]
    assert campaigns.calls == 2  # the list, then the campaign's activities


def test_an_unknown_campaign_names_the_closest(reader: Reader) -> None:
    with pytest.raises(UnknownCampaign) as refused:
        reader.campaigns().find_campaign("Spring Newsleter")
    assert refused.value.candidates[0] == "Spring Newsletter 2026"
    assert "No email campaign is named “Spring Newsleter”" in refused.value.message
    assert "“Spring Newsletter 2026”" in refused.value.message


def test_a_removed_campaign_gives_way_and_a_true_clash_is_ambiguous(reader: Reader) -> None:
    digest = reader.campaigns().find_campaign("weekly digest")
    assert digest.current_status == "Done"
    with pytest.raises(AmbiguousCampaign) as clash:
        reader.campaigns().find_campaign("Member update")
    assert {c.name for c in clash.value.candidates} == {"Member Update", "MEMBER UPDATE"}
    assert "2 email campaigns are named" in clash.value.message


def test_a_report_pages_past_500_rows_into_distinct_contacts(reader: Reader) -> None:
    campaigns = reader.campaigns()
    launch = campaigns.find_campaign("Pricing Launch")
    assert launch.primary_email_id is not None
    pricing = next(
        link
        for link in campaigns.links(launch.primary_email_id)
        if link.link_url.endswith("/pricing")
    )
    before = campaigns.calls
    read = campaigns.report_contacts(launch.primary_email_id, "clicks", url_id=pricing.url_id)
    clickers, rows = _sandbox_clickers(reader.tenant, "Pricing Launch", "/pricing")
    assert rows > 500 and read.rows == rows and read.pages == campaigns.calls - before >= 2
    assert set(read.contact_ids) == clickers and len(read.contact_ids) == len(clickers)
    assert pricing.unique_clicks == len(clickers)


def test_more_than_500_clickers_of_one_link(reader: Reader) -> None:
    big = new_tenant(reader.tenant.sb, contacts=800)
    campaigns = Reader(big, client_for(big, reader.clock), reader.clock).campaigns()
    launch = campaigns.find_campaign("Pricing Launch")
    assert launch.primary_email_id is not None
    pricing = next(
        link
        for link in campaigns.links(launch.primary_email_id)
        if link.link_url.endswith("/pricing")
    )
    read = campaigns.report_contacts(launch.primary_email_id, "clicks", url_id=pricing.url_id)
    clickers, _ = _sandbox_clickers(big, "Pricing Launch", "/pricing")
    assert len(read.contact_ids) > 500 and set(read.contact_ids) == clickers


def test_a_slow_report_is_asked_again(tenant: Tenant, reader: Reader) -> None:
    impatient = Reader(tenant, client_for(tenant, reader.clock, timeout=0.2), reader.clock)
    campaigns = impatient.campaigns()
    spring = campaigns.find_campaign("Spring Newsletter 2026")
    assert spring.primary_email_id is not None
    tenant.sb.faults.delay(0.6, path="/tracking/bounces", times=1)
    read = campaigns.report_contacts(spring.primary_email_id, "bounces")
    activity = tenant.book.activity(spring.primary_email_id)
    assert activity is not None
    assert set(read.contact_ids) == {r.contact.contact_id for r in activity.reports["bounces"]}
    assert tenant.requests("/tracking/bounces") == 2 and reader.clock.sleeps  # one backoff


def test_segments_by_id_or_name_and_unknown_ones(reader: Reader) -> None:
    campaigns = reader.campaigns()
    assert campaigns.find_segment("2").name == "Active donors"
    assert campaigns.find_segment("engaged READERS").segment_id == 1
    with pytest.raises(UnknownSegment) as refused:
        campaigns.find_segment("Engaged")
    assert refused.value.candidates == ["Engaged readers"]
    assert campaigns.calls == 3  # one GET /segments each


def test_a_segment_that_answers_202_twice_is_waited_for(reader: Reader) -> None:
    campaigns = reader.campaigns()
    segment = campaigns.find_segment("Engaged readers")
    reader.tenant.sb.faults.segment_computing(times=2, segment_id=1)
    told: list[tuple[int, float]] = []
    members = campaigns.segment_member_ids(segment, on_waiting=lambda n, s: told.append((n, s)))
    assert set(members) == reader.tenant.account.segments[1] and len(members) == len(set(members))
    assert told == [(1, 2.0), (2, 4.0)] and reader.clock.sleeps == [2.0, 4.0]
    assert reader.tenant.requests("/v3/contacts") == 3 and campaigns.calls == 4


def test_a_segment_that_never_finishes_is_given_up_in_a_sentence(reader: Reader) -> None:
    campaigns = reader.campaigns(segment_waits=(1.0, 2.0))
    segment = campaigns.find_segment("1")
    reader.tenant.sb.faults.segment_computing(times=5)
    with pytest.raises(SegmentStillComputing) as given_up:
        campaigns.segment_member_ids(segment)
    assert "still computing the segment “Engaged readers” after 3 tries over 3 seconds" in (
        given_up.value.message
    )
    assert reader.clock.sleeps == [1.0, 2.0]


def test_segment_members_page_by_500(reader: Reader) -> None:
    big = new_tenant(reader.tenant.sb, contacts=1500)
    campaigns = Reader(big, client_for(big, reader.clock), reader.clock).campaigns()
    segment = campaigns.find_segment("Engaged readers")
    assert len(big.account.segments[1]) > 500
    computing: list[int] = []
    members = campaigns.segment_member_ids(segment, on_waiting=lambda n, _: computing.append(n))
    assert set(members) == big.account.segments[1]
    assert campaigns.calls == 1 + len(computing) + -(-len(members) // 500)


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("https://example.com/pricing", "https://example.com/pricing"),
        ("example.com/pricing/", "https://www.Example.com/pricing"),
        ("HTTP://EXAMPLE.COM/pricing", "https://example.com/pricing"),
    ],
)
def test_link_urls_compare_loosely(typed: str, listed: str) -> None:
    assert url_key(typed) == url_key(listed)
    assert url_key("https://example.com/Pricing") != url_key(listed)


def test_paging_links_stay_on_the_api_host() -> None:
    api = CCApi("https://api.cc.email/v3", SpacingLimiter(rate_per_second=1.0))
    assert api.resolve_href("/v3/emails?cursor=abc") == "https://api.cc.email/v3/emails?cursor=abc"
    assert api.resolve_href("/contacts-service/v3/accounts/1/contacts?cursor=x") == (
        "https://api.cc.email/contacts-service/v3/accounts/1/contacts?cursor=x"
    )
    with pytest.raises(UnexpectedResponse, match="another host"):
        api.resolve_href("https://elsewhere.example/v3/emails?cursor=abc")
    with pytest.raises(UnexpectedResponse, match="another host"):
        api.resolve_href("//elsewhere.example/v3/emails")
    api.close()
