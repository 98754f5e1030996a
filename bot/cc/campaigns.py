"""Email campaigns, their tracking reports and segments, read through one `AccountClient`.

What cctag needs to act on behaviour ("who clicked the pricing link", "who did not open"):
- `GET /emails` (limit ≤ 500, newest first here) lists campaigns *without* their activities;
  `GET /emails/{campaign_id}` adds them (`primary_email`, `resend`, `permalink`, ...);
- only `primary_email` and `resend` activities have reports (`/reports/email_reports/{id}/...`),
  which need the `campaign_data` scope (403 without it);
- a tracking report pages 500 rows at a time through `_links.next`; a contact appears once per
  open or click, so ids are deduplicated here, and rows of since-deleted contacts dropped;
- `GET /contacts?segment_id=` answers 202 while the segment is computed: asked again after
  growing waits on the injected clock, each request within the key's rate budget as usual.

Every request counts in `calls` (retries inside the client are not counted again), so a
preview can say what a selection cost.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from bot.cc.client import AccountClient, parse_answer
from bot.cc.errors import CCError
from bot.cc.models import LimitError, PageLinks
from bot.clock import SYSTEM_CLOCK, Clock

MAX_EMAILS_PAGE = 500
MAX_REPORT_PAGE = 500
MAX_SEGMENT_PAGE = 500
SEGMENTS_LIMIT = 1000  # GET /segments' default, every segment of an account in one call
REPORTED_ROLES = ("primary_email", "resend")
NEVER_SENT = ("Draft", "Scheduled")
REMOVED = "Removed"
# Waits before asking again for a segment that answered 202: about two and a half minutes
# in all, so a person is told within seconds and not left waiting for ever.
SEGMENT_WAITS = (2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0)
CANDIDATES_SHOWN = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Report = Literal[
    "sends", "opens", "unique_opens", "didnotopens", "clicks", "forwards", "optouts", "bounces"
]
M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


# ---------------------------------------------------------------- models (V3 schema)


class CampaignSummary(_Model):
    """EmailCampaigns: one campaign as GET /emails lists it."""

    campaign_id: str
    name: str
    current_status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def was_sent(self) -> bool:
        return self.current_status not in NEVER_SENT


class CampaignActivityRef(_Model):
    """ActivityReference: a campaign activity's id and role."""

    campaign_activity_id: str
    role: str


class Campaign(CampaignSummary):
    """EmailCampaign: GET /emails/{campaign_id}, with its activities."""

    campaign_activities: list[CampaignActivityRef] = Field(default_factory=list)

    @property
    def reported_activities(self) -> list[CampaignActivityRef]:
        """The `primary_email` and `resend` activities, the only ones with reports."""
        return [a for a in self.campaign_activities if a.role in REPORTED_ROLES]

    @property
    def primary_email_id(self) -> str | None:
        return next(
            (a.campaign_activity_id for a in self.campaign_activities if a.role == "primary_email"),
            None,
        )

    @property
    def resend_ids(self) -> list[str]:
        return [a.campaign_activity_id for a in self.campaign_activities if a.role == "resend"]


class CampaignPage(_Model):
    campaigns: list[CampaignSummary] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


class CampaignLink(_Model):
    """EmailLinkClickCount: one link of a campaign activity."""

    url_id: str
    link_url: str
    unique_clicks: int | None = None


class CampaignLinks(_Model):
    campaign_activity_id: str | None = None
    link_click_counts: list[CampaignLink] = Field(default_factory=list)


class TrackingRow(_Model):
    """One row of a tracking report: the fields every report shares, and clicks' and bounces'."""

    contact_id: str
    email_address: str | None = None
    created_time: datetime | None = None
    url_id: str | None = None
    link_url: str | None = None
    bounce_code: str | None = None
    deleted_at: str | None = None


class TrackingPage(_Model):
    tracking_activities: list[TrackingRow] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


class Segment(_Model):
    """SegmentMaster."""

    segment_id: int
    name: str


class SegmentPage(_Model):
    segments: list[Segment] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


class SegmentMember(_Model):
    contact_id: str


class SegmentMembersPage(_Model):
    contacts: list[SegmentMember] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


# ---------------------------------------------------------------- errors (in sentences)


class UnknownCampaign(CCError):
    """No campaign has that name; `candidates` are the closest names."""

    def __init__(self, name: str, candidates: Sequence[str]) -> None:
        closest = f" Closest: {_quoted(candidates)}." if candidates else ""
        super().__init__(f"No email campaign is named “{name}”.{closest}")
        self.candidates = list(candidates)


