"""Sources that Constant Contact's activities cannot take as given, resolved before anything
starts into contact ids (deduplicated), then planned like `--contacts` (more than one activity
holds becomes a job):
- who did what in a campaign, for every bulk command: `--clicked <campaign> [--link <url>]`,
  `--opened`, `--not-opened`, `--bounced` (campaigns and links by name or URL, never by id);
- a segment's members for `add` and `remove`: tag activities take no segment source.
  `lists` keeps the API's own `segment_id` source; a segment given by name becomes its id.

`Sources.select` answers a `Selection` (contact ids, a preview line, the calls spent). A
selection is kept a few minutes, so confirming a broad one does not read the reports again.
`CampaignMenus` serves the modals' type-ahead over recent campaigns and a campaign's links.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.cc.campaigns import (
    SEGMENT_WAITS,
    AmbiguousSegment,
    Campaigns,
    CampaignSummary,
    UnknownSegment,
    name_key,
    pick_campaign,
)
from bot.cc.client import AccountClient
from bot.cc.errors import CCError, Forbidden
from bot.clock import SYSTEM_CLOCK, Clock
from bot.usecases.behaviour import (
    RECONNECT,
    Behaviour,
    Selection,
    contacts_who,
    segment_members,
)
from bot.usecases.inputs import Source, SourceKind
from bot.usecases.outcomes import People, Refused, cc_message

log = logging.getLogger(__name__)
# Long enough to confirm a broad request, short enough that a rerun sees new clicks.
SELECTION_TTL = 300.0
MENU_TTL = 60.0
RECENT_DAYS = 365
MAX_OPTION_VALUE = 150
BEHAVIOURS = {
    SourceKind.CLICKED: Behaviour.CLICKED,
    SourceKind.OPENED: Behaviour.OPENED,
    SourceKind.NOT_OPENED: Behaviour.NOT_OPENED,
    SourceKind.BOUNCED: Behaviour.BOUNCED,
}

Notify = Callable[[str], None]
_Key = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class Found:
    """A looked-up source as the activity's request takes it, and what the preview says."""

    body: dict[str, Any]
    contacts: int | None
    notes: tuple[str, ...]
    exclude: list[str]  # the contact ids the request itself still has to exclude
    people: People | None = None


def resolves_to_contacts(kind: SourceKind, *, tagging: bool) -> bool:
    """Campaign sources always; a segment for tags, whose activities take no segment."""
    return kind.is_campaign or (kind == SourceKind.SEGMENT and tagging)


def looked_up(source: Source, *, tagging: bool) -> bool:
    """True when the source's request body is known only after calls (nothing to check first)."""
    if resolves_to_contacts(source.kind, tagging=tagging):
        return True
    named_segment = source.kind == SourceKind.SEGMENT and source.values
    return bool(named_segment) and not source.values[0].strip().isdigit()


def nobody(selection: Selection) -> str:
    return f"No contacts {selection.description}, so there is nothing to do."


class Sources:
    """Resolves campaign and segment sources; `clock` paces a segment's 202 waits."""

    def __init__(
        self, clock: Clock = SYSTEM_CLOCK, segment_waits: Sequence[float] = SEGMENT_WAITS
    ) -> None:
        self._clock = clock
        self._segment_waits = tuple(segment_waits)
        self._lock = threading.Lock()
        self._kept: dict[_Key, tuple[float, Selection]] = {}
        self.menus = CampaignMenus(clock)

    def plan_source(
        self,
        workspace_id: str,
        account: AccountClient,
        source: Source,
        exclude: Sequence[str],
        *,
        tagging: bool,
        notify: Notify | None = None,
    ) -> Found:
        """The request's source for a looked-up `source`; excluded contacts are left out of
        the ids here, since the API takes an exclude only with lists or all active contacts."""
        if not resolves_to_contacts(source.kind, tagging=tagging):
            segment = self.segment_id(account, source.values[0])
            return Found({"segment_id": segment}, None, (), list(exclude))
        selection = self.select(workspace_id, account, source, notify=notify)
        left_out = set(exclude)
        ids = [cid for cid in selection.contact_ids if cid not in left_out]
        if not ids:
            raise Refused(nobody(selection))
        notes = [f"{selection.selected}{selection.deleted_note}."]
        if len(ids) < len(selection.contact_ids):
            excluded = len(selection.contact_ids) - len(ids)
            notes.append(f"{excluded} of them left out, as you asked.")
        people = People(found=len(ids), calls=selection.calls)  # the preview's cost line
        return Found({"contact_ids": ids}, len(ids), tuple(notes), [], people)

    def select(
        self,
        workspace_id: str,
        account: AccountClient,
        source: Source,
        *,
        notify: Notify | None = None,
    ) -> Selection:
        key = (workspace_id, source.kind.value, source.values)
        kept = self._recent(key)
        if kept is not None:
            return kept
        selection = self._read(account, source, notify)
        now = self._clock.monotonic()
        with self._lock:  # stale selections go, so a long-running server keeps only fresh ones
            self._kept = {k: v for k, v in self._kept.items() if now - v[0] < SELECTION_TTL}
            self._kept[key] = (now, selection)
        return selection

    def _recent(self, key: _Key) -> Selection | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None or self._clock.monotonic() - found[0] >= SELECTION_TTL:
                self._kept.pop(key, None)
                return None
            return found[1]

    def _read(self, account: AccountClient, source: Source, notify: Notify | None) -> Selection:
        if not source.values:
            raise Refused(f"--{source.kind.value} needs a value")
        name = source.values[0]
        if source.kind.is_campaign:
            behaviour = BEHAVIOURS[source.kind]
            return contacts_who(account, behaviour, name, source.link, clock=self._clock)
        if source.kind == SourceKind.SEGMENT:
            return segment_members(
                account,
                name,
                on_waiting=_waiting(name, notify),
                clock=self._clock,
                segment_waits=self._segment_waits,
            )
        raise TypeError(f"--{source.kind.value} needs no resolving")

    def segment_id(self, account: AccountClient, name_or_id: str) -> int:
        """The API's own segment source: an id as given (no call), a name by one call."""
        wanted = name_or_id.strip()
        if wanted.isdigit():
            return int(wanted)
        try:
            return Campaigns(account, clock=self._clock).find_segment(wanted).segment_id
        except CCError as exc:
            told = isinstance(exc, UnknownSegment | AmbiguousSegment)
            raise Refused(exc.message if told else cc_message(exc)) from None


