"""Email campaigns, their tracking reports, and segments: the sandbox's "who did what".

Seeded per account over its demo contacts (`seed_campaigns`, deterministic for a seed; a
campaign's reports are filled on first use, over the contacts active then):
- "Spring Newsletter 2026": sent, three links, bounces, and a `resend` to its non-openers;
- "Pricing Launch": most recipients click its pricing link several times (its clicks report
  pages past 500 rows; past 500 distinct clickers once the account has ~700 active contacts);
- "Autumn Event Invitation": sent, no resend;
- "Holiday Draft": a draft, never sent: its reports are empty;
- "Weekly Digest" twice (one `Removed`), "Member Update" and "MEMBER UPDATE": names that clash.
Every campaign has a `permalink` activity too, which has no reports (404), as in the API.

Reports and campaigns need the `campaign_data` scope (403 without it); GET /segments needs
only `contact_data`, which every sandbox token has. Faults: a slow report is
`faults.delay(seconds, path="/tracking/clicks")`; a segment still being computed is
`faults.segment_computing(times=N)` (GET /contacts?segment_id= answers 202 N times).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.devkit.sandbox.paging import page_of, parse_bool, parse_int, read_page
from bot.devkit.sandbox.state import SandboxError, iso

if TYPE_CHECKING:
    from bot.devkit.sandbox.api import Answer, Call, Handler
    from bot.devkit.sandbox.state import Account, ContactRecord

CAMPAIGN_SCOPE = "campaign_data"
REPORTED_ROLES = ("primary_email", "resend")
MAX_REPORT_PAGE = 500
MAX_EMAILS_PAGE = 500
MAX_SEGMENTS_PAGE = 1000
BOUNCE_CODES = ("B", "D", "F", "S", "V", "X", "Z")
REPORT_TYPES = {
    "sends": "em_sends",
    "opens": "em_opens",
    "unique_opens": "em_opens",
    "didnotopens": "em_didnotopens",
    "clicks": "em_clicks",
    "forwards": "em_forwards",
    "optouts": "em_optouts",
    "bounces": "em_bounces",
}


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    days_ago: float
    links: tuple[str, ...] = ()
    status: str = "Done"
    open_share: float = 0.45
    click_share: float = 0.4
    clicks_per_link: tuple[int, int] = (1, 2)
    bounce_share: float = 0.03
    resend_after_days: float | None = None


DEMO_CAMPAIGNS = (
    CampaignSpec(
        "Spring Newsletter 2026",
        days_ago=20,
        links=(
            "https://example.com/pricing",
            "https://example.com/blog/spring",
            "https://example.com/events",
        ),
        resend_after_days=4,
    ),
    CampaignSpec(
        "Pricing Launch",
        days_ago=8,
        links=("https://example.com/pricing", "https://example.com/faq"),
        open_share=0.95,
        click_share=0.95,
        clicks_per_link=(3, 5),
        bounce_share=0.01,
    ),
    CampaignSpec(
        "Autumn Event Invitation",
        days_ago=60,
        links=("https://example.com/events/autumn", "https://example.com/rsvp"),
        bounce_share=0.06,
    ),
    CampaignSpec(
        "Holiday Draft", days_ago=1, links=("https://example.com/holiday",), status="Draft"
    ),
    CampaignSpec(
        "Weekly Digest", days_ago=90, links=("https://example.com/digest",), status="Removed"
    ),
    CampaignSpec("Weekly Digest", days_ago=3, links=("https://example.com/digest",)),
    CampaignSpec("Member Update", days_ago=30, links=("https://example.com/members",)),
    CampaignSpec("MEMBER UPDATE", days_ago=29, links=("https://example.com/members",)),
)


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class TrackingRow:
    contact: ContactRecord
    at: datetime
    device_type: str | None = None
    url_id: str | None = None
    link_url: str | None = None
    bounce_code: str | None = None


@dataclass
class CampaignActivityRecord:
    campaign_activity_id: str
    role: str
    links: dict[str, str] = field(default_factory=dict)  # url_id → URL
    reports: dict[str, list[TrackingRow]] = field(default_factory=dict)  # newest first


@dataclass
class CampaignRecord:
    campaign_id: str
    name: str
    current_status: str
    created_at: datetime
    updated_at: datetime
    activities: list[CampaignActivityRecord]
    # Fills the reports when first asked for: 50,000 contacts would slow every start-up.
    send: Callable[[], None] | None = None
    last_sent_at: datetime | None = None  # its primary email's send, or its resend's


@dataclass
class CampaignBook:
    """An account's email campaigns, indexed by campaign and by campaign activity."""

    seeded_at: datetime
    campaigns: dict[str, CampaignRecord] = field(default_factory=dict)
    activities: dict[str, CampaignActivityRecord] = field(default_factory=dict)
    _campaign_of: dict[str, CampaignRecord] = field(default_factory=dict)

    def add(self, campaign: CampaignRecord) -> None:
        self.campaigns[campaign.campaign_id] = campaign
        for activity in campaign.activities:
            self.activities[activity.campaign_activity_id] = activity
            self._campaign_of[activity.campaign_activity_id] = campaign

    def sent(self, campaign: CampaignRecord) -> CampaignRecord:
        """The campaign with its reports filled."""
        if campaign.send is not None:
            campaign.send()
            campaign.send = None
        return campaign

    def activity(self, campaign_activity_id: str) -> CampaignActivityRecord | None:
        """The activity with its reports filled."""
        activity = self.activities.get(campaign_activity_id)
        if activity is not None:
            self.sent(self._campaign_of[campaign_activity_id])
        return activity


