"""People in: emails from text and CSV files, and emails resolved to contacts for few calls.

Resolving costs min(E, a sync) calls, with the contact index (bot/store/contact_index.py):
- warm index (a full sync less than FULL_RESYNC_AFTER ago): no call when it was refreshed less
  than FRESH_FOR ago, else one `updated_after` refresh (one call per 500 contacts changed);
- cold or expired index: one `GET /contacts?email=` per email when that is no more than a sync
  (the account's size known from the last sync, or a single email), else a full sync paging
  `GET /contacts?limit=500&status=all`. On a cold index the sync's first page also tells the
  account's size: if the emails it did not hold are fewer than the pages left, those are
  looked up one by one instead.
So what the bot says about a contact is at most FRESH_FOR old when the index answers, and a
contact that `updated_after` cannot reveal (its change not yet searchable, a clock further off
than WATERMARK_OVERLAP) is corrected by the full resync at most FULL_RESYNC_AFTER later.
"""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.cc.budget import in_background
from bot.cc.client import CONTACT_MEMBERSHIPS, AccountClient
from bot.cc.models import MAX_PAGE_LIMIT, Contact, ContactPage, LimitError
from bot.clock import SYSTEM_CLOCK, Clock
from bot.store.contact_index import ContactIndex, IndexedContact, SyncState, account_key_of
from bot.store.store import Store

# One refresh costs a call; a person previewing, then confirming, then starting another
# request within a minute is served from the index without one.
FRESH_FOR = timedelta(seconds=60)
# A full sync of 50,000 contacts is 100 calls, 1% of the day's budget: once a day bounds what
# `updated_after` may have missed (changes indexed late on Constant Contact's side).
FULL_RESYNC_AFTER = timedelta(hours=24)
# Each `updated_after` reaches back this far before the last refresh started, for clocks that
# disagree and changes that become searchable a little after they were made. It only costs
# reading again the contacts changed in those two minutes.
WATERMARK_OVERLAP = timedelta(minutes=2)
# A sync that holds the lock longer than this is taken for dead and the lock for free.
SYNC_LOCK_SECONDS = 15 * 60.0
# The largest CSV read: the size Slack's file_input allows by default.
MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_EMAIL_LENGTH = 254
# Up to this many contact ids are checked one call each on a cold index of unknown size; more
# are checked by a full sync (500 contacts a call) that also warms the index.
FEW_IDS = 8
DELETED = "deleted"
UNSUBSCRIBED = "unsubscribed"

_LOCAL = r"[A-Za-z0-9._%+'&-]+"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
EMAIL = re.compile(rf"{_LOCAL}@{_DOMAIN}")
# In running text: not glued to a word on either side.
_EMAIL_IN_TEXT = re.compile(rf"(?<![\w.%+'&-]){_LOCAL}@{_DOMAIN}(?![\w-])")
# Slack's forms: <mailto:a@b.com|a@b.com>, <https://x|label>, <@U1|name>, <#C1|name>.
_SLACK_FORM = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SEPARATORS = re.compile(r"[\s,;]+")


# ---------------------------------------------------------------- people in


@dataclass(frozen=True)
class ContactsIn:
    """What `--contacts` named: emails (lower-cased) and contact ids, each once, in order."""

    emails: tuple[str, ...]
    contact_ids: tuple[str, ...]


def unique_emails(values: Iterable[str]) -> list[str]:
    """Lower-cased, each once, in the order first seen."""
    return list(dict.fromkeys(value.strip().lower() for value in values if value.strip()))


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and EMAIL.fullmatch(value) is not None