def _waiting(name: str, notify: Notify | None) -> Callable[[int, float], None]:
    """The person hears once that the segment is still being computed (Slack's response_url
    takes five posts, and the answer still has to come)."""

    def told(tries: int, seconds: float) -> None:
        if notify is not None and tries == 1:
            notify(
                f"Constant Contact is still computing the segment “{name.strip()}”. I will ask "
                f"again in {seconds:.0f} seconds, and a little longer after each try, and go "
                "on as soon as it is ready."
            )

    return told


# ---------------------------------------------------------------- modal menus


class CampaignMenus:
    """Recent sent campaigns and a campaign's links, cached per workspace so a type-ahead
    answers within Slack's 3 seconds without a call per keystroke.

    An option's value must fit 150 characters: a name or URL that does not is given as a short
    key, mapped back by `text_of`."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK, ttl: float = MENU_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._campaigns: dict[str, tuple[float, list[CampaignSummary]]] = {}
        self._links: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._keys: dict[str, str] = {}
        self._loaders: dict[str, threading.Lock] = {}

    def _fresh(self, at: float) -> bool:
        return self._clock.monotonic() - at < self._ttl

    def _loading(self, workspace_id: str) -> threading.Lock:
        with self._lock:
            return self._loaders.setdefault(workspace_id, threading.Lock())

    def campaigns(self, workspace_id: str, account: AccountClient) -> list[str]:
        """Names of the account's sent campaigns of the last year, most recent first."""
        with self._loading(workspace_id):  # a type-ahead during the warm waits for its answer
            with self._lock:
                found = self._campaigns.get(workspace_id)
            if found is None or not self._fresh(found[0]):
                after = self._clock.now() - timedelta(days=RECENT_DAYS)
                listed = Campaigns(account, clock=self._clock).list_campaigns(after=after)
                found = (self._clock.monotonic(), listed)
                with self._lock:
                    self._campaigns[workspace_id] = found
        names: dict[str, str] = {}
        for campaign in found[1]:
            if campaign.was_sent and campaign.current_status != "Removed":
                names.setdefault(name_key(campaign.name), campaign.name)
        return list(names.values())

    def links(self, workspace_id: str, account: AccountClient, campaign_name: str) -> list[str]:
        """The link URLs of a campaign's primary email and resends."""
        key = (workspace_id, name_key(campaign_name))
        with self._lock:
            found = self._links.get(key)
        if found is not None and self._fresh(found[0]):
            return found[1]
        urls = self._read_links(workspace_id, account, campaign_name)
        with self._lock:
            self._links[key] = (self._clock.monotonic(), urls)
        return urls

    def _read_links(self, workspace_id: str, account: AccountClient, name: str) -> list[str]:
        reader = Campaigns(account, clock=self._clock)
        with self._lock:
            listed = self._campaigns.get(workspace_id)
        try:
            summaries = listed[1] if listed is not None else reader.list_campaigns()
            campaign = reader.get_campaign(pick_campaign(name, summaries).campaign_id)
            urls = [
                link.link_url
                for activity in campaign.reported_activities
                for link in reader.links(activity.campaign_activity_id)
            ]
        except Forbidden:
            raise Refused(RECONNECT) from None
        except CCError:
            return []
        return list(dict.fromkeys(urls))

    def value_of(self, text: str) -> str:
        """An option value for `text`: itself when it fits, else a short key."""
        if len(text) <= MAX_OPTION_VALUE and not text.startswith("k:"):
            return text
        key = "k:" + hashlib.sha256(text.encode()).hexdigest()[:32]
        with self._lock:
            self._keys[key] = text
        return key

    def picked(self, values: Sequence[str]) -> tuple[str, ...]:
        """Option values back to the campaign's name and the link's URL."""
        texts = [self.text_of(value) for value in values]
        if any(text is None for text in texts):
            raise Refused("The campaign or link you picked is no longer known here; pick it again.")
        return tuple(text for text in texts if text is not None)

    def warm(self, workspace_id: str, account: AccountClient) -> None:
        """Load the campaigns while a form is being looked at; a menu shows nothing rather
        than an error (the submitted form explains any refusal)."""
        try:
            self.campaigns(workspace_id, account)
        except (CCError, Refused) as exc:
            log.info("campaign menu not warmed: %r", exc)

    def text_of(self, value: str) -> str | None:
        """What an option value stands for (None: a key this process never gave out)."""
        if not value.startswith("k:"):
            return value
        with self._lock:
            return self._keys.get(value)
