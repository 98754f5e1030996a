"""The one Constant Contact client: HTTP and the V3 schema, nothing about Slack.

`CCApi` is shared per API key (one httpx.Client, one rate limiter for every account);
`AccountClient` is that API bound to one account's tokens: `api.for_account(tokens)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx

from bot.cc.models import (
    Activity,
    ActivityStateFilter,
    Contact,
    ContactList,
    ListMembershipRequest,
    Tag,
    TaggingRequest,
)
from bot.cc.ports import RateLimiter, TokenSource
from bot.clock import SYSTEM_CLOCK, Clock


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
        raise NotImplementedError

    def for_account(self, tokens: TokenSource) -> AccountClient:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class AccountClient:
    """Every operation cctag performs on one Constant Contact account."""

    # --- tags
    def create_tag(self, name: str, tag_source: str | None = None) -> Tag: ...
    def get_tag(self, tag_id: str, include_count: bool = False) -> Tag: ...
    def iter_tags(self, include_count: bool = False, page_size: int = 500) -> Iterator[Tag]: ...
    def list_tags(self, include_count: bool = False) -> list[Tag]: ...
    def rename_tag(self, tag_id: str, name: str) -> Tag: ...
    def delete_tag(self, tag_id: str) -> Activity: ...

    # --- bulk activities (POSTs that start an activity: never retried blindly)
    def add_tags(self, request: TaggingRequest) -> Activity: ...
    def remove_tags(self, request: TaggingRequest) -> Activity: ...
    def delete_tags(self, tag_ids: Sequence[str]) -> Activity: ...
    def add_to_lists(self, request: ListMembershipRequest) -> Activity: ...
    def remove_from_lists(self, request: ListMembershipRequest) -> Activity: ...

    # --- activities
    def get_activity(self, activity_id: str) -> Activity: ...
    def list_activities(
        self, limit: int = 50, state: ActivityStateFilter | None = None
    ) -> list[Activity]: ...

    # --- contact lists
    def iter_lists(
        self, include_membership_count: bool = False, page_size: int = 500
    ) -> Iterator[ContactList]: ...
    def list_lists(self, include_membership_count: bool = False) -> list[ContactList]: ...
    def find_list_by_name(self, name: str) -> ContactList | None: ...

    # --- contacts
    def find_contact_by_email(self, email: str) -> Contact | None: ...
    def count_contacts(
        self,
        *,
        list_ids: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        status: str | None = None,
    ) -> int: ...
