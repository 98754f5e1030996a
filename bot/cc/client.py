"""The one Constant Contact client: HTTP and the V3 schema, nothing about Slack.

`CCApi` is shared per API key (one httpx.Client, one rate limiter for every account);
`AccountClient` is that API bound to one account's tokens: `api.for_account(tokens)`.

Retry policy:
- every request waits for the key's rate limiter first (QuotaExhausted: no call is made);
- a request that never left (connection refused, connect or pool timeout) is retried whatever
  its method, a bounded number of times;
- 429 `throttled` holds every caller of the key back (Retry-After, else exponential backoff) and
  is retried, even for POSTs: a throttled request was not processed;
- 429 `quota_exceeded` marks the key's day spent in the limiter and raises BudgetSpent, as
  when our own count runs out (a person is told when it resets, background work waits);
- the 1,000-queued-activities 429 is raised at once;
- GET and PUT retry 5xx, read timeouts and broken connections with backoff, a bounded number
  of times;
- a request that starts an activity (the five POSTs, and DELETE of a tag, whose 202 carries an
  activity) is never retried blindly. Its answer counts as lost on a read/write timeout, a
  connection broken after sending, or any 5xx (a gateway may answer 502/504 after the API
  committed). `AccountClient._reconcile` then asks the recent activities whether it started;
  when they do not show it, a 5xx (answered: nothing is travelling any more) is sent once
  more, but an unanswered request raises StartInDoubt: it may reach the API after the look,
  so it is sent again only once the API is asked after no request could still be travelling;
- a POST /contact_tags whose answer is lost looks the tag up by name before sending again;
- a 401 gets one refresh of the account's token and one retry.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from bot.cc import inputs
from bot.cc.budget import BudgetSpent, BudgetView, next_reset, read_budget
from bot.cc.errors import (
    AmbiguousActivity,
    AuthError,
    CCError,
    ConnectionBroken,
    NotFound,
    RateLimited,
    ServerError,
    StartInDoubt,
    Timeout,
    TooManyQueuedActivities,
    TransportError,
    UnexpectedResponse,
    error_for,
)
from bot.cc.models import (
    MAX_PAGE_LIMIT,
    Activity,
    ActivityKind,
    ActivityPage,
    ActivityStateFilter,
    Contact,
    ContactList,
    ContactListPage,
    ContactPage,
    LimitError,
    ListMembershipRequest,
    Tag,
    TagCreate,
    TagDeleteRequest,
    TaggingRequest,
    TagPage,
    TagRename,
    build,
)
from bot.cc.ports import RateLimiter, TokenSource
from bot.clock import SYSTEM_CLOCK, Clock

__all__ = ["AccountClient", "AmbiguousActivity", "CCApi"]

MAX_LISTS_PER_CONTACT_QUERY = 25
MAX_TAGS_PER_CONTACT_QUERY = 50
MAX_LISTS_PAGE = 1000
# What GET /contacts adds to each contact so that who carries a tag or is on a list is known.
CONTACT_MEMBERSHIPS = ("taggings", "list_memberships")
# How far the API's clock may be behind ours when matching a lost POST to its activity.
CLOCK_SKEW = timedelta(seconds=5)
# Activities read to reconcile a lost answer: if every one of them falls inside the window,
# there are this many candidates at least, which is ambiguous anyway.
RECONCILE_LIMIT = 50
# Activity ids this process started, remembered so a reconciliation never takes them for its own.
STARTED_MEMORY = 10_000

M = TypeVar("M", bound=BaseModel)


class _NotSent(Exception):
    """The request never left: safe to send again whatever it does."""

    def __init__(self, cause: CCError) -> None:
        super().__init__(cause.message)
        self.cause = cause


class _AnswerLost(Exception):
    """The request may have reached the API, but its answer did not reach us."""

    def __init__(self, cause: CCError) -> None:
        super().__init__(cause.message)
        self.cause = cause


class CCApi:
    """Shared per API key: connection pool, rate budget, retry policy."""

    def __init__(
        self,
        base_url: str,
        limiter: RateLimiter,
        *,
        http: httpx.Client | None = None,
        clock: Clock = SYSTEM_CLOCK,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.limiter = limiter
        self.clock = clock
        self._http = http or httpx.Client(timeout=timeout)
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        # Activity requests in flight in this process, by ticket → account key. Kept here, not on
        # AccountClient: a client is made per use, and all of them must see each other.
        self._in_flight: dict[int, str | None] = {}
        self._in_flight_lock = threading.Lock()
        self._tickets = itertools.count()
        self._started = _BoundedIds(STARTED_MEMORY)
        # Candidates of an ambiguous reconciliation: no later one may claim them either.
        self._contested = _BoundedIds(STARTED_MEMORY)

    def for_account(self, tokens: TokenSource, account_key: str | None = None) -> AccountClient:
        """`account_key` names the account (e.g. the workspace) so that clients made for it at
        different times share what is in flight; None is conservative: every account."""
        return AccountClient(self, tokens, account_key)

    # ------------------------------------------------------------ activity requests in flight
    def begin_activity_request(self, account_key: str | None) -> int:
        with self._in_flight_lock:
            ticket = next(self._tickets)
            self._in_flight[ticket] = account_key
            return ticket

    def end_activity_request(self, ticket: int) -> None:
        with self._in_flight_lock:
            self._in_flight.pop(ticket, None)

    def others_in_flight(self, ticket: int, account_key: str | None) -> bool:
        """Another activity request that may be for the same account is still waiting."""
        with self._in_flight_lock:
            return any(
                other != ticket and (key is None or account_key is None or key == account_key)
                for other, key in self._in_flight.items()
            )

    def close(self) -> None:
        self._http.close()

    def url(self, path_or_url: str) -> str:
        """An endpoint path ("/contact_tags") under the base URL, or a URL `resolve_href` made."""
        if path_or_url.startswith(self._origin + "/"):
            return path_or_url
        return self.base_url + path_or_url

    def resolve_href(self, href: str) -> str:
        """A `_links` href ("/v3/contacts?cursor=..." or "/contacts-service/v3/accounts/...")
        resolved against the API's host, never glued to the base path. A link to another host
        is refused: it would carry the account's token there."""
        resolved = urljoin(self._origin + "/", href)
        if not resolved.startswith(self._origin + "/"):
            raise UnexpectedResponse(f"Constant Contact linked to another host: {href[:200]}")
        return resolved

    # ------------------------------------------------------------ activities started here
    def remember_started(self, activity_id: str) -> None:
        self._started.add(activity_id)

    def started_here(self, activity_id: str) -> bool:
        return activity_id in self._started

    def contest(self, activity_ids: list[str]) -> None:
        for activity_id in activity_ids:
            self._contested.add(activity_id)

    def contested(self, activity_id: str) -> bool:
        return activity_id in self._contested

    # ------------------------------------------------------------ requests
    def request(
        self,
        tokens: TokenSource,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: BaseModel | None = None,
        retry_unsafe: bool,
    ) -> httpx.Response:
        """Send one API request with the policy of the module docstring.

        `retry_unsafe` is True for requests that may be repeated (GET, PUT); for the others a
        lost answer raises _AnswerLost, for the caller to reconcile.
        """
        content = body.model_dump(mode="json", exclude_none=True, by_alias=True) if body else None
        attempt, refreshed = 0, False
        while True:
            token = tokens.access_token()
            try:
                response = self._send(token, method, path, params, content)
            except _NotSent as failure:
                error: CCError = failure.cause
            except _AnswerLost as lost:
                if not retry_unsafe:
                    raise
                error = lost.cause
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and not refreshed:
                    _refresh_after_401(tokens, token, response)
                    refreshed = True
                    continue
                error = error_for(response.status_code, response.text, _retry_after(response))
                if isinstance(error, RateLimited) and error.is_daily_quota:
                    raise self._day_spent() from error
                if isinstance(error, ServerError) and not retry_unsafe:
                    raise _AnswerLost(error)
            if attempt >= self._max_retries or not _transient(error):
                raise error
            self._wait_before_retry(error, attempt)
            attempt += 1

    def _send(
        self,
        token: str,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        content: Any,
    ) -> httpx.Response:
        self.limiter.acquire()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            return self._http.request(
                method, self.url(path), params=params, json=content, headers=headers
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise _NotSent(Timeout("Could not connect to Constant Contact in time")) from None
        except httpx.ConnectError as exc:
            raise _NotSent(TransportError(f"Cannot reach Constant Contact: {exc}")) from None
        except httpx.TimeoutException:
            raise _AnswerLost(Timeout("Constant Contact did not answer in time")) from None
        except httpx.TransportError as exc:
            raise _AnswerLost(
                TransportError(f"Connection to Constant Contact failed: {exc}")
            ) from None

    def _day_spent(self) -> BudgetSpent:
        """Constant Contact's own 429 quota_exceeded: the key's day is spent whatever we
        counted; told and handled like our own count running out (bot/cc/budget.py)."""
        self.limiter.spent_today()
        reset = next_reset(self.clock.now())
        return BudgetSpent("key", reset, reset)

    def _wait_before_retry(self, error: CCError, attempt: int) -> None:
        if isinstance(error, RateLimited):
            self.limiter.hold_off(error.retry_after or self._backoff_seconds(attempt))
        else:
            self.clock.sleep(self._backoff_seconds(attempt))

    def _backoff_seconds(self, attempt: int) -> float:
        return float(self._backoff_base * (2**attempt))


class _BoundedIds:
    """A thread-safe set of the last `size` ids added."""

    def __init__(self, size: int) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, item: str) -> None:
        with self._lock:
            self._ids[item] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._ids