# ---------------------------------------------------------------- seeding


class _Seeder:
    def __init__(self, account: Account, now: datetime, rng: random.Random) -> None:
        self.account = account
        self.now = now
        self.rng = rng

    # Ids are random, not drawn from the seed: a restarted sandbox never repeats one. Who
    # opened, clicked or bounced is drawn from the seed, so it is the same every run.
    def new_id(self) -> str:
        return str(uuid.uuid4())

    def url_id(self) -> str:
        return str(10**12 + uuid.uuid4().int % (9 * 10**12))

    def campaign(self, spec: CampaignSpec) -> CampaignRecord:
        sent_at = self.now - timedelta(days=spec.days_ago)
        sent = spec.status not in ("Draft", "Scheduled")
        primary = self.activity("primary_email", spec.links)
        activities = [primary, self.activity("permalink", ())]
        resend = None
        if sent and spec.resend_after_days is not None:
            resend = self.activity("resend", spec.links)
            activities.append(resend)
        updated = sent_at + timedelta(days=spec.resend_after_days or 0, hours=1)
        record = CampaignRecord(
            self.new_id(), spec.name, spec.status, sent_at - timedelta(days=2), updated, activities
        )
        if sent:
            sender = _Sender(self.account, spec, random.Random(self.rng.getrandbits(64)))
            record.send = lambda: sender.send_all(primary, resend, sent_at)
            resent = timedelta(days=spec.resend_after_days or 0) if resend else timedelta()
            record.last_sent_at = sent_at + resent
        return record

    def activity(self, role: str, links: Sequence[str]) -> CampaignActivityRecord:
        reported = role in REPORTED_ROLES
        return CampaignActivityRecord(
            self.new_id(),
            role,
            links={self.url_id(): url for url in links} if reported else {},
            reports={name: [] for name in REPORT_TYPES} if reported else {},
        )


class _Sender:
    """Fills a sent campaign's reports over the account's active contacts."""

    def __init__(self, account: Account, spec: CampaignSpec, rng: random.Random) -> None:
        self.account = account
        self.spec = spec
        self.rng = rng

    def send_all(
        self,
        primary: CampaignActivityRecord,
        resend: CampaignActivityRecord | None,
        sent_at: datetime,
    ) -> None:
        recipients = [c for c in self.account.contacts.values() if c.is_active]
        non_openers = self.send(primary, recipients, sent_at)
        if resend is not None and self.spec.resend_after_days is not None:
            self.send(resend, non_openers, sent_at + timedelta(days=self.spec.resend_after_days))

    def send(
        self,
        activity: CampaignActivityRecord,
        recipients: Sequence[ContactRecord],
        sent_at: datetime,
    ) -> list[ContactRecord]:
        """Fill the activity's reports; returns the delivered recipients who did not open."""
        rng, reports = self.rng, activity.reports
        not_opened: list[ContactRecord] = []
        for contact in recipients:
            reports["sends"].append(TrackingRow(contact, sent_at))
            if rng.random() < self.spec.bounce_share:
                code = rng.choice(BOUNCE_CODES)
                bounced_at = sent_at + timedelta(minutes=rng.randint(1, 30))
                reports["bounces"].append(TrackingRow(contact, bounced_at, bounce_code=code))
                continue
            if rng.random() >= self.spec.open_share:
                reports["didnotopens"].append(TrackingRow(contact, sent_at))
                not_opened.append(contact)
                continue
            self.open(activity, contact, sent_at)
        for rows in reports.values():
            rows.sort(key=lambda row: row.at, reverse=True)
        return not_opened

    def open(
        self,
        activity: CampaignActivityRecord,
        contact: ContactRecord,
        sent_at: datetime,
    ) -> None:
        rng, reports = self.rng, activity.reports
        device = rng.choice(("computer", "mobile"))
        opened = [
            sent_at + timedelta(minutes=rng.randint(5, 4000)) for _ in range(rng.randint(1, 3))
        ]
        reports["opens"].extend(TrackingRow(contact, at, device) for at in opened)
        reports["unique_opens"].append(TrackingRow(contact, max(opened), device))
        if rng.random() < 0.08:
            reports["forwards"].append(TrackingRow(contact, max(opened)))
        if rng.random() < 0.04:
            reports["optouts"].append(TrackingRow(contact, max(opened)))
        if not activity.links or rng.random() >= self.spec.click_share:
            return
        url_ids = list(activity.links)
        # The first link draws the clicks; the others some of them.
        clicked = [url_ids[0], *(u for u in url_ids[1:] if rng.random() < 0.3)]
        for url_id in clicked:
            for _ in range(rng.randint(*self.spec.clicks_per_link)):
                at = min(opened) + timedelta(seconds=rng.randint(1, 3600))
                row = TrackingRow(contact, at, device, url_id, activity.links[url_id])
                reports["clicks"].append(row)