class AmbiguousCampaign(CCError):
    """Several campaigns answer to that name; `candidates` tell them apart."""

    def __init__(self, name: str, campaigns: Sequence[CampaignSummary]) -> None:
        described = "; ".join(_describe(c) for c in campaigns[:CANDIDATES_SHOWN])
        super().__init__(
            f"{len(campaigns)} email campaigns are named “{name}”: {described}. "
            "Rename one in Constant Contact to tell them apart."
        )
        self.candidates = list(campaigns)


class UnknownSegment(CCError):
    def __init__(self, wanted: str, candidates: Sequence[str]) -> None:
        closest = f" Closest: {_quoted(candidates)}." if candidates else ""
        super().__init__(f"No segment is named or numbered “{wanted}”.{closest}")
        self.candidates = list(candidates)


class AmbiguousSegment(CCError):
    """Several segments answer to that name: picked only by id."""

    def __init__(self, wanted: str, segments: Sequence[Segment]) -> None:
        from bot.usecases.names import Named, Pick, ambiguity  # see name_key

        named = tuple(Named(str(s.segment_id), s.name) for s in segments)
        super().__init__(ambiguity("segment", Pick(wanted, named)))
        self.candidates = list(segments)


class SegmentStillComputing(CCError):
    def __init__(self, segment: Segment, tries: int, waited: float) -> None:
        super().__init__(
            f"Constant Contact was still computing the segment “{segment.name}” after "
            f"{tries} tries over {waited:.0f} seconds; try again in a few minutes."
        )


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"“{n}”" for n in names)


def _describe(campaign: CampaignSummary) -> str:
    when = f"updated {campaign.updated_at:%Y-%m-%d}" if campaign.updated_at else "undated"
    return f"“{campaign.name}” ({campaign.current_status or 'unknown status'}, {when})"


def name_key(name: str) -> str:
    """How names compare: case, runs of spaces and Unicode forms do not matter."""
    from bot.usecases.names import fold  # here, not above: bot.usecases imports this module

    return fold(name)


def url_key(url: str) -> str:
    """How link URLs compare: scheme, `www.`, host case and a trailing slash do not matter."""
    text = url.strip()
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    host, slash, rest = text.partition("/")
    host = host.lower().removeprefix("www.")
    return f"{host}{slash}{rest}".rstrip("/")


@dataclass(frozen=True)
class ReportContacts:
    """The distinct contacts of a report (in first-seen order), and what reading it took."""

    contact_ids: tuple[str, ...]
    rows: int
    deleted: int
    pages: int


WaitNotice = Callable[[int, float], None]  # (tries so far, seconds until the next one)


# ---------------------------------------------------------------- the reader


