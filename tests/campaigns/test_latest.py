"""`latest` as a campaign source: the account's most recently sent email campaign, read from
its summary report (sorted by `last_sent_date`) over real HTTP against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from bot.usecases.behaviour import contacts_who
from bot.usecases.outcomes import Refused
from tests.support.campaigns import Reader, Tenant

# The demo campaigns sent: Weekly Digest 3 days ago, Pricing Launch 8, Spring Newsletter's
# resend 16 (its primary email 20); Holiday Draft, a day old, was never sent.
LATEST = "Weekly Digest"


def test_the_summary_report_lists_sent_campaigns_last_sent_first(
    cc: httpx.Client, tenant: Tenant
) -> None:
    answer = cc.get("/reports/summary_reports/email_campaign_summaries", params={"limit": 3})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["bulk_email_campaign_summaries"]
    names = [tenant.book.campaigns[row["campaign_id"]].name for row in rows]
    assert names == [LATEST, "Pricing Launch", "Spring Newsletter 2026"]
    dates = [row["last_sent_date"] for row in rows]
    assert dates == sorted(dates, reverse=True)
    assert rows[0]["unique_counts"]["sends"] > 0
    assert (
        cc.get(
            "/reports/summary_reports/email_campaign_summaries", params={"limit": 501}
        ).status_code
        == 400
    )


def test_latest_is_the_most_recently_sent_campaign(reader: Reader) -> None:
    latest = contacts_who(reader.client, "not-opened", "latest", clock=reader.clock)
    # the summary (one row) and the campaign itself: no listing of every campaign
    assert reader.tenant.requests("/summary_reports/") == 1
    assert reader.tenant.requests("/v3/emails") == 1
    named = contacts_who(reader.client, "not-opened", LATEST, clock=reader.clock)
    assert latest.contact_ids == named.contact_ids and latest.contact_ids
    assert latest.description == f"who did not open in “{LATEST}”"


def test_an_account_that_never_sent_has_no_latest(reader: Reader) -> None:
    for campaign in reader.tenant.book.campaigns.values():
        campaign.last_sent_at = None
    with pytest.raises(Refused, match="sent no email campaign yet"):
        contacts_who(reader.client, "opened", "LATEST", clock=reader.clock)