def seed_campaigns(account: Account, now: datetime, rng: random.Random) -> CampaignBook:
    """The demo campaigns of an account, over its contacts as they are now."""
    seeder = _Seeder(account, now, rng)
    book = CampaignBook(seeded_at=now)
    for spec in DEMO_CAMPAIGNS:
        book.add(seeder.campaign(spec))
    return book


# ---------------------------------------------------------------- JSON shapes


def campaign_summary_json(campaign: CampaignRecord) -> dict[str, Any]:
    """EmailCampaigns, as GET /emails lists them (without activities)."""
    return {
        "campaign_id": campaign.campaign_id,
        "created_at": iso(campaign.created_at),
        "current_status": campaign.current_status,
        "name": campaign.name,
        "type": "NEWSLETTER",
        "type_code": 10,
        "updated_at": iso(campaign.updated_at),
    }


def campaign_json(campaign: CampaignRecord) -> dict[str, Any]:
    """EmailCampaign, as GET /emails/{campaign_id} answers it."""
    activities = [
        {"campaign_activity_id": a.campaign_activity_id, "role": a.role}
        for a in campaign.activities
    ]
    return {**campaign_summary_json(campaign), "campaign_activities": activities}


def tracking_row_json(row: TrackingRow, activity_id: str, report: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact_id": row.contact.contact_id,
        "campaign_activity_id": activity_id,
        "tracking_activity_type": REPORT_TYPES[report],
        "email_address": row.contact.email,
        "first_name": row.contact.first_name,
        "last_name": row.contact.last_name,
        "created_time": iso(row.at),
    }
    if row.device_type is not None and report in ("opens", "unique_opens", "clicks"):
        body["device_type"] = row.device_type
    if report == "clicks":
        body["url_id"] = row.url_id
        body["link_url"] = row.link_url
    if report == "bounces":
        body["bounce_code"] = row.bounce_code
        body["current_email_address"] = row.contact.email
    return body


# ---------------------------------------------------------------- handlers


def _book(call: Call) -> CampaignBook:
    if CAMPAIGN_SCOPE not in call.scopes:
        raise SandboxError(403, "The access token lacks the campaign_data scope", "forbidden.scope")
    book = call.account.campaigns
    if book is None:
        raise SandboxError(404, "No email campaigns")
    return book