def _as_typed(text: str) -> str:
    """Slack's text as the person typed it: its <...> forms unwrapped, & < > unescaped."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("mailto:"):
            return target.removeprefix("mailto:")
        return label if label is not None else target

    text = _SLACK_FORM.sub(unwrap, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emails_in_text(text: str) -> list[str]:
    """Every email address in free text (a message, a pasted column), each once, in order."""
    found = _EMAIL_IN_TEXT.findall(_as_typed(text))
    return unique_emails(email for email in found if len(email) <= MAX_EMAIL_LENGTH)


def contacts_in(text: str) -> ContactsIn:
    """`--contacts` as typed: emails or contact ids, separated by commas, spaces or newlines.

    Raises LimitError naming what is neither, or when nothing is named.
    """
    items = [item for item in _SEPARATORS.split(_as_typed(text)) if item]
    emails = [item for item in items if is_email(item)]
    ids = [item.lower() for item in items if not is_email(item) and is_uuid(item)]
    bad = [item for item in items if not is_email(item) and not is_uuid(item)]
    if bad:
        shown = ", ".join(f"“{item[:60]}”" for item in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise LimitError(f"{shown}{more}: neither an email nor a contact id")
    if not items:
        raise LimitError("Name at least one contact: an email or a contact id")
    return ContactsIn(tuple(unique_emails(emails)), tuple(dict.fromkeys(ids)))


def is_uuid(value: str) -> bool:
    """A contact, activity or job id: a UUID in its 36-character form."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def emails_in_csv(data: bytes) -> list[str]:
    """The emails of a CSV file, in any column, with or without a header, each once, in order.

    Reads UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252; separators `,`, `;`,
    tab or `|`; quoted fields. Raises LimitError for a file too large, empty, not text, not
    CSV, or holding no email.
    """
    if len(data) > MAX_CSV_BYTES:
        raise LimitError(
            f"The file is {len(data) / 1_048_576:.1f} MB; a CSV file of at most "
            f"{MAX_CSV_BYTES // 1_048_576} MB is read"
        )
    text = _decoded(data)
    if not text.strip():
        raise LimitError("The file is empty: a CSV file with a column of emails is needed")
    found: list[str] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), _dialect(text)):
            for cell in row:
                found += _EMAIL_IN_TEXT.findall(cell)
    except csv.Error as exc:
        raise LimitError(f"The file could not be read as CSV: {exc}") from None
    emails = unique_emails(email for email in found if len(email) <= MAX_EMAIL_LENGTH)
    if not emails:
        raise LimitError("No email address was found in the file")
    return emails


