"""The sandbox's in-memory Constant Contact: accounts, tokens, OAuth2 clients, rate budgets.

Thread-safe: every public method takes one re-entrant lock. Activities are advanced lazily
(`advance()`, called at the start of every request) as a function of the injected clock, so a
FakeClock drives them without any background thread. Their effect is applied exactly once, on
completion.

Tag names are unique per account compared case-insensitively ("VIP" and "vip" clash), as the
real API answers 409 for names that differ only in case.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cc.models import (
    MAX_TAGS_IN_ACCOUNT,
    ActivityKind,
    ActivityState,
    EngagementLevel,
)
from bot.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from bot.devkit.sandbox.campaigns import CampaignBook

DEMO_ACCOUNT_ID = "demo"
DEFAULT_ACCESS_TOKEN = "sandbox-token"
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
ALL_SCOPES = "contact_data campaign_data account_read offline_access"
TOKEN_LIFETIME_SECONDS = 86_400
MAX_LISTS_PER_CONTACT = 50
MAX_TAGS_PER_CONTACT = 50
MAX_QUEUED_ACTIVITIES = 1_000
ACTIVITY_RETENTION = timedelta(days=10)
NEW_SUBSCRIBER_WINDOW = timedelta(days=30)
TOKEN_ENDPOINT_RATE = 1.0
# Share of an activity's run spent `initialized` before it starts `processing`.
INITIALIZED_SHARE = 0.2
# The guide's examples show a just-received activity at 1 percent, not 0.
INITIALIZED_PERCENT = 1
SENDABLE = ("implicit", "explicit")
# Every DELETED_EVERY-th demo contact (contact20@, contact40@, ...) is deleted.
DELETED_EVERY = 20
# How many times a segment's first queries answer 202 (being computed) before the 200.
SEGMENT_COMPUTING_ANSWERS = 1

DEMO_LISTS = (
    "Newsletter",
    "VIP Customers",
    "Event Attendees",
    "Webinar 2026",
    "Donors",
    "Prospects",
)
DEMO_TAGS = ("VIP", "Donor 2025", "Volunteer", "Board Member")
FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gia", "Hugo", "Ivy", "Jon")
LAST_NAMES = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones")


class SandboxError(Exception):
    """An answer other than success, with the real API's status code and error key."""

    def __init__(
        self, status: int, message: str, key: str = "", *, more: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.messages = (message, *more)
        self.key = key or _DEFAULT_KEYS.get(status, "contacts.api.error")


_DEFAULT_KEYS = {
    400: "contacts.api.validation.error",
    404: "contacts.api.not.found",
    409: "contacts.api.conflict",
    415: "unsupported_media_type",
    429: "throttled",
}


def iso(moment: datetime) -> str:
    """The API's timestamp format: UTC, milliseconds, `Z`."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- records


@dataclass
class TagRecord:
    tag_id: str
    name: str
    tag_source: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class ListRecord:
    list_id: str
    name: str
    description: str
    favorite: bool
    created_at: datetime
    updated_at: datetime
    status: str = "active"


@dataclass
class ContactRecord:
    contact_id: str
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime
    permission_to_send: str  # implicit | explicit | unsubscribed | pending_confirmation | ...
    engagement: EngagementLevel
    lists: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    deleted_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None and self.permission_to_send in SENDABLE

    @property
    def status(self) -> str:
        """The contact's value for the `status` filter of GET /contacts."""
        if self.deleted_at is not None:
            return "deleted"
        return "active" if self.permission_to_send in SENDABLE else self.permission_to_send


@dataclass
class ActivityRecord:
    activity_id: str
    account_id: str
    kind: str  # an ActivityKind value, or "tag_delete" for DELETE /contact_tags/{id}
    created_at: datetime
    started: float  # clock.monotonic() at creation
    duration: float
    contact_ids: frozenset[str]
    tag_ids: tuple[str, ...] = ()
    list_ids: tuple[str, ...] = ()
    total: int = 0
    outcome: ActivityState = ActivityState.COMPLETED
    planned_errors: tuple[str, ...] = ()
    state: ActivityState = ActivityState.INITIALIZED
    percent_done: int = INITIALIZED_PERCENT
    items_completed: int = 0
    errors: list[str] = field(default_factory=list)
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def is_list_activity(self) -> bool:
        return self.kind in (ActivityKind.ADD_TO_LISTS, ActivityKind.REMOVE_FROM_LISTS)

    @property
    def is_generic(self) -> bool:
        return self.kind == "tag_delete"


@dataclass
class TokenRecord:
    token: str
    account_id: str
    client_id: str
    expires_at: float | None  # clock.monotonic(); None never expires
    scope: str = "contact_data offline_access"


@dataclass
class ClientRecord:
    client_id: str
    secret: str
    redirect_uris: frozenset[str] | None  # None: any http(s) URI on localhost / 127.0.0.1


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    account_id: str
    scope: str
    code_challenge: str | None
    expires_at: float


@dataclass
class RefreshRecord:
    token: str
    client_id: str
    account_id: str
    scope: str
    used: bool = False
    public: bool = False  # issued to a PKCE client without a secret


# ---------------------------------------------------------------- accounts


class Account:
    """One Constant Contact account with its indexes (email, list → members, tag → tagged)."""

    def __init__(self, account_id: str, name: str) -> None:
        self.account_id = account_id
        self.name = name
        self.tags: dict[str, TagRecord] = {}
        self.lists: dict[str, ListRecord] = {}
        self.contacts: dict[str, ContactRecord] = {}
        self.by_email: dict[str, str] = {}
        self.list_members: dict[str, set[str]] = {}
        self.tag_members: dict[str, set[str]] = {}
        self.active: set[str] = set()
        self.segments: dict[int, set[str]] = {}
        self.segment_names: dict[int, str] = {}
        self.segment_created: dict[int, datetime] = {}
        # Segment id -> how many more queries of its members answer 202 (still computing).
        self.segment_computing: dict[int, int] = {}
        self.activities: dict[str, ActivityRecord] = {}
        self.campaigns: CampaignBook | None = None

    def tag_by_name(self, name: str) -> TagRecord | None:
        wanted = name.casefold()
        return next((t for t in self.tags.values() if t.name.casefold() == wanted), None)

    def new_subscribers(self, now: datetime) -> set[str]:
        since = now - NEW_SUBSCRIBER_WINDOW
        return {cid for cid in self.active if self.contacts[cid].created_at >= since}

    def engaged(self, level: EngagementLevel) -> set[str]:
        return {cid for cid in self.active if self.contacts[cid].engagement == level}


# ---------------------------------------------------------------- the state


class SandboxState:
    """Everything the sandbox knows. `advance()` moves activities on to where the clock says."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        activity_seconds: float = 5.0,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        contacts: int = 200,
        seed: int = 2026,
    ) -> None:
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.activity_seconds = activity_seconds
        self.rate_per_second = rate_per_second
        self.daily_quota = daily_quota
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.clients: dict[str, ClientRecord] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.requests: Counter[str] = Counter()
        self._recent: dict[str, deque[float]] = {}
        self._daily: dict[str, tuple[str, int]] = {}
        # (account_id, activity_id) not yet terminal, in creation order: effects apply in order.
        self._pending: dict[tuple[str, str], None] = {}
        self._outcomes: deque[tuple[ActivityState, tuple[str, ...]]] = deque()
        # Paging links as /contacts-service/v3/accounts/{id}/... instead of /v3/... (a fault).
        self.contacts_service_links = False
        self.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        self.add_account(DEMO_ACCOUNT_ID, "Sandbox Demo Account", contacts=contacts, seed=seed)
        self.add_access_token(
            DEFAULT_ACCESS_TOKEN, DEMO_ACCOUNT_ID, expires_in=None, scope=ALL_SCOPES
        )

    # ------------------------------------------------------------ ids and time
    def new_id(self) -> str:
        """A fresh random id: a restarted sandbox never hands out one it handed out before."""
        return str(uuid.uuid4())

    def now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------ accounts and tokens
    def add_account(
        self, account_id: str, name: str = "", *, contacts: int = 0, seed: int = 1
    ) -> Account:
        """A new account, seeded with demo lists, tags, segments and `contacts` contacts."""
        with self.lock:
            account = Account(account_id, name or account_id)
            self.accounts[account_id] = account
            _seed_account(self, account, contacts, random.Random(f"{seed}:{account_id}"))
            return account

    def account(self, account_id: str = DEMO_ACCOUNT_ID) -> Account:
        with self.lock:
            return self.accounts[account_id]

    def add_access_token(
        self,
        token: str,
        account_id: str = DEMO_ACCOUNT_ID,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        expires_in: float | None = TOKEN_LIFETIME_SECONDS,
        scope: str = "contact_data offline_access",
    ) -> TokenRecord:
        with self.lock:
            expires_at = None if expires_in is None else self.clock.monotonic() + expires_in
            record = TokenRecord(token, account_id, client_id, expires_at, scope)
            self.tokens[token] = record
            return record

    def expire_token(self, token: str) -> None:
        """The token is refused with 401 from now on (as after its 24 hours)."""
        with self.lock:
            record = self.tokens.get(token)
            if record is not None:
                record.expires_at = self.clock.monotonic() - 1

    def account_for_token(self, token: str) -> tuple[Account, TokenRecord] | None:
        with self.lock:
            record = self.tokens.get(token)
            if record is None:
                return None
            if record.expires_at is not None and self.clock.monotonic() >= record.expires_at:
                return None
            return self.accounts[record.account_id], record

    def register_client(
        self, client_id: str, secret: str, redirect_uris: Iterable[str] | None = None
    ) -> ClientRecord:
        """An OAuth2 application; `redirect_uris` None allows any URI on localhost/127.0.0.1."""
        with self.lock:
            uris = None if redirect_uris is None else frozenset(redirect_uris)
            client = ClientRecord(client_id, secret, uris)
            self.clients[client_id] = client
            return client

    # ------------------------------------------------------------ request accounting
    def count_request(self, method: str, path: str) -> None:
        with self.lock:
            self.requests[f"{method} {path}"] += 1

    def request_count(self, path_contains: str = "", method: str | None = None) -> int:
        """How many requests reached the server whose path contains `path_contains`."""
        with self.lock:
            total = 0
            for key, count in self.requests.items():
                verb, path = key.split(" ", 1)
                if path_contains in path and (method is None or method.upper() == verb):
                    total += count
            return total

    def status_calls(self) -> int:
        """GET /v3/activities/{id} requests: how often someone asked for an activity's state."""
        with self.lock:
            return sum(
                count
                for key, count in self.requests.items()
                if key.startswith("GET /v3/activities/")
            )

    def take_rate(self, key: str, per_second: float) -> bool:
        """One request of `key` within `per_second` (sliding window); False when over it."""
        with self.lock:
            allowed = max(1, int(per_second))
            window = allowed / per_second if per_second > 0 else float("inf")
            now = self.clock.monotonic()
            recent = self._recent.setdefault(key, deque())
            while recent and recent[0] <= now - window:
                recent.popleft()
            if len(recent) >= allowed:
                return False
            recent.append(now)
            return True

    def take_daily(self, key: str) -> bool:
        """One request of the UTC day's quota of `key`; False when the day is spent."""
        with self.lock:
            today = self.now().date().isoformat()
            day, used = self._daily.get(key, (today, 0))
            if day != today:
                used = 0
            if used >= self.daily_quota:
                return False
            self._daily[key] = (today, used + 1)
            return True

    # ------------------------------------------------------------ activities
    def plan_next_activity(self, state: ActivityState | str, errors: Iterable[str] = ()) -> None:
        """The next activity created ends in `state` with `errors`, and has no effect."""
        with self.lock:
            self._outcomes.append((ActivityState(state), tuple(errors)))

    def queued_activities(self, account: Account) -> int:
        with self.lock:
            return sum(1 for acc, _ in self._pending if acc == account.account_id)

    def start_activity(
        self,
        account: Account,
        kind: str,
        *,
        contact_ids: Iterable[str] = (),
        tag_ids: Iterable[str] = (),
        list_ids: Iterable[str] = (),
    ) -> ActivityRecord:
        with self.lock:
            if self.queued_activities(account) >= MAX_QUEUED_ACTIVITIES:
                raise SandboxError(
                    429,
                    "You exceeded 1,000 queued activities for this user account.",
                    "too_many_queued_activities",
                )
            now = self.now()
            contacts = frozenset(contact_ids)
            tags, lists = tuple(tag_ids), tuple(list_ids)
            deletes = kind in (ActivityKind.DELETE_TAGS, "tag_delete")
            activity = ActivityRecord(
                activity_id=str(uuid.uuid4()),  # unique across runs on one database
                account_id=account.account_id,
                kind=kind,
                created_at=now,
                started=self.clock.monotonic(),
                duration=self.activity_seconds,
                contact_ids=contacts,
                tag_ids=tags,
                list_ids=lists,
                total=len(tags) if deletes else len(contacts),
                updated_at=now,
            )
            if self._outcomes:
                activity.outcome, activity.planned_errors = self._outcomes.popleft()
            account.activities[activity.activity_id] = activity
            self._pending[(account.account_id, activity.activity_id)] = None
            return activity

    def advance(self) -> None:
        """Move every unfinished activity to the state the clock says it is in."""
        with self.lock:
            now = self.clock.monotonic()
            for account_id, activity_id in list(self._pending):
                activity = self.accounts[account_id].activities[activity_id]
                self._progress(activity, now)
                if activity.state.is_terminal:
                    del self._pending[(account_id, activity_id)]

    def _progress(self, activity: ActivityRecord, now: float) -> None:
        elapsed = now - activity.started
        if elapsed >= activity.duration:
            self._finish(activity)
            return
        waiting = activity.duration * INITIALIZED_SHARE
        if elapsed < waiting:
            return
        fraction = (elapsed - waiting) / (activity.duration - waiting)
        percent = max(1, min(99, int(fraction * 100)))
        if activity.state != ActivityState.PROCESSING:
            activity.state = ActivityState.PROCESSING
            activity.started_at = self.now()
        if percent != activity.percent_done:
            activity.percent_done = percent
            activity.items_completed = min(activity.total, int(activity.total * fraction))
            activity.updated_at = self.now()

    def _finish(self, activity: ActivityRecord) -> None:
        account = self.accounts[activity.account_id]
        if activity.started_at is None:
            activity.started_at = self.now()
        if activity.outcome == ActivityState.COMPLETED:
            activity.errors = _apply_effect(account, activity, self.now())
            activity.items_completed = activity.total
        else:
            activity.errors = list(activity.planned_errors)
        activity.state = activity.outcome
        activity.percent_done = 100
        activity.updated_at = activity.completed_at = self.now()

    def visible_activities(self, account: Account) -> list[ActivityRecord]:
        """The account's activities of the last 10 days, newest first."""
        with self.lock:
            since = self.now() - ACTIVITY_RETENTION
            kept = [a for a in account.activities.values() if a.created_at >= since]
            return list(reversed(kept))


# ---------------------------------------------------------------- effects


def _apply_effect(account: Account, activity: ActivityRecord, now: datetime) -> list[str]:
    """Apply a completed activity once; returns its activity_errors. A contact whose tags or
    lists changed is updated then (`updated_after` finds it, as it finds any change)."""
    touched = set(activity.contact_ids)
    for tag_id in activity.tag_ids:  # a tag deleted leaves its members
        touched |= account.tag_members.get(tag_id, set())
    before = {
        cid: (frozenset(account.contacts[cid].tags), frozenset(account.contacts[cid].lists))
        for cid in touched
        if cid in account.contacts
    }
    errors = _effect(account, activity)
    for cid, (tags, lists) in before.items():
        contact = account.contacts.get(cid)
        if contact is not None and (contact.tags != tags or contact.lists != lists):
            contact.updated_at = now
    return errors


def _effect(account: Account, activity: ActivityRecord) -> list[str]:
    kind = activity.kind
    if kind == ActivityKind.ADD_TAGS:
        return _add_tags(account, activity)
    if kind == ActivityKind.REMOVE_TAGS:
        _remove_tags(account, activity)
        return []
    if kind in (ActivityKind.DELETE_TAGS, "tag_delete"):
        _delete_tags(account, activity.tag_ids)
        return []
    if kind == ActivityKind.ADD_TO_LISTS:
        return _add_to_lists(account, activity)
    if kind == ActivityKind.REMOVE_FROM_LISTS:
        _remove_from_lists(account, activity)
        return []
    raise ValueError(f"unknown activity kind {kind}")


def _capped(
    account: Account, contact_ids: frozenset[str], new: set[str], attribute: str, cap: int
) -> tuple[set[str], list[str]]:
    """Split contacts into those that can take `new` without exceeding `cap`, and errors."""
    fits: set[str] = set()
    refused: list[str] = []
    for cid in contact_ids:
        contact = account.contacts.get(cid)
        if contact is None:
            continue
        current: set[str] = getattr(contact, attribute)
        if len(current) + len(new - current) > cap:
            refused.append(cid)
        else:
            fits.add(cid)
    what = "tags" if attribute == "tags" else "lists"
    errors = [f"Contact {cid} would exceed the limit of {cap} {what}" for cid in sorted(refused)]
    return fits, errors


def _add_tags(account: Account, activity: ActivityRecord) -> list[str]:
    tag_ids = {t for t in activity.tag_ids if t in account.tags}
    fits, errors = _capped(account, activity.contact_ids, tag_ids, "tags", MAX_TAGS_PER_CONTACT)
    for cid in fits:
        account.contacts[cid].tags |= tag_ids
    for tag_id in tag_ids:
        account.tag_members.setdefault(tag_id, set()).update(fits)
    return errors


def _remove_tags(account: Account, activity: ActivityRecord) -> None:
    tag_ids = set(activity.tag_ids)
    for tag_id in tag_ids:
        members = account.tag_members.get(tag_id)
        if members is None:
            continue
        affected = members & activity.contact_ids
        members -= affected
        for cid in affected:
            account.contacts[cid].tags.discard(tag_id)


def _delete_tags(account: Account, tag_ids: Iterable[str]) -> None:
    for tag_id in tag_ids:
        for cid in account.tag_members.pop(tag_id, set()):
            account.contacts[cid].tags.discard(tag_id)
        account.tags.pop(tag_id, None)


def _add_to_lists(account: Account, activity: ActivityRecord) -> list[str]:
    list_ids = {lid for lid in activity.list_ids if lid in account.lists}
    fits, errors = _capped(account, activity.contact_ids, list_ids, "lists", MAX_LISTS_PER_CONTACT)
    for cid in fits:
        account.contacts[cid].lists |= list_ids
    for list_id in list_ids:
        account.list_members.setdefault(list_id, set()).update(fits)
    return errors


def _remove_from_lists(account: Account, activity: ActivityRecord) -> None:
    for list_id in activity.list_ids:
        members = account.list_members.get(list_id)
        if members is None:
            continue
        affected = members & activity.contact_ids
        members -= affected
        for cid in affected:
            account.contacts[cid].lists.discard(list_id)


# ---------------------------------------------------------------- demo data


def _seed_account(state: SandboxState, account: Account, contacts: int, rng: random.Random) -> None:
    now = state.now()

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    created = now - timedelta(days=400)
    for name in DEMO_LISTS:
        list_id = new_id()
        account.lists[list_id] = ListRecord(
            list_id, name, f"{name} (sandbox demo list)", name == "Newsletter", created, created
        )
        account.list_members[list_id] = set()
    for name in DEMO_TAGS:
        tag_id = new_id()
        account.tags[tag_id] = TagRecord(tag_id, name, "sandbox", created, created)
        account.tag_members[tag_id] = set()
    _seed_contacts(account, contacts, rng, now, new_id)
    _seed_segments(account, created)
    from bot.devkit.sandbox.campaigns import seed_campaigns  # campaigns.py imports this module

    account.campaigns = seed_campaigns(account, now, rng)


def _seed_contacts(
    account: Account, count: int, rng: random.Random, now: datetime, new_id: Any
) -> None:
    list_ids = list(account.lists)
    tag_ids = list(account.tags)
    levels = list(EngagementLevel)
    for number in range(1, count + 1):
        contact_id = new_id()
        # About one in ten contacts is new (last 30 days); the rest joined within 400 days.
        age_days = rng.uniform(0, 29) if rng.random() < 0.1 else rng.uniform(31, 400)
        joined = now - timedelta(days=age_days)
        unsubscribed = rng.random() < 0.1
        deleted = number % DELETED_EVERY == 0
        contact = ContactRecord(
            contact_id=contact_id,
            email=f"contact{number}@example.com",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            created_at=joined,
            updated_at=joined,
            permission_to_send="unsubscribed"
            if unsubscribed
            else rng.choice(("implicit", "explicit")),
            engagement=rng.choice(levels),
            lists=set(rng.sample(list_ids, rng.randint(0, 3))) if list_ids else set(),
            tags={t for t in tag_ids if rng.random() < 0.08},
        )
        if deleted:  # a deleted contact keeps no memberships
            contact.deleted_at = joined + (now - joined) / 2
            contact.updated_at = contact.deleted_at
            contact.lists, contact.tags = set(), set()
        account.contacts[contact_id] = contact
        account.by_email[contact.email] = contact_id
        if contact.is_active:
            account.active.add(contact_id)
        for list_id in contact.lists:
            account.list_members[list_id].add(contact_id)
        for tag_id in contact.tags:
            account.tag_members[tag_id].add(contact_id)


def _seed_segments(account: Account, created: datetime) -> None:
    engaged = account.engaged(EngagementLevel.HIGH) | account.engaged(EngagementLevel.MEDIUM)
    donors = next((lid for lid, li in account.lists.items() if li.name == "Donors"), None)
    members = {
        1: ("Engaged readers", engaged),
        2: ("Active donors", account.list_members.get(donors or "", set()) & account.active),
    }
    for segment_id, (name, contacts) in members.items():
        account.segments[segment_id] = contacts
        account.segment_names[segment_id] = name
        account.segment_created[segment_id] = created
        account.segment_computing[segment_id] = SEGMENT_COMPUTING_ANSWERS


def check_tag_room(account: Account) -> None:
    if len(account.tags) >= MAX_TAGS_IN_ACCOUNT:
        raise SandboxError(
            400, f"An account holds at most {MAX_TAGS_IN_ACCOUNT} tags; delete one first"
        )
