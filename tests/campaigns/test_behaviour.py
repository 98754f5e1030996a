"""bot.usecases.behaviour: who clicked, opened, did not open or bounced, and segment members,
resolved over real HTTP against the sandbox and checked against the sandbox's own reports."""

from __future__ import annotations

import pytest

from bot.devkit.sandbox.campaigns import CampaignActivityRecord
from bot.usecases.behaviour import Behaviour, contacts_who, segment_members
from bot.usecases.outcomes import Refused
from tests.support.campaigns import Reader, Tenant, client_for, new_tenant

SPRING = "Spring Newsletter 2026"


def _reported(tenant: Tenant, name: str) -> list[CampaignActivityRecord]:
    found = []
    for activity in tenant.campaign(name).activities:
        if activity.role in ("primary_email", "resend"):
            filled = tenant.book.activity(activity.campaign_activity_id)
            assert filled is not None
            found.append(filled)
    return found


def _ids(activities: list[CampaignActivityRecord], report: str, url_end: str = "") -> set[str]:
    return {
        row.contact.contact_id
        for activity in activities
        for row in activity.reports[report]
        if (row.link_url or "").endswith(url_end)
    }


def test_clickers_of_one_link_across_primary_and_resend(reader: Reader) -> None:
    selected = contacts_who(
        reader.client, "clicked", SPRING, link="https://example.com/pricing", clock=reader.clock
    )
    activities = _reported(reader.tenant, SPRING)
    expected = _ids(activities, "clicks", "/pricing")
    assert set(selected.contact_ids) == expected and len(selected.contact_ids) == len(expected)
    assert _ids(activities[1:], "clicks", "/pricing") - _ids(activities[:1], "clicks", "/pricing")
    assert selected.activities == ("primary_email", "resend")
    # the list, the campaign, then per activity its links and one page of clicks
    assert selected.calls == 6 == reader.tenant.requests("/v3/")
    assert selected.preview == (
        f"{len(expected)} contacts who clicked https://example.com/pricing in “{SPRING}” "
        "(from its primary_email and resend): finding them took 6 API calls."
    )


def test_clickers_of_any_link_openers_and_bounces(reader: Reader) -> None:
    activities = _reported(reader.tenant, SPRING)
    for behaviour, report in (
        (Behaviour.CLICKED, "clicks"),
        (Behaviour.OPENED, "unique_opens"),
        (Behaviour.BOUNCED, "bounces"),
    ):
        selected = contacts_who(reader.client, behaviour, SPRING.lower(), clock=reader.clock)
        assert set(selected.contact_ids) == _ids(activities, report), behaviour
        assert len(selected.contact_ids) == len(set(selected.contact_ids))


def test_not_opened_means_neither_the_primary_email_nor_its_resend(reader: Reader) -> None:
    selected = contacts_who(reader.client, "not-opened", SPRING, clock=reader.clock)
    activities = _reported(reader.tenant, SPRING)
    opened_resend = _ids(activities[1:], "unique_opens")
    assert opened_resend  # some who skipped the primary email opened the resend
    expected = _ids(activities, "didnotopens") - _ids(activities, "unique_opens")
    assert set(selected.contact_ids) == expected and not expected & opened_resend
    assert selected.description == f"who did not open in “{SPRING}”"


def test_clicks_past_500_rows_resolve_to_each_clicker_once(reader: Reader) -> None:
    selected = contacts_who(
        reader.client, "clicked", "Pricing Launch", link="example.com/pricing", clock=reader.clock
    )
    activities = _reported(reader.tenant, "Pricing Launch")
    rows = sum(
        1 for r in activities[0].reports["clicks"] if (r.link_url or "").endswith("/pricing")
    )
    assert rows > 500
    assert set(selected.contact_ids) == _ids(activities, "clicks", "/pricing")
    assert selected.calls == 2 + 1 + 2  # list, campaign, links, two pages of clicks


def test_an_unknown_campaign_is_explained_with_candidates(reader: Reader) -> None:
    with pytest.raises(Refused) as refused:
        contacts_who(reader.client, "opened", "Pricing Lunch", clock=reader.clock)
    assert refused.value.message == (
        "No email campaign is named “Pricing Lunch”. Closest: “Pricing Launch”."
    )


def test_a_link_not_in_the_campaign_is_explained_with_its_links(reader: Reader) -> None:
    with pytest.raises(Refused) as refused:
        contacts_who(
            reader.client, "clicked", SPRING, link="https://example.com/faq", clock=reader.clock
        )
    assert refused.value.message == (
        f"https://example.com/faq is not a link of “{SPRING}”. Its links: "
        "https://example.com/pricing, https://example.com/blog/spring, https://example.com/events."
    )
    assert reader.tenant.requests("/tracking/") == 0  # no report read for nothing


def test_a_campaign_without_reports_is_explained_before_any_report_call(reader: Reader) -> None:
    with pytest.raises(Refused) as refused:
        contacts_who(reader.client, "clicked", "holiday draft", clock=reader.clock)
    assert refused.value.message == (
        "“Holiday Draft” was never sent (it is Draft), so it has no reports of who clicked, "
        "opened or bounced."
    )
    assert reader.tenant.requests("/reports/") == 0


def test_bad_requests_are_sentences(reader: Reader) -> None:
    with pytest.raises(Refused, match="A link only narrows --clicked"):
        contacts_who(reader.client, "opened", SPRING, link="https://example.com/pricing")
    with pytest.raises(Refused, match="“forwarded” is not a behaviour"):
        contacts_who(reader.client, "forwarded", SPRING)
    with pytest.raises(Refused, match="2 email campaigns are named “member update”"):
        contacts_who(reader.client, "opened", "member update", clock=reader.clock)
    assert reader.tenant.requests("/v3/") == 1  # only the ambiguous name cost a call


def test_a_connection_without_campaign_data_is_told_to_reconnect(reader: Reader) -> None:
    narrow = new_tenant(reader.tenant.sb, contacts=20, scope="contact_data offline_access")
    with pytest.raises(Refused) as refused:
        contacts_who(client_for(narrow, reader.clock), "opened", SPRING, clock=reader.clock)
    assert "campaign_data" in refused.value.message and "/cctag connect" in refused.value.message


def test_segment_members_after_two_202s(reader: Reader) -> None:
    reader.tenant.sb.faults.segment_computing(times=2)
    told: list[tuple[int, float]] = []
    selected = segment_members(
        reader.client,
        "Active donors",
        on_waiting=lambda tries, wait: told.append((tries, wait)),
        clock=reader.clock,
    )
    assert set(selected.contact_ids) == reader.tenant.account.segments[2]
    assert told == [(1, 2.0), (2, 4.0)] and selected.calls == 4
    assert selected.preview.startswith(
        f"{len(selected.contact_ids)} contacts in the segment “Active donors”: "
    )


def test_unknown_segment_and_one_still_computing_are_sentences(reader: Reader) -> None:
    with pytest.raises(Refused, match="No segment is named or numbered “7”"):
        segment_members(reader.client, "7", clock=reader.clock)
    reader.tenant.sb.faults.segment_computing(times=3)
    with pytest.raises(Refused, match="still computing the segment “Engaged readers”"):
        segment_members(reader.client, "1", clock=reader.clock, segment_waits=(1.0, 1.0))