def _decoded(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise LimitError("The file is not a text CSV file (it holds binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:65_536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:  # one column, or too little to tell: commas
        return csv.excel


# ---------------------------------------------------------------- resolving


class ResolveMethod(StrEnum):
    INDEX = "index"  # the warm index answered (after at most one refresh)
    LOOKUPS = "lookups"  # one GET /contacts?email= per email
    SYNC = "sync"  # a full sync, then the index answered


class Skipped(BaseModel):
    email: str
    contact_id: str
    reason: str  # "unsubscribed" or "deleted"


class Resolution(BaseModel):
    found: dict[str, str] = Field(default_factory=dict)  # email → contact id, taggable
    not_found: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    calls: int = 0
    method: ResolveMethod = ResolveMethod.INDEX
    # What Constant Contact said is as of this moment, or newer (None: nothing was asked).
    fresh_as_of: datetime | None = None

    @property
    def contact_ids(self) -> list[str]:
        return list(dict.fromkeys(self.found.values()))


# The contact model carries the schema's `deleted_at`, which marks deleted contacts.
IndexPage = ContactPage


def contact_status(contact: Contact) -> str:
    """`deleted`, or the contact's permission_to_send (`not_set` when it says none)."""
    if contact.deleted_at is not None:
        return DELETED
    address = contact.email_address
    return (address.permission_to_send if address else None) or "not_set"


def skip_reason(status: str) -> str | None:
    return status if status in (DELETED, UNSUBSCRIBED) else None


def indexed(page: ContactPage) -> list[IndexedContact]:
    """A page's contacts as the index keeps them (their taggings and lists when included)."""
    return [
        IndexedContact(
            c.email_address.address.strip().lower(),
            c.contact_id,
            contact_status(c),
            c.updated_at,
            tuple(c.taggings or ()),
            tuple(c.list_memberships or ()),
        )
        for c in page.contacts
        if c.email_address is not None and c.email_address.address
    ]


def sync_cost(contacts: int) -> int:
    """Calls of a full sync of an account of `contacts` contacts."""
    return max(1, math.ceil(contacts / MAX_PAGE_LIMIT))


class ContactResolver:
    """Emails → contacts of one account, through the shared contact index."""

    def __init__(self, store: Store, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._index = ContactIndex(store)
        self._clock = clock

    def resolve(
        self, client: AccountClient, emails: Sequence[str], *, account_key: str | None
    ) -> Resolution:
        wanted = unique_emails(emails)
        key = account_key_of(account_key)
        if not wanted:
            return Resolution()
        # Freshness is counted from when the request was asked, not from when the sync lock
        # was had: a sync another process finished while this one waited for the lock is as
        # good as one made now, however long the wait.
        asked_at = self._clock.now()
        state = self._index.sync_state(key)
        if self._warm(state):
            return self._from_warm_index(client, key, wanted, asked_at)
        known = state.contacts if state is not None and state.full_sync_at else None
        if len(wanted) == 1 or (known is not None and len(wanted) <= sync_cost(known)):
            return self.look_up_each(client, wanted)
        return self._sync_then_resolve(
            client, key, wanted, know_size=known is not None, asked_at=asked_at
        )

    def estimate_calls(
        self, email_count: int, *, account_key: str | None, account_size: int | None = None
    ) -> int:
        """What resolving `email_count` emails would cost now, by the rules `resolve` follows.
        On a cold index whose account size is unknown, give `account_size` (see
        `size_unknown`); without it the estimate is the worst case, one call per email."""
        state = self._index.sync_state(account_key_of(account_key))
        if self._warm(state):
            return 0 if self._fresh(state) else 1
        if email_count <= 1:
            return email_count
        if state is not None and state.full_sync_at:
            return min(email_count, sync_cost(state.contacts))
        if account_size is not None:  # the first page, then look-ups or the rest of a sync
            return min(1 + email_count, sync_cost(account_size))
        return email_count

    def index_cost(self, *, account_key: str | None, after: datetime | None = None) -> int | None:
        """What making the index answer now costs: 0 or 1 call warm, None when it is cold."""
        state = self._index.sync_state(account_key_of(account_key))
        if state is None or not self._warm(state):
            return None
        return 0 if self._fresh_after(state, self._clock.now(), after) else 1

    def fresh_index(
        self, client: AccountClient, *, account_key: str | None, after: datetime | None = None
    ) -> int | None:
        """Bring a warm index up to date (an `updated_after` refresh when it is not fresh, or
        was last refreshed before `after`: a change known to have ended then) and answer the
        calls spent; None when the index is cold (the caller asks the API)."""
        key = account_key_of(account_key)
        asked_at = self._clock.now()
        if not self._warm(self._index.sync_state(key)):
            return None
        with self._sync_lock(key):
            state = self._index.sync_state(key)
            if state is None or self._fresh_after(state, asked_at, after):
                return 0
            calls, _ = self._refresh(client, key, state)
        return calls

    def _fresh_after(self, state: SyncState, asked_at: datetime, after: datetime | None) -> bool:
        refreshed = state.refreshed_at
        late_enough = after is None or (refreshed is not None and refreshed >= after)
        return self._fresh(state, asked_at) and late_enough

    @property
    def index(self) -> ContactIndex:
        return self._index

    def size_unknown(self, account_key: str | None) -> bool:
        """A cold index that never learnt the account's size: only then is it worth a call."""
        state = self._index.sync_state(account_key_of(account_key))
        return not self._warm(state) and not (state is not None and state.full_sync_at)

    def check_ids(
        self, client: AccountClient, contact_ids: Sequence[str], *, account_key: str | None
    ) -> IdCheck:
        """Which named contact ids the account holds: through the index when it is warm (or
        when a sync costs less than one call per id), else one `GET /contacts/{id}` each."""
        wanted = list(dict.fromkeys(contact_ids))
        key = account_key_of(account_key)
        if not wanted:
            return IdCheck()
        state = self._index.sync_state(key)
        calls = 0
        if self._warm(state):
            calls = self._from_warm_index(client, key, [], self._clock.now()).calls
        elif len(wanted) > self._sync_cost_or(state, FEW_IDS):
            with self._sync_lock(key):
                calls = self._sync(client, key, [], know_size=True).calls
        else:
            return self._get_each(client, wanted)
        indexed = self._index.by_ids(key, wanted)
        check = IdCheck(calls=calls)
        for contact_id in wanted:
            _check_one(check, contact_id, indexed.get(contact_id))
        return check

    @staticmethod
    def _sync_cost_or(state: SyncState | None, default: int) -> int:
        """A full sync's calls when the account's size is known, else `default`."""
        return sync_cost(state.contacts) if state is not None and state.full_sync_at else default

    def _get_each(self, client: AccountClient, contact_ids: Sequence[str]) -> IdCheck:
        check = IdCheck(calls=len(contact_ids))
        for contact_id in contact_ids:
            contact = client.get_contact(contact_id)
            found = None
            if contact is not None:
                found = IndexedContact("", contact_id, contact_status(contact), contact.updated_at)
            _check_one(check, contact_id, found)
        return check

    # ------------------------------------------------------------ freshness
    def _warm(self, state: SyncState | None) -> bool:
        return (
            state is not None
            and state.full_sync_at is not None
            and self._clock.now() - state.full_sync_at < FULL_RESYNC_AFTER
        )

    def _fresh(self, state: SyncState | None, asked_at: datetime | None = None) -> bool:
        """Refreshed less than FRESH_FOR before `asked_at` (now), or after it."""
        moment = asked_at or self._clock.now()
        return (
            state is not None
            and state.refreshed_at is not None
            and moment - state.refreshed_at < FRESH_FOR
        )

    @contextmanager
    def _sync_lock(self, key: str) -> Iterator[None]:
        """One process syncs an account at a time; the others then find the index fresh."""
        with self._store.refresh_lock(f"contact-index:{key}", timeout=SYNC_LOCK_SECONDS):
            yield

    # ------------------------------------------------------------ the three ways
    def _from_warm_index(
        self, client: AccountClient, key: str, wanted: list[str], asked_at: datetime
    ) -> Resolution:
        calls = 0
        state = self._index.sync_state(key)
        if not self._fresh(state, asked_at):
            with self._sync_lock(key):
                state = self._index.sync_state(key)
                if not self._fresh(state, asked_at) and state is not None:
                    calls, state = self._refresh(client, key, state)
        resolution = self._answer(key, wanted, ResolveMethod.INDEX, calls)
        resolution.fresh_as_of = state.refreshed_at if state else None
        return resolution

    def _refresh(
        self, client: AccountClient, key: str, state: SyncState
    ) -> tuple[int, SyncState | None]:
        started = self._clock.now()
        since = state.watermark or state.full_sync_at or started
        calls = 0
        for page in client.iter_contact_pages(
            updated_after=since, page_model=IndexPage, include=CONTACT_MEMBERSHIPS
        ):
            calls += 1
            self._index.upsert(key, indexed(page), started)
        watermark = max(since, started - WATERMARK_OVERLAP)
        return calls, self._index.finish_refresh(key, started, watermark)

    def look_up_each(self, client: AccountClient, emails: Sequence[str]) -> Resolution:
        """One `GET /contacts?email=<lower-cased>&status=all` per email, without the index."""
        resolution = Resolution(method=ResolveMethod.LOOKUPS, fresh_as_of=self._clock.now())
        for email in unique_emails(emails):
            page = next(iter(client.iter_contact_pages(email=email, page_model=IndexPage)))
            resolution.calls += 1
            _classify(resolution, email, [c for c in indexed(page) if c.email == email])
        return resolution

    def _sync_then_resolve(
        self,
        client: AccountClient,
        key: str,
        wanted: list[str],
        *,
        know_size: bool,
        asked_at: datetime,
    ) -> Resolution:
        with self._sync_lock(key):
            synced_meanwhile = self._warm(self._index.sync_state(key))  # by another process
            if not synced_meanwhile:
                return self._sync(client, key, wanted, know_size=know_size)
        return self._from_warm_index(client, key, wanted, asked_at)

    def _sync(
        self, client: AccountClient, key: str, wanted: list[str], *, know_size: bool
    ) -> Resolution:
        """Page every contact into the index (the caller holds the sync lock)."""
        started = self._clock.now()
        pages = iter(
            client.iter_contact_pages(
                include_count=not know_size, page_model=IndexPage, include=CONTACT_MEMBERSHIPS
            )
        )
        first = next(pages)
        self._index.upsert(key, indexed(first), started)
        if not know_size:
            held = {c.email for c in indexed(first)}
            missing = [email for email in wanted if email not in held]
            if len(missing) < sync_cost(first.contacts_count or 0):
                return self._first_page_then_lookups(client, first, wanted, missing)
        calls = 1
        with in_background():  # the rest of a full sync is background work in the key's budget
            for page in pages:
                calls += 1
                self._index.upsert(key, indexed(page), started)
        self._index.finish_full_sync(key, started, started - WATERMARK_OVERLAP)
        resolution = self._answer(key, wanted, ResolveMethod.SYNC, calls)
        resolution.fresh_as_of = started
        return resolution

    def _first_page_then_lookups(
        self, client: AccountClient, first: ContactPage, wanted: list[str], missing: list[str]
    ) -> Resolution:
        looked_up = self.look_up_each(client, missing)
        by_email: dict[str, list[IndexedContact]] = {}
        for contact in indexed(first):
            by_email.setdefault(contact.email, []).append(contact)
        resolution = Resolution(
            method=ResolveMethod.LOOKUPS,
            calls=1 + looked_up.calls,
            fresh_as_of=looked_up.fresh_as_of,
        )
        for email in wanted:
            if email in by_email:
                _classify(resolution, email, by_email[email])
            else:
                _merge_one(resolution, looked_up, email)
        return resolution

    def _answer(self, key: str, wanted: list[str], method: ResolveMethod, calls: int) -> Resolution:
        indexed = self._index.lookup(key, wanted)
        resolution = Resolution(method=method, calls=calls)
        for email in wanted:
            _classify(resolution, email, indexed.get(email, []))
        return resolution


@dataclass
class IdCheck:
    """What named contact ids came to: taggable ones, unknown ones, skipped ones (id, why)."""

    found: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0


def _check_one(check: IdCheck, contact_id: str, contact: IndexedContact | None) -> None:
    if contact is None:
        check.unknown.append(contact_id)
    elif (reason := skip_reason(contact.status)) is not None:
        check.skipped.append((contact_id, reason))
    else:
        check.found.append(contact_id)


def _classify(resolution: Resolution, email: str, candidates: list[IndexedContact]) -> None:
    """A taggable contact wins over a skipped one with the same address (a deleted old one)."""
    taggable = [c for c in candidates if skip_reason(c.status) is None]
    if taggable:
        resolution.found[email] = taggable[0].contact_id
    elif candidates:
        reason = skip_reason(candidates[0].status) or candidates[0].status
        resolution.skipped.append(
            Skipped(email=email, contact_id=candidates[0].contact_id, reason=reason)
        )
    else:
        resolution.not_found.append(email)


def _merge_one(into: Resolution, source: Resolution, email: str) -> None:
    if email in source.found:
        into.found[email] = source.found[email]
    elif email in source.not_found:
        into.not_found.append(email)
    else:
        into.skipped += [s for s in source.skipped if s.email == email]