def _transient(error: CCError) -> bool:
    """Whether sending the same request again, a moment later, may succeed."""
    if isinstance(error, RateLimited):
        return not (error.is_daily_quota or isinstance(error, TooManyQueuedActivities))
    return isinstance(error, ServerError | Timeout | TransportError)


def _refresh_after_401(tokens: TokenSource, rejected: str, response: httpx.Response) -> None:
    try:
        tokens.refresh(rejected)
    except ConnectionBroken:
        raise
    except AuthError as exc:
        refused = error_for(401, response.text)
        raise AuthError(
            f"{refused.message}: {exc.message}", status=401, error_key=refused.error_key
        ) from exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_answer(model: type[M], response: httpx.Response) -> M:
    """The answer as `model`; a body that is not one is UnexpectedResponse, never a crash."""
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise UnexpectedResponse(
            f"Constant Contact answered {response.status_code} with an unexpected body: {exc}",
            status=response.status_code,
        ) from None


class AccountClient:
    """Every operation cctag performs on one Constant Contact account."""

    def __init__(self, api: CCApi, tokens: TokenSource, account_key: str | None = None) -> None:
        self._api = api
        self._tokens = tokens
        self._account_key = account_key

    @property
    def account_key(self) -> str | None:
        """Which account this is (None: the one configured account); pollers group by it."""
        return self._account_key

    def budget(self, workspace: str) -> BudgetView | None:
        """The API key's budget as `workspace` sees it (read-only: no call, no slot)."""
        return read_budget(self._api.limiter, workspace)

    # ------------------------------------------------------------------ plumbing
    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self._api.request(self._tokens, "GET", path, params=params, retry_unsafe=True)

    def _pages(self, path: str, params: dict[str, Any], model: type[_PageT]) -> Iterator[_PageT]:
        page = parse_answer(model, self._get(path, params))
        yield page
        while (href := _next_href(page)) is not None:
            page = parse_answer(model, self._get(self._api.resolve_href(href)))
            yield page

    # ------------------------------------------------------------------ tags
    def create_tag(self, name: str, tag_source: str | None = None) -> Tag:
        body = build(TagCreate, {"name": name, "tag_source": tag_source})
        try:
            response = self._api.request(
                self._tokens, "POST", "/contact_tags", body=body, retry_unsafe=False
            )
        except _AnswerLost as lost:
            # A tag is found by its unique name: look before creating it again.
            existing = self.find_tag_by_name(body.name)
            if existing is not None:
                return existing
            response = self._send_once_more("POST", "/contact_tags", body, lost)
        return parse_answer(Tag, response)

    def get_tag(self, tag_id: str, include_count: bool = False) -> Tag:
        params = {"include_count": "true"} if include_count else None
        return parse_answer(Tag, self._get(f"/contact_tags/{tag_id}", params))

    def iter_tags(self, include_count: bool = False, page_size: int = 500) -> Iterator[Tag]:
        params: dict[str, Any] = {"limit": _page_size(page_size, MAX_PAGE_LIMIT)}
        if include_count:
            params["include_count"] = "true"
        pages = self._pages("/contact_tags", params, TagPage)
        return (tag for page in pages for tag in page.tags)

    def list_tags(self, include_count: bool = False) -> list[Tag]:
        return list(self.iter_tags(include_count=include_count))

    def find_tag_by_name(self, name: str) -> Tag | None:
        """The tag whose name matches, ignoring case (as the API's uniqueness does)."""
        wanted = name.strip().casefold()
        return next((t for t in self.iter_tags() if t.name.casefold() == wanted), None)

    def rename_tag(self, tag_id: str, name: str) -> Tag:
        body = build(TagRename, {"name": name})
        response = self._api.request(
            self._tokens, "PUT", f"/contact_tags/{tag_id}", body=body, retry_unsafe=True
        )
        return parse_answer(Tag, response)

    def delete_tag(self, tag_id: str) -> Activity:
        """DELETE /contact_tags/{id}: asynchronous, 202 with the activity that deletes it.

        Reconciled like the activity POSTs rather than retried: a blind retry would start a
        second activity, or answer 404 for a tag that is being deleted as asked.
        """
        return self._start_activity("DELETE", f"/contact_tags/{tag_id}", None)

    # ------------------------------------------------------------------ bulk activities
    def add_tags(self, request: TaggingRequest) -> Activity:
        body = build(TaggingRequest, request.model_dump())
        return self._start(ActivityKind.ADD_TAGS, body)

    def remove_tags(self, request: TaggingRequest) -> Activity:
        body = build(TaggingRequest, request.model_dump())
        return self._start(ActivityKind.REMOVE_TAGS, body)

    def delete_tags(self, tag_ids: Sequence[str]) -> Activity:
        body = build(TagDeleteRequest, {"tag_ids": list(tag_ids)})
        return self._start(ActivityKind.DELETE_TAGS, body)

    def add_to_lists(self, request: ListMembershipRequest) -> Activity:
        segment = getattr(request.source, "segment_id", None)
        if segment is not None:
            inputs.segment_id(segment)
        body = build(ListMembershipRequest, request.model_dump())
        return self._start(ActivityKind.ADD_TO_LISTS, body)

    def remove_from_lists(self, request: ListMembershipRequest) -> Activity:
        if getattr(request.source, "segment_id", None) is not None:
            raise LimitError("A segment cannot be the source for removing contacts from lists")
        body = build(ListMembershipRequest, request.model_dump())
        return self._start(ActivityKind.REMOVE_FROM_LISTS, body)

    def _start(self, kind: ActivityKind, body: BaseModel) -> Activity:
        return self._start_activity("POST", f"/activities/{kind.value}", body)

    def _start_activity(self, method: str, path: str, body: BaseModel | None) -> Activity:
        sent_at = self._api.clock.now()
        ticket = self._api.begin_activity_request(self._account_key)
        try:
            try:
                response = self._api.request(
                    self._tokens, method, path, body=body, retry_unsafe=False
                )
            except _AnswerLost as lost:
                found = self._reconcile(sent_at, ticket)
                if found is not None:
                    return self._remember(found)
                if not isinstance(lost.cause, ServerError):
                    # Unanswered: it may still be travelling, and start after this look.
                    raise StartInDoubt(lost.cause) from None
                response = self._send_once_more(method, path, body, lost)
            return self._remember(parse_answer(Activity, response))
        finally:
            self._api.end_activity_request(ticket)

    def _reconcile(self, sent_at: datetime, ticket: int) -> Activity | None:
        """Did a request whose answer was lost start an activity?

        One GET /activities?limit=50 (newest first). Candidates: activities created since the
        request was sent, less CLOCK_SKEW, that no request of this process was answered with.
        - one candidate, and no other activity request of this account was in flight meanwhile
          in this process: that is ours;
        - none: the request did not start anything (the caller sends it once more);
        - several, or one while another request of ours was in flight (its answer may still be
          coming), or one that an earlier ambiguous reconciliation offered: AmbiguousActivity
          (its candidates are then contested for good), rather than risking a second activity.
        Limits: the list does not say which endpoint started an activity, so a lone activity
        started within those seconds by another process (or by hand) on the same account is
        taken for ours; and a request the API is still working on when the list is read
        (held longer than our timeout before committing) is not seen, so sending it again may
        start a second activity. Both need a second writer or a stalled API within seconds.
        """
        since = sent_at - CLOCK_SKEW
        candidates = [
            activity
            for activity in self.list_activities(limit=RECONCILE_LIMIT)
            if activity.created_at is not None
            and activity.created_at >= since
            and not self._api.started_here(activity.activity_id)
        ]
        if (
            len(candidates) > 1
            or (candidates and self._api.others_in_flight(ticket, self._account_key))
            or any(self._api.contested(a.activity_id) for a in candidates)
        ):
            self._api.contest([a.activity_id for a in candidates])
            raise AmbiguousActivity(candidates)
        return candidates[0] if candidates else None

    def _send_once_more(
        self, method: str, path: str, body: BaseModel | None, lost: _AnswerLost
    ) -> httpx.Response:
        try:
            return self._api.request(self._tokens, method, path, body=body, retry_unsafe=False)
        except _AnswerLost as again:
            if isinstance(again.cause, ServerError):
                raise again.cause from lost.cause
            raise StartInDoubt(again.cause) from lost.cause

    def _remember(self, activity: Activity) -> Activity:
        self._api.remember_started(activity.activity_id)
        return activity

    # ------------------------------------------------------------------ activities
    def get_activity(self, activity_id: str) -> Activity:
        """One activity; an id that is no UUID is refused (LimitError) before any call."""
        checked = inputs.activity_id(activity_id)
        return parse_answer(Activity, self._get(f"/activities/{checked}"))

    def list_activities(
        self, limit: int = 50, state: ActivityStateFilter | None = None
    ) -> list[Activity]:
        """The account's most recent activities (newest first), one call."""
        params: dict[str, Any] = {"limit": _page_size(limit, MAX_PAGE_LIMIT)}
        if state is not None:
            params["state"] = state
        return parse_answer(ActivityPage, self._get("/activities", params)).activities

    # ------------------------------------------------------------------ contact lists
    def iter_lists(
        self, include_membership_count: bool = False, page_size: int = 500
    ) -> Iterator[ContactList]:
        params: dict[str, Any] = {"limit": _page_size(page_size, MAX_LISTS_PAGE)}
        if include_membership_count:
            params["include_membership_count"] = "all"
        pages = self._pages("/contact_lists", params, ContactListPage)
        return (found for page in pages for found in page.lists)

    def list_lists(self, include_membership_count: bool = False) -> list[ContactList]:
        return list(self.iter_lists(include_membership_count=include_membership_count))

    def find_list_by_name(self, name: str) -> ContactList | None:
        """The list with exactly this name (the API's `name` filter), with its member count."""
        params = {"name": inputs.list_name(name), "include_membership_count": "all"}
        page = parse_answer(ContactListPage, self._get("/contact_lists", params))
        return next((found for found in page.lists if found.name == name), None)

    # ------------------------------------------------------------------ contacts
    def find_contact_by_email(self, email: str) -> Contact | None:
        """The contact with this address, never a deleted one: the address is sent lower-cased
        (the API matches it so), and the default status leaves deleted contacts out."""
        params = {"email": email.strip().lower(), "limit": 1}
        page = parse_answer(ContactPage, self._get("/contacts", params))
        return next((c for c in page.contacts if c.deleted_at is None), None)

    def get_contact(self, contact_id: str) -> Contact | None:
        """The contact of that id (a deleted one too: it says `deleted_at`), or None."""
        try:
            return parse_answer(Contact, self._get(f"/contacts/{inputs.contact_id(contact_id)}"))
        except NotFound:
            return None

    def count_contacts(
        self,
        *,
        list_ids: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        status: str | None = None,
    ) -> int:
        """How many contacts a selection touches (for previews): one call, limit=1."""
        params: dict[str, Any] = {"include_count": "true", "limit": 1}
        params |= _members_of(tag_ids or (), list_ids or ())
        if status:
            params["status"] = status
        page = parse_answer(ContactPage, self._get("/contacts", params))
        return page.contacts_count or 0

    def iter_contact_pages(
        self,
        *,
        status: str = "all",
        updated_after: datetime | None = None,
        email: str | None = None,
        include_count: bool = False,
        page_size: int = MAX_PAGE_LIMIT,
        page_model: type[ContactPage] = ContactPage,
        tag_ids: Sequence[str] = (),
        list_ids: Sequence[str] = (),
        include: Sequence[str] = (),
    ) -> Iterator[ContactPage]:
        """GET /contacts page by page (one call each, following `_links.next`), lazily.

        `status` is the API's comma-separated filter ("all" includes deleted contacts);
        `page_model` may be a subclass of ContactPage that reads more of each contact;
        `tag_ids` / `list_ids` narrow it to members of any of them (at most 50 / 25);
        `include` adds sub-resources (`taggings`, `list_memberships`).
        """
        params: dict[str, Any] = {"limit": _page_size(page_size, MAX_PAGE_LIMIT), "status": status}
        params |= _members_of(tag_ids, list_ids)
        if include:
            params["include"] = ",".join(include)
        if updated_after is not None:
            from datetime import UTC

            moment = updated_after.astimezone(UTC)
            millis = moment.microsecond // 1000
            params["updated_after"] = f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"
        if email is not None:
            params["email"] = email.strip().lower()
        if include_count:
            params["include_count"] = "true"
        return self._pages("/contacts", params, page_model)

    def iter_members(
        self, *, tag_id: str | None = None, list_id: str | None = None, status: str = "all"
    ) -> Iterator[ContactPage]:
        """The contacts carrying one tag or on one list, 500 a call, each with its taggings and
        list memberships (one id at a time: the contract does not say whether several mean
        any or all)."""
        return self.iter_contact_pages(
            status=status,
            tag_ids=[tag_id] if tag_id else (),
            list_ids=[list_id] if list_id else (),
            include=CONTACT_MEMBERSHIPS,
        )


def _page_size(value: int, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise LimitError(f"A page holds 1 to {maximum} items, not {value}")
    return value


def _members_of(tag_ids: Sequence[str], list_ids: Sequence[str]) -> dict[str, str]:
    """GET /contacts narrowed to members of these tags or lists, their limits checked first."""
    params: dict[str, str] = {}
    if tag_ids:
        _check_query_ids(tag_ids, MAX_TAGS_PER_CONTACT_QUERY, "tags")
        params["tags"] = ",".join(tag_ids)
    if list_ids:
        _check_query_ids(list_ids, MAX_LISTS_PER_CONTACT_QUERY, "lists")
        params["lists"] = ",".join(list_ids)
    return params


def _check_query_ids(ids: Sequence[str], limit: int, what: str) -> None:
    if len(ids) > limit:
        raise LimitError(
            f"Asking for contacts takes at most {limit} {what} at once; {len(ids)} is "
            f"{len(ids) - limit} over"
        )


_PageT = TypeVar("_PageT", TagPage, ContactListPage, ContactPage, ActivityPage)


def _next_href(page: TagPage | ContactListPage | ContactPage | ActivityPage) -> str | None:
    links = page.links
    if links is None or links.next is None:
        return None
    return links.next.href or None