class Campaigns:
    """Campaigns, reports and segments of the account `client` is bound to."""

    def __init__(
        self,
        client: AccountClient,
        *,
        clock: Clock = SYSTEM_CLOCK,
        segment_waits: Sequence[float] = SEGMENT_WAITS,
    ) -> None:
        self._client = client
        self._clock = clock
        self._segment_waits = tuple(segment_waits)
        self.calls = 0

    # ------------------------------------------------------------ plumbing
    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        self.calls += 1
        # The client's own GET (token refresh, rate budget, retries): AccountClient has no
        # public one yet, and a second HTTP path would be a second retry policy.
        return self._client._get(path, params)

    def _follow(self, href: str) -> str:
        return self._client._api.resolve_href(href)

    def _pages(self, path: str, params: dict[str, Any], model: type[M]) -> Iterator[M]:
        page = parse_answer(model, self._get(path, params))
        yield page
        while (href := _next_href(page)) is not None:
            page = parse_answer(model, self._get(self._follow(href)))
            yield page

    # ------------------------------------------------------------ campaigns
    def list_campaigns(
        self,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        page_size: int = MAX_EMAILS_PAGE,
    ) -> list[CampaignSummary]:
        """Every campaign (deleted ones too, as the API lists them), most recently updated first."""
        params: dict[str, Any] = {"limit": _page_size(page_size, MAX_EMAILS_PAGE)}
        if after is not None:
            params["after_date"] = _iso(after)
        if before is not None:
            params["before_date"] = _iso(before)
        found = [c for page in self._pages("/emails", params, CampaignPage) for c in page.campaigns]
        return sorted(found, key=_recency, reverse=True)

    def get_campaign(self, campaign_id: str) -> Campaign:
        return parse_answer(Campaign, self._get(f"/emails/{campaign_id}"))

    def find_campaign(self, name: str) -> Campaign:
        """The campaign of that name, ignoring case and spacing; a removed one only when no other
        has the name. Raises UnknownCampaign (with the closest names) or AmbiguousCampaign."""
        campaigns = self.list_campaigns()
        chosen = pick_campaign(name, campaigns)
        return self.get_campaign(chosen.campaign_id)

    # ------------------------------------------------------------ reports
    def links(self, campaign_activity_id: str) -> list[CampaignLink]:
        """Every link of the activity, clicked or not."""
        path = f"/reports/email_reports/{campaign_activity_id}/links"
        return parse_answer(CampaignLinks, self._get(path, {"no_clicks": "true"})).link_click_counts

    def report_contacts(
        self,
        campaign_activity_id: str,
        report: Report,
        *,
        url_id: str | None = None,
        page_size: int = MAX_REPORT_PAGE,
    ) -> ReportContacts:
        """The distinct contacts of a tracking report, through all its pages."""
        params: dict[str, Any] = {"limit": str(_page_size(page_size, MAX_REPORT_PAGE))}
        if url_id is not None:
            params["url_id"] = url_id
        path = f"/reports/email_reports/{campaign_activity_id}/tracking/{report}"
        seen: dict[str, None] = {}
        rows = deleted = pages = 0
        for page in self._pages(path, params, TrackingPage):
            pages += 1
            for row in page.tracking_activities:
                rows += 1
                if row.deleted_at:
                    deleted += 1
                else:
                    seen.setdefault(row.contact_id, None)
        return ReportContacts(tuple(seen), rows, deleted, pages)

    # ------------------------------------------------------------ segments
    def list_segments(self) -> list[Segment]:
        params = {"limit": str(SEGMENTS_LIMIT), "sort_by": "name"}
        return [s for page in self._pages("/segments", params, SegmentPage) for s in page.segments]

    def find_segment(self, name_or_id: str) -> Segment:
        """A segment by its integer id or its name (ignoring case); one call."""
        wanted = name_or_id.strip()
        segments = self.list_segments()
        if wanted.isdigit():
            by_id = next((s for s in segments if s.segment_id == int(wanted)), None)
            if by_id is not None:
                return by_id
        matches = [s for s in segments if name_key(s.name) == name_key(wanted)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousSegment(wanted, matches)
        names = [s.name for s in segments]
        raise UnknownSegment(wanted, close_names(wanted, names))

    def segment_member_ids(
        self, segment: Segment, on_waiting: WaitNotice | None = None
    ) -> list[str]:
        """The contact ids of a segment; a 202 is asked again after the next wait."""
        params = {"segment_id": str(segment.segment_id), "limit": str(MAX_SEGMENT_PAGE)}
        seen: dict[str, None] = {}
        page = self._computed(segment, "/contacts", params, on_waiting)
        while True:
            for member in page.contacts:
                seen.setdefault(member.contact_id, None)
            href = _next_href(page)
            if href is None:
                return list(seen)
            page = self._computed(segment, self._follow(href), None, on_waiting)

    def _computed(
        self,
        segment: Segment,
        path: str,
        params: dict[str, Any] | None,
        on_waiting: WaitNotice | None,
    ) -> SegmentMembersPage:
        waited = 0.0
        for tries, wait in enumerate((*self._segment_waits, None), start=1):
            response = self._get(path, params)
            if response.status_code != 202:
                return parse_answer(SegmentMembersPage, response)
            if wait is None:
                raise SegmentStillComputing(segment, tries, waited)
            if on_waiting is not None:
                on_waiting(tries, wait)
            self._clock.sleep(wait)
            waited += wait
        raise AssertionError("unreachable: the last wait is None")


# ---------------------------------------------------------------- choosing by name


def pick_campaign(name: str, campaigns: Sequence[CampaignSummary]) -> CampaignSummary:
    """The one campaign `name` means (see Campaigns.find_campaign)."""
    named = [c for c in campaigns if name_key(c.name) == name_key(name)]
    if not named:
        raise UnknownCampaign(name.strip(), close_names(name, [c.name for c in campaigns]))
    kept = [c for c in named if c.current_status != REMOVED] or named
    if len(kept) > 1:
        raise AmbiguousCampaign(name.strip(), kept)
    return kept[0]


def close_names(wanted: str, names: Sequence[str]) -> list[str]:
    """Up to five names like `wanted`: containing it first, then the most similar."""
    unique = list(dict.fromkeys(names))
    keyed = {name_key(n): n for n in unique}
    key = name_key(wanted)
    containing = [n for n in unique if key and key in name_key(n)]
    similar = [keyed[k] for k in difflib.get_close_matches(key, list(keyed), n=10, cutoff=0.5)]
    return list(dict.fromkeys([*containing, *similar]))[:CANDIDATES_SHOWN]


# ---------------------------------------------------------------- helpers


def _recency(campaign: CampaignSummary) -> datetime:
    return campaign.updated_at or campaign.created_at or _EPOCH


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _page_size(value: int, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise LimitError(f"A page holds 1 to {maximum} items, not {value}")
    return value


def _next_href(page: BaseModel) -> str | None:
    links = getattr(page, "links", None)
    if links is None or links.next is None:
        return None
    href = links.next.href
    return href or None