def _date_param(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SandboxError(400, f"{name} must be an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        raise SandboxError(400, f"{name} must carry a time zone")
    return moment


def list_emails(call: Call) -> Answer:
    book = _book(call)
    page = read_page(call.query, default_limit=50, max_limit=MAX_EMAILS_PAGE)
    after = _date_param(page.params, "after_date")
    before = _date_param(page.params, "before_date")
    chosen = [
        c
        for c in sorted(book.campaigns.values(), key=lambda c: c.updated_at, reverse=True)
        if (after is None or c.updated_at > after) and (before is None or c.updated_at < before)
    ]
    campaigns, links = page_of(chosen, page, "/v3/emails")
    return 200, {"campaigns": [campaign_summary_json(c) for c in campaigns], "_links": links}


def get_email(call: Call) -> Answer:
    campaign = _book(call).campaigns.get(call.path_params["campaign_id"])
    if campaign is None:
        raise SandboxError(404, "Email campaign not found", "campaign.not.found")
    return 200, campaign_json(campaign)


def _reported_activity(call: Call) -> CampaignActivityRecord:
    wanted = call.path_params["campaign_activity_id"]
    try:
        uuid.UUID(wanted)
    except ValueError:
        raise SandboxError(400, "campaign_activity_id must be a UUID") from None
    activity = _book(call).activity(wanted)
    if activity is None:
        raise SandboxError(404, "Campaign activity not found", "campaign.activity.not.found")
    if activity.role not in REPORTED_ROLES:
        raise SandboxError(
            404,
            f"Reports exist for primary_email and resend activities only, not {activity.role}",
            "campaign.activity.not.reported",
        )
    return activity


def email_links(call: Call) -> Answer:
    activity = _reported_activity(call)
    no_clicks = parse_bool(call.query.get("no_clicks"), "no_clicks")
    clickers: dict[str, set[str]] = {url_id: set() for url_id in activity.links}
    for row in activity.reports["clicks"]:
        clickers[row.url_id or ""].add(row.contact.contact_id)
    counts = [
        {"link_url": url, "url_id": url_id, "unique_clicks": len(clickers[url_id])}
        for url_id, url in activity.links.items()
        if no_clicks or clickers[url_id]
    ]
    return 200, {
        "campaign_activity_id": activity.campaign_activity_id,
        "link_click_counts": counts,
    }


def _report_filter(report: str, params: Mapping[str, str]) -> Callable[[TrackingRow], bool]:
    if report == "clicks" and params.get("url_id"):
        url_id = str(parse_int(params["url_id"], "url_id", 0))
        return lambda row: row.url_id == url_id
    if report == "bounces" and params.get("bounce_code"):
        code = params["bounce_code"]
        if code not in BOUNCE_CODES:
            raise SandboxError(400, f"bounce_code must be one of {', '.join(BOUNCE_CODES)}")
        return lambda row: row.bounce_code == code
    return lambda row: True


def tracking(report: str) -> Handler:
    def handle(call: Call) -> Answer:
        activity = _reported_activity(call)
        page = read_page(call.query, default_limit=MAX_REPORT_PAGE, max_limit=MAX_REPORT_PAGE)
        keep = _report_filter(report, page.params)
        rows = [row for row in activity.reports[report] if keep(row)]
        path = f"/v3/reports/email_reports/{activity.campaign_activity_id}/tracking/{report}"
        chosen, links = page_of(rows, page, path)
        items = [tracking_row_json(r, activity.campaign_activity_id, report) for r in chosen]
        return 200, {"tracking_activities": items, "_links": links}

    return handle


def _unique_counts(campaign: CampaignRecord) -> dict[str, int]:
    """UniqueEmailCounts over the campaign's reported activities (contacts counted once)."""
    reports = [a.reports for a in campaign.activities if a.role in REPORTED_ROLES]

    def distinct(name: str) -> int:
        return len({row.contact.contact_id for rows in reports for row in rows[name]})

    opened = {row.contact.contact_id for rows in reports for row in rows["unique_opens"]}
    not_opened = {row.contact.contact_id for rows in reports for row in rows["didnotopens"]}
    counted = ("sends", "opens", "clicks", "forwards", "optouts", "bounces")
    return {
        **{name: distinct(name) for name in counted},
        "abuse": 0,
        "not_opened": len(not_opened - opened),
    }


def campaign_summaries(call: Call) -> Answer:
    """GET /reports/summary_reports/email_campaign_summaries: the sent campaigns, the most
    recently sent first (`last_sent_date`), up to `limit` (default 50, at most 500)."""
    book = _book(call)
    limit = parse_int(call.query.get("limit") or "50", "limit", 1)
    if limit > MAX_EMAILS_PAGE:
        raise SandboxError(400, f"limit must be at most {MAX_EMAILS_PAGE}")
    sent = [c for c in book.campaigns.values() if c.last_sent_at is not None]
    sent.sort(key=lambda c: c.last_sent_at or c.updated_at, reverse=True)
    summaries = [
        {
            "campaign_id": campaign.campaign_id,
            "campaign_type": "NEWSLETTER",
            "last_sent_date": iso(campaign.last_sent_at or campaign.updated_at),
            "unique_counts": _unique_counts(book.sent(campaign)),
        }
        for campaign in sent[:limit]
    ]
    return 200, {"bulk_email_campaign_summaries": summaries, "_links": {}}


# ---------------------------------------------------------------- segments


V3Route = tuple[str, str, "Handler"]  # method, path under /v3, handler


def v3_routes() -> list[V3Route]:
    """The campaign and report endpoints of this module."""
    reports = "/reports/email_reports/{campaign_activity_id}"
    return [
        ("GET", "/emails", list_emails),
        ("GET", "/emails/{campaign_id}", get_email),
        ("GET", f"{reports}/links", email_links),
        ("GET", "/reports/summary_reports/email_campaign_summaries", campaign_summaries),
        *(("GET", f"{reports}/tracking/{report}", tracking(report)) for report in REPORT_TYPES),
    ]
