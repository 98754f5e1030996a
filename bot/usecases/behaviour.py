"""Who did what: the contacts a campaign's behaviour or a segment selects, as contact ids.

`contacts_who(account, "clicked", "Spring Newsletter 2026", link="https://example.com/pricing")`
reads the campaign's `primary_email` and `resend` reports (never its permalink) and answers
the distinct contact ids with a summary for the preview; `segment_members(account, "Donors")`
does the same for a segment. Anything that cannot be answered raises `Refused` with a sentence
(an unknown campaign with the closest names, a campaign never sent, a link not in it, ...).

Not opened means not opened by any reported activity: a contact who skipped the primary email
but opened the resend did open the campaign.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.cc.campaigns import (
    SEGMENT_WAITS,
    AmbiguousCampaign,
    AmbiguousSegment,
    Campaign,
    CampaignActivityRef,
    Campaigns,
    Report,
    SegmentStillComputing,
    UnknownCampaign,
    UnknownSegment,
    WaitNotice,
    url_key,
)
from bot.cc.client import AccountClient
from bot.cc.errors import CCError, Forbidden
from bot.clock import SYSTEM_CLOCK, Clock
from bot.usecases.outcomes import Refused, cc_message, plural

LINKS_SHOWN = 10
RECONNECT = (
    "Reading campaign reports needs Constant Contact's campaign_data permission, which this "
    "workspace's connection was not given: reconnect with /cctag connect, then try again."
)


class Behaviour(StrEnum):
    CLICKED = "clicked"
    OPENED = "opened"
    NOT_OPENED = "not-opened"
    BOUNCED = "bounced"


_REPORT: dict[Behaviour, Report] = {
    Behaviour.CLICKED: "clicks",
    Behaviour.OPENED: "unique_opens",
    Behaviour.BOUNCED: "bounces",
}


@dataclass(frozen=True)
class Selection:
    """The contacts a source selects, and what the preview says about them."""

    contact_ids: tuple[str, ...]
    description: str  # e.g. "who clicked https://example.com/pricing in “Spring news”"
    activities: tuple[str, ...]  # the campaign activities read, by role
    calls: int
    deleted_skipped: int = 0

    @property
    def selected(self) -> str:
        """How many contacts, who, and from which campaign activities."""
        read = f" (from its {' and '.join(self.activities)})" if self.activities else ""
        return f"{plural(len(self.contact_ids), 'contact')} {self.description}{read}"

    @property
    def deleted_note(self) -> str:
        if not self.deleted_skipped:
            return ""
        return f"; {plural(self.deleted_skipped, 'row')} of since-deleted contacts left out"

    @property
    def preview(self) -> str:
        return (
            f"{self.selected}: finding them took {plural(self.calls, 'API call')}"
            f"{self.deleted_note}."
        )


def contacts_who(
    account: AccountClient,
    behaviour: Behaviour | str,
    campaign_name: str,
    link: str | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> Selection:
    """The contacts who clicked (optionally one link, by URL), opened, did not open or bounced
    in the campaign named `campaign_name`."""
    chosen = _behaviour(behaviour)
    if link is not None and chosen != Behaviour.CLICKED:
        raise Refused("A link only narrows --clicked; leave --link out for this source.")
    reader = Campaigns(account, clock=clock)
    try:
        campaign = reader.find_campaign(campaign_name)
        activities = _reported(campaign)
        return _CampaignSelection(reader, campaign, activities).select(chosen, link)
    except Forbidden:
        raise Refused(RECONNECT) from None
    except CCError as exc:
        raise Refused(_sentence(exc)) from None


def segment_members(
    account: AccountClient,
    name_or_id: str,
    *,
    on_waiting: WaitNotice | None = None,
    clock: Clock = SYSTEM_CLOCK,
    segment_waits: Sequence[float] = SEGMENT_WAITS,
) -> Selection:
    """The members of a segment given by name or integer id. `on_waiting(tries, seconds)` is
    told each time Constant Contact is still computing it, so the person can be told too."""
    reader = Campaigns(account, clock=clock, segment_waits=segment_waits)
    try:
        segment = reader.find_segment(name_or_id)
        members = reader.segment_member_ids(segment, on_waiting)
    except CCError as exc:
        raise Refused(_sentence(exc)) from None
    return Selection(tuple(members), f"in the segment “{segment.name}”", (), reader.calls)


# ---------------------------------------------------------------- one campaign


class _CampaignSelection:
    def __init__(
        self, reader: Campaigns, campaign: Campaign, activities: list[CampaignActivityRef]
    ) -> None:
        self.reader = reader
        self.campaign = campaign
        self.activities = activities
        self.deleted = 0

    def select(self, behaviour: Behaviour, link: str | None) -> Selection:
        if behaviour == Behaviour.NOT_OPENED:
            ids = self._not_opened()
        elif behaviour == Behaviour.CLICKED and link is not None:
            ids = self._clicked_link(link)
        else:
            ids = self._union(_REPORT[behaviour], self.activities)
        roles = tuple(dict.fromkeys(a.role for a in self.activities))
        return Selection(
            tuple(ids), self._description(behaviour, link), roles, self.reader.calls, self.deleted
        )

    def _description(self, behaviour: Behaviour, link: str | None) -> str:
        verb = {
            Behaviour.CLICKED: f"clicked {link}" if link else "clicked a link",
            Behaviour.OPENED: "opened",
            Behaviour.NOT_OPENED: "did not open",
            Behaviour.BOUNCED: "bounced",
        }[behaviour]
        return f"who {verb} in “{self.campaign.name}”"

    def _ids(
        self, activity: CampaignActivityRef, report: Report, url_id: str | None = None
    ) -> list[str]:
        read = self.reader.report_contacts(activity.campaign_activity_id, report, url_id=url_id)
        self.deleted += read.deleted
        return list(read.contact_ids)

    def _union(self, report: Report, activities: Iterable[CampaignActivityRef]) -> list[str]:
        seen: dict[str, None] = {}
        for activity in activities:
            seen.update(dict.fromkeys(self._ids(activity, report)))
        return list(seen)

    def _not_opened(self) -> list[str]:
        not_opened = self._union("didnotopens", self.activities)
        if len(self.activities) == 1:
            return not_opened
        opened = set(self._union("unique_opens", self.activities))
        return [cid for cid in not_opened if cid not in opened]

    def _clicked_link(self, link: str) -> list[str]:
        wanted = url_key(link)
        seen: dict[str, None] = {}
        every_link: dict[str, None] = {}
        found = False
        for activity in self.activities:
            links = self.reader.links(activity.campaign_activity_id)
            every_link.update(dict.fromkeys(item.link_url for item in links))
            for item in links:
                if url_key(item.link_url) == wanted:
                    found = True
                    seen.update(dict.fromkeys(self._ids(activity, "clicks", item.url_id)))
        if not found:
            raise Refused(_not_a_link(link, self.campaign.name, list(every_link)))
        return list(seen)


# ---------------------------------------------------------------- sentences


def _behaviour(value: Behaviour | str) -> Behaviour:
    try:
        return Behaviour(str(value).strip().lower())
    except ValueError:
        options = ", ".join(b.value for b in Behaviour)
        raise Refused(
            f"“{value}” is not a behaviour cctag can select; use one of {options}."
        ) from None


def _reported(campaign: Campaign) -> list[CampaignActivityRef]:
    if not campaign.was_sent:
        raise Refused(
            f"“{campaign.name}” was never sent (it is {campaign.current_status}), so it has no "
            "reports of who clicked, opened or bounced."
        )
    activities = campaign.reported_activities
    if not activities:
        raise Refused(
            f"“{campaign.name}” has no primary email or resend, the only campaign activities "
            "with reports."
        )
    return activities


def _not_a_link(link: str, campaign: str, links: Sequence[str]) -> str:
    if not links:
        return f"“{campaign}” has no links, so nobody clicked {link} in it."
    shown = ", ".join(links[:LINKS_SHOWN])
    more = f" and {len(links) - LINKS_SHOWN} more" if len(links) > LINKS_SHOWN else ""
    return f"{link} is not a link of “{campaign}”. Its links: {shown}{more}."


def _sentence(exc: CCError) -> str:
    told = (
        UnknownCampaign,
        AmbiguousCampaign,
        UnknownSegment,
        AmbiguousSegment,
        SegmentStillComputing,
    )
    return exc.message if isinstance(exc, told) else cc_message(exc)
