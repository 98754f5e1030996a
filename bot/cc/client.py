"""The one Constant Contact client: HTTP and the V3 schema, nothing about Slack.

`CCApi` is shared per API key (one httpx.Client, one rate limiter for every account);
`AccountClient` is that API bound to one account's tokens: `api.for_account(tokens)`.

Retry policy:
- every request waits for the key's rate limiter first;
- 429 `throttled` holds every caller of the key back (Retry-After, else exponential backoff) and
  is retried, even for POSTs: a throttled request was not processed;
- 429 `quota_exceeded` and the 1,000-queued-activities 429 are raised at once;
- GET, PUT and DELETE retry 5xx, timeouts and transport errors with backoff, a bounded number
  of times;
- a POST that starts an activity is never retried blindly: when its answer is lost (a timeout or
  transport error after the request may have been sent, or a 5xx), `_reconcile` asks the recent
  activities whether it started;
- a 401 gets one refresh of the account's token and one retry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from bot.cc.errors import (
    CCError,
    RateLimited,
    ServerError,
    Timeout,
    TransportError,
    error_for,
)
from bot.cc.models import (
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

MAX_LISTS_PER_CONTACT_QUERY = 25
MAX_TAGS_PER_CONTACT_QUERY = 50
# How far the API's clock may be behind ours when matching a lost POST to its activity.
CLOCK_SKEW = timedelta(seconds=5)
# 429s that waiting a moment does not cure.
_NOT_TRANSIENT_429 = {"quota_exceeded", "too_many_queued_activities"}


class AmbiguousActivity(CCError):
    """A lost POST answer matched several recent activities: nobody can tell which is ours."""

    def __init__(self, candidates: list[Activity]) -> None:
        ids = ", ".join(a.activity_id for a in candidates)
        super().__init__(
            "Constant Contact did not answer in time, and several activities started just then "
            f"({ids}); check them before trying again"
        )
        self.candidates = candidates


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

    def for_account(self, tokens: TokenSource) -> AccountClient:
        return AccountClient(self, tokens)

    def close(self) -> None:
        self._http.close()

    def url(self, path_or_href: str) -> str:
        """An endpoint path ("/contact_tags") or a `_links` href ("/v3/contact_tags?cursor=...")."""
        if path_or_href.startswith(("http://", "https://")):
            return path_or_href
        if path_or_href.startswith("/v3/"):
            return self._origin + path_or_href
        return self.base_url + path_or_href

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

        `retry_unsafe` is True for requests that may be repeated (GET, PUT, DELETE); for the others
        a lost answer raises _AnswerLost.
        """
        content = body.model_dump(mode="json", exclude_none=True, by_alias=True) if body else None
        attempt, refreshed = 0, False
        while True:
            token = tokens.access_token()
            try:
                response = self._send(token, method, path, params, content)
            except _AnswerLost as lost:
                if not retry_unsafe or attempt >= self._max_retries:
                    raise lost if not retry_unsafe else lost.cause from None
                self._backoff(attempt)
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            if response.status_code == 401 and not refreshed:
                tokens.refresh(token)
                refreshed = True
                continue
            error = error_for(response.status_code, response.text, _retry_after(response))
            if not self._should_retry(error, attempt, retry_unsafe):
                if isinstance(error, ServerError) and not retry_unsafe:
                    raise _AnswerLost(error)
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
        except httpx.ConnectError as exc:
            # Nothing was sent: safe to retry whatever the method.
            raise _AnswerLost(TransportError(f"Cannot reach Constant Contact: {exc}")) from None
        except httpx.TimeoutException:
            raise _AnswerLost(Timeout("Constant Contact did not answer in time")) from None
        except httpx.TransportError as exc:
            raise _AnswerLost(
                TransportError(f"Connection to Constant Contact failed: {exc}")
            ) from None

    def _should_retry(self, error: CCError, attempt: int, retry_unsafe: bool) -> bool:
        if attempt >= self._max_retries:
            return False
        if isinstance(error, RateLimited):
            return error.error_key not in _NOT_TRANSIENT_429
        return isinstance(error, ServerError) and retry_unsafe

    def _wait_before_retry(self, error: CCError, attempt: int) -> None:
        if isinstance(error, RateLimited):
            self.limiter.hold_off(error.retry_after or self._backoff_seconds(attempt))
        else:
            self._backoff(attempt)

    def _backoff_seconds(self, attempt: int) -> float:
        return float(self._backoff_base * (2**attempt))

    def _backoff(self, attempt: int) -> None:
        self.clock.sleep(self._backoff_seconds(attempt))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class AccountClient:
    """Every operation cctag performs on one Constant Contact account."""

    def __init__(self, api: CCApi, tokens: TokenSource) -> None:
        self._api = api
        self._tokens = tokens
        # Activities this client started: never mistaken for a lost POST's activity.
        self._started: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self._api.request(self._tokens, "GET", path, params=params, retry_unsafe=True)

    def _pages(self, path: str, params: dict[str, Any], model: type[_PageT]) -> Iterator[_PageT]:
        page = model.model_validate(self._get(path, params).json())
        yield page
        while (href := _next_href(page)) is not None:
            page = model.model_validate(self._get(href).json())
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
            response = self._retry_post_once("/contact_tags", body, lost)
        return Tag.model_validate(response.json())

    def get_tag(self, tag_id: str, include_count: bool = False) -> Tag:
        params = {"include_count": "true"} if include_count else None
        return Tag.model_validate(self._get(f"/contact_tags/{tag_id}", params).json())

    def iter_tags(self, include_count: bool = False, page_size: int = 500) -> Iterator[Tag]:
        params: dict[str, Any] = {"limit": page_size}
        if include_count:
            params["include_count"] = "true"
        for page in self._pages("/contact_tags", params, TagPage):
            yield from page.tags

    def list_tags(self, include_count: bool = False) -> list[Tag]:
        return list(self.iter_tags(include_count=include_count))

    def find_tag_by_name(self, name: str) -> Tag | None:
        wanted = name.strip().casefold()
        return next((t for t in self.iter_tags() if t.name.casefold() == wanted), None)

    def rename_tag(self, tag_id: str, name: str) -> Tag:
        body = build(TagRename, {"name": name})
        response = self._api.request(
            self._tokens, "PUT", f"/contact_tags/{tag_id}", body=body, retry_unsafe=True
        )
        return Tag.model_validate(response.json())

    def delete_tag(self, tag_id: str) -> Activity:
        response = self._api.request(
            self._tokens, "DELETE", f"/contact_tags/{tag_id}", retry_unsafe=True
        )
        return self._remember(Activity.model_validate(response.json()))

    # ------------------------------------------------------------------ bulk activities
    def add_tags(self, request: TaggingRequest) -> Activity:
        return self._start(ActivityKind.ADD_TAGS, build(TaggingRequest, request.model_dump()))

    def remove_tags(self, request: TaggingRequest) -> Activity:
        return self._start(ActivityKind.REMOVE_TAGS, build(TaggingRequest, request.model_dump()))

    def delete_tags(self, tag_ids: Sequence[str]) -> Activity:
        body = build(TagDeleteRequest, {"tag_ids": list(tag_ids)})
        return self._start(ActivityKind.DELETE_TAGS, body)

    def add_to_lists(self, request: ListMembershipRequest) -> Activity:
        body = build(ListMembershipRequest, request.model_dump())
        return self._start(ActivityKind.ADD_TO_LISTS, body)

    def remove_from_lists(self, request: ListMembershipRequest) -> Activity:
        if getattr(request.source, "segment_id", None) is not None:
            raise LimitError("A segment cannot be the source for removing contacts from lists")
        body = build(ListMembershipRequest, request.model_dump())
        return self._start(ActivityKind.REMOVE_FROM_LISTS, body)

    def _start(self, kind: ActivityKind, body: BaseModel) -> Activity:
        path = f"/activities/{kind.value}"
        sent_at = self._api.clock.now()
        try:
            response = self._api.request(self._tokens, "POST", path, body=body, retry_unsafe=False)
        except _AnswerLost as lost:
            found = self._reconcile(sent_at)
            if found is not None:
                return self._remember(found)
            response = self._retry_post_once(path, body, lost)
        return self._remember(Activity.model_validate(response.json()))

    def _reconcile(self, sent_at: datetime) -> Activity | None:
        """Did a POST whose answer was lost start an activity?

        One GET /activities (newest first). Candidates: activities created since the POST was sent
        (less CLOCK_SKEW) that this client did not start itself. One candidate: that is ours.
        None: the POST did not start anything (the caller may send it once more). Several: we
        cannot tell (another worker started one for the same account at the same moment), so
        AmbiguousActivity is raised rather than risking a second activity. The list does not say
        which endpoint started an activity, so a lone concurrent activity of another process
        would be taken for ours: a limit of the API, accepted because two bulk requests on one
        account within seconds of a lost answer are rare.
        """
        since = sent_at - CLOCK_SKEW
        candidates = [
            activity
            for activity in self.list_activities(limit=50)
            if activity.activity_id not in self._started
            and activity.created_at is not None
            and activity.created_at >= since
        ]
        if len(candidates) > 1:
            raise AmbiguousActivity(candidates)
        return candidates[0] if candidates else None

    def _retry_post_once(self, path: str, body: BaseModel, lost: _AnswerLost) -> httpx.Response:
        try:
            return self._api.request(self._tokens, "POST", path, body=body, retry_unsafe=False)
        except _AnswerLost as again:
            raise again.cause from lost.cause

    def _remember(self, activity: Activity) -> Activity:
        self._started.add(activity.activity_id)
        return activity

    # ------------------------------------------------------------------ activities
    def get_activity(self, activity_id: str) -> Activity:
        return Activity.model_validate(self._get(f"/activities/{activity_id}").json())

    def list_activities(
        self, limit: int = 50, state: ActivityStateFilter | None = None
    ) -> list[Activity]:
        if not 1 <= limit <= 500:
            raise LimitError(f"limit must be from 1 to 500, not {limit}")
        params: dict[str, Any] = {"limit": limit}
        if state is not None:
            params["state"] = state
        return ActivityPage.model_validate(self._get("/activities", params).json()).activities

    # ------------------------------------------------------------------ contact lists
    def iter_lists(
        self, include_membership_count: bool = False, page_size: int = 500
    ) -> Iterator[ContactList]:
        params: dict[str, Any] = {"limit": page_size}
        if include_membership_count:
            params["include_membership_count"] = "all"
        for page in self._pages("/contact_lists", params, ContactListPage):
            yield from page.lists

    def list_lists(self, include_membership_count: bool = False) -> list[ContactList]:
        return list(self.iter_lists(include_membership_count=include_membership_count))

    def find_list_by_name(self, name: str) -> ContactList | None:
        params = {"name": name, "include_membership_count": "all"}
        page = ContactListPage.model_validate(self._get("/contact_lists", params).json())
        return next((found for found in page.lists if found.name == name), None)

    # ------------------------------------------------------------------ contacts
    def find_contact_by_email(self, email: str) -> Contact | None:
        params = {"email": email.strip(), "status": "all", "limit": 1}
        page = ContactPage.model_validate(self._get("/contacts", params).json())
        return page.contacts[0] if page.contacts else None

    def count_contacts(
        self,
        *,
        list_ids: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        status: str | None = None,
    ) -> int:
        """How many contacts a selection touches (for previews): one call, limit=1."""
        params: dict[str, Any] = {"include_count": "true", "limit": 1}
        if list_ids:
            _check_query_ids(list_ids, MAX_LISTS_PER_CONTACT_QUERY, "lists")
            params["lists"] = ",".join(list_ids)
        if tag_ids:
            _check_query_ids(tag_ids, MAX_TAGS_PER_CONTACT_QUERY, "tags")
            params["tags"] = ",".join(tag_ids)
        if status:
            params["status"] = status
        page = ContactPage.model_validate(self._get("/contacts", params).json())
        return page.contacts_count or 0


def _check_query_ids(ids: Sequence[str], limit: int, what: str) -> None:
    if len(ids) > limit:
        raise LimitError(
            f"Counting contacts takes at most {limit} {what} at once; {len(ids)} is "
            f"{len(ids) - limit} over"
        )


_PageT = TypeVar("_PageT", TagPage, ContactListPage, ContactPage, ActivityPage)


def _next_href(page: TagPage | ContactListPage | ContactPage | ActivityPage) -> str | None:
    links = page.links
    if links is None or links.next is None:
        return None
    return links.next.href or None
